"""The XML exports at list scale: records per second and peak memory of render_many at 1,000 and 100,000 records.

Run: ``.venv/bin/python -m benchmarks.bench_xml_exports [--records 100000] [--formats mods oai_dc ...]``.
Prints, per format, the median throughput of three runs (records/s, MB/s of output) and the
peak resident memory of a fresh process that streams 1,000 records and one that streams
``--records`` records. Resident memory counts libxml2's own allocations, which tracemalloc does
not see; a streaming writer keeps the two peaks about equal, since it holds one record at a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

from exports.readmodel import Identifier, Publication
from exports.registry import get_format
from tests.samples import all_samples

DAY = dt.date(2024, 3, 1)
XML_FORMATS = ("mods", "swepub_mods", "oai_dc", "dc", "datacite")


def publications(count: int) -> Iterator[Publication]:
    """``count`` distinct records made from the samples, each with the URI swepub_mods needs."""
    samples = all_samples()
    for n, sample in zip(range(count), itertools.cycle(samples)):
        uri = Identifier("uri", f"https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-{n}")
        yield dataclasses.replace(sample, id=str(n), identifiers=sample.identifiers + (uri,))


def stream(name: str, count: int) -> int:
    """Write ``count`` records in format ``name``, dropping the chunks; the number of bytes written."""
    return sum(len(chunk) for chunk in get_format(name).render_many(publications(count), today=DAY))


def peak_rss_mb(name: str, count: int) -> float:
    """Peak resident memory (MB) of a new interpreter that imports everything and streams ``count`` records."""
    code = ("import resource, sys; from benchmarks.bench_xml_exports import stream; "
            f"stream({name!r}, {count}); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=list(XML_FORMATS), choices=XML_FORMATS)
    args = parser.parse_args()
    for name in args.formats:
        timings, size = [], 0
        for _ in range(3):
            started = time.perf_counter()
            size = stream(name, args.records)
            timings.append(time.perf_counter() - started)
        seconds = statistics.median(timings)
        small, large = peak_rss_mb(name, 1_000), peak_rss_mb(name, args.records)
        print(f"{name:12} {args.records / seconds:6.0f} records/s  {size / seconds / 1e6:5.1f} MB/s  "
              f"output {size / 1e6:6.1f} MB  peak RSS {small:5.1f} MB at 1,000 records, "
              f"{large:5.1f} MB at {args.records:,} (ratio {large / small:.2f})")


if __name__ == "__main__":
    main()
