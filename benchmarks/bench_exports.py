"""The text exports and formatted references at list scale: medians of several runs, and ratios.

Run: ``.venv/bin/python -m benchmarks.bench_exports [--records 10000] [--runs 5] [--styles apa ieee]``.

- BibTeX, RIS, CSL-JSON, CSV: seconds to stream ``--records`` varied records through
  ``render_many`` (median of ``--runs``), and the peak of Python allocations while streaming 1,000
  and ``--records`` records, whose ratio stays near 1 for a streaming writer (BibTeX keeps the
  keys it has handed out, a few bytes a record).
- References: entries per second for the whole list in one bibliography (median of three runs),
  and the ratio to rendering records one by one: with plain citeproc-py (parse the style, build
  a bibliography, render; what a per-record "cite this" does) and with ``format_citation`` (the
  parsed style cached, still a new bibliography per record).

Times are medians of wall-clock and of CPU seconds: on a shared machine the wall clock also
counts the time other processes had the CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import itertools
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from exports import bibtex, citations, csljson, csv_export, ris
from exports.readmodel import Identifier, PartialDate, Publication, Title
from tests.samples import all_samples

DAY = dt.date(2024, 3, 1)
WORDS = ("eelgrass", "Baltic", "protein", "membrane", "harvesting", "infrastructure", "open", "science",
         "Sweden", "climate", "model", "survey", "library", "catalogue", "OAI-PMH", "review")
FAMILIES = ("Öberg", "Smith", "Lindström", "Nguyen", "Karlsson", "Ek", "Berg", "Kim", "Åström", "García")

WRITERS: dict[str, Callable[[Iterator[Publication]], Iterator[bytes]]] = {
    "bibtex": bibtex.render_many,
    "ris": lambda pubs: ris.render_many(pubs, today=DAY),
    "csl-json": csljson.render_many,
    "csv": lambda pubs: csv_export.render_many(pubs, today=DAY),
}


def publications(count: int) -> Iterator[Publication]:
    """``count`` distinct records made from the samples: other ids, titles, names, years and DOIs."""
    for n, sample in zip(range(count), itertools.cycle(all_samples())):
        words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(3 + n % 5)]
        people = tuple(
            dataclasses.replace(c, family=f"{FAMILIES[(n + i) % len(FAMILIES)]}{n % 97}")
            if c.family else c
            for i, c in enumerate(sample.contributors)
        )
        doi = (Identifier("doi", f"10.5555/hylla.{n}"),)
        yield dataclasses.replace(
            sample, id=str(n), titles=(Title(f"{words[0].capitalize()} {' '.join(words[1:])} {n}",
                                             sample.title.subtitle, sample.title.lang),) + sample.titles[1:],
            contributors=people, issued=PartialDate(1990 + n % 35, sample.issued.month if sample.issued else None),
            identifiers=tuple(i for i in sample.identifiers if i.scheme != "doi") + doi,
        )


def stream(name: str, count: int) -> int:
    return sum(len(chunk) for chunk in WRITERS[name](publications(count)))


def peak_allocated(work: Callable[[], object]) -> int:
    """The peak of Python allocations (tracemalloc) while ``work`` runs, in bytes."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def median_seconds(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``runs`` runs of ``work``."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench_formats(count: int, runs: int) -> None:
    print(f"Text exports, {count:,} records, median of {runs} runs")
    for name in WRITERS:
        size = stream(name, count)
        wall, cpu = median_seconds(functools.partial(stream, name, count), runs)
        small = peak_allocated(functools.partial(stream, name, 1_000))
        large = peak_allocated(functools.partial(stream, name, count))
        print(f"  {name:9} {wall:6.2f} s wall, {cpu:6.2f} s CPU ({count / cpu:6.0f} records/s)  "
              f"output {size / 1e6:5.1f} MB  peak memory {small / 1e6:5.2f} MB at 1,000, "
              f"{large / 1e6:5.2f} MB at {count:,} (ratio {large / small:.2f})")


def plain_citeproc_one_by_one(pubs: list[Publication], style: str) -> None:
    """Each record the way a per-record "cite this" uses citeproc-py: parse, register, render."""
    for pub in pubs:
        item = csljson.to_csl(pub)
        parsed = CitationStylesStyle(citations.csl_file(style), locale="en-US", validate=False)
        bibliography = CitationStylesBibliography(parsed, CiteProcJSON([item]), formatter.html)
        bibliography.register(Citation([CitationItem(item["id"])]))
        bibliography.bibliography()


def cached_one_by_one(pubs: list[Publication], style: str) -> None:
    for pub in pubs:
        citations.format_citation(pub, style)


def bench_citations(count: int, styles: list[str], one_by_one: int) -> None:
    pubs = list(publications(count))
    sample = pubs[:one_by_one]
    print(f"References, {count:,} records in one bibliography (median of 3 runs); "
          f"one by one measured on {one_by_one} records")
    for style in styles:
        citations.format_bibliography(pubs[:10], style)  # parse and warm the cache once
        bulk_wall, bulk_cpu = median_seconds(functools.partial(citations.format_bibliography, pubs, style), 3)
        cached = one_by_one / median_seconds(functools.partial(cached_one_by_one, sample, style), 3)[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # citeproc-py warns of each CSL-JSON key it does not read
            plain = one_by_one / median_seconds(functools.partial(plain_citeproc_one_by_one, sample, style), 3)[1]
        bulk = count / bulk_cpu
        print(f"  {style:28} {count / bulk_wall:5.0f} entries/s wall, {bulk:5.0f}/s CPU in one list; "
              f"one by one (CPU): {cached:5.0f}/s with the cached style (x{bulk / cached:.1f}), "
              f"{plain:4.0f}/s with plain citeproc-py (x{bulk / plain:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--styles", nargs="+", default=sorted(citations.STYLES), choices=sorted(citations.STYLES))
    parser.add_argument("--one-by-one", type=int, default=200, help="records rendered one by one for the ratio")
    parser.add_argument("--skip-formats", action="store_true")
    parser.add_argument("--skip-citations", action="store_true")
    args = parser.parse_args()
    if not args.skip_formats:
        bench_formats(args.records, args.runs)
    if not args.skip_citations:
        bench_citations(args.records, args.styles, args.one_by_one)


if __name__ == "__main__":
    main()
