"""Issue 7's targets: harvest -> parse -> validate -> dedup -> store rate, its ratio to sickle, and dedup scaling.

Run: ``.venv/bin/python -m benchmarks.bench_harvest [--records 1000000] [--page-size 500]``.

A local OAI-PMH server (its own process, so it has its own core) streams synthetic swepub_mods
records generated on the fly from the record number (deterministic, any page at any time). About
one record in ten is the same paper reported by a second institution (same DOI), and one in twenty
a fuzzy duplicate without a DOI. The harvester takes the whole feed into a new SQLite file with
the default parser (MODS XSD verdict included), the quality checks, deduplication and the store,
and the script prints records/s (target > 2,000), then sickle merely iterating over the same feed,
and the in-memory clustering time at 100,000 and 1,000,000 synthetic records.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from stdnum import issn as stdnum_issn
from stdnum.iso7064 import mod_11_2

from harvest import dedup, store
from harvest.client import ClientSettings
from harvest.models import HarvestBase, Work
from harvest.run import HarvestOptions, harvest_source
from harvest.store import DedupRecord
from repository.db import make_engine

INSTITUTIONS = ("kth", "uu", "lu", "gu", "su", "umu", "liu", "chalmers", "ltu", "mdh", "oru", "kau")
WORDS = ("eelgrass meadows baltic sea climate adaptation citation normalization bibliometric impact urban "
         "mobility quantum transport catalysis membrane protein folding machine learning fairness policy "
         "labour market migration welfare forest carbon sequestration battery electrode polymer solar cell "
         "reading comprehension pupils mathematics teaching dementia care nursing homes sleep adolescents").split()
FAMILIES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
            "Svensson", "Gustafsson", "Öberg", "Åström", "Lindqvist", "Bergström", "Lundgren", "Holm")
GIVEN = ("Anna", "Erik", "Maria", "Lars", "Karin", "Per", "Åsa", "Björn", "Elin", "Johan")
ISSNS = tuple(stdnum_issn.format(f"{n:07d}" + stdnum_issn.calc_check_digit(f"{n:07d}")) for n in range(1000100, 1000400))

RECORD = """<record><header><identifier>oai:bench.example.org:{n}</identifier><datestamp>2024-05-01T10:00:00Z</datestamp><setSpec>{inst}</setSpec></header><metadata><mods xmlns="http://www.loc.gov/mods/v3" xmlns:xlink="http://www.w3.org/1999/xlink" version="3.7"><genre authority="svep" type="contentType">ref</genre><genre authority="svep" type="publicationType">art</genre><genre authority="kb.se" type="outputType">publication/journal-article</genre>{names}<titleInfo lang="eng"><title>{title}</title></titleInfo><language><languageTerm type="code" authority="iso639-2b">eng</languageTerm></language><originInfo><dateIssued>{year}</dateIssued></originInfo><identifier type="uri">http://urn.kb.se/resolve?urn=urn:nbn:se:{inst}:diva-{n}</identifier>{doi}<subject lang="eng" authority="uka.se" xlink:href="{subject}"><topic>Subject</topic></subject><abstract lang="eng">{abstract}</abstract><relatedItem type="host"><titleInfo><title>Journal of {journal}</title></titleInfo><identifier type="issn">{issn}</identifier><part><detail type="volume"><number>{volume}</number></detail><extent><start>{page}</start><end>{page_end}</end></extent></part></relatedItem><note type="publicationStatus" lang="eng">Published</note><recordInfo><recordContentSource>{inst}</recordContentSource></recordInfo></mods></metadata></record>"""
NAME = """<name type="personal" authority="{inst}" xlink:href="p{pid}"><namePart type="family">{family}</namePart><namePart type="given">{given}</namePart><role><roleTerm type="code" authority="marcrelator">aut</roleTerm></role><nameIdentifier type="orcid">{orcid}</nameIdentifier><affiliation authority="kb.se" valueURI="{inst}.se">{inst_name}</affiliation></name>"""
SUBJECTS = ("10201", "10501", "20205", "30302", "50302", "50805", "10301", "20903")
_POOL = random.Random(7)
ABSTRACTS = tuple(" ".join(_POOL.choices(WORDS, k=40)) for _ in range(997))  # drawn once: generation stays cheap


def _orcid(n: int) -> str:
    base = f"0000000{n % 10**8:08d}"
    digits = base + mod_11_2.calc_check_digit(base)
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


ORCIDS = tuple(_orcid(n) for n in range(4999))


def synthetic_record(n: int) -> str:
    """Record ``n`` of the feed. In each ten, record 1 is record 0's paper from another institution
    (same DOI), and record 2 is record 3's paper without a DOI and with a word left out of the title."""
    paper = {1: n - 1, 2: n + 1}.get(n % 10, n)
    rng = random.Random(paper)
    inst = INSTITUTIONS[(n * 7) % len(INSTITUTIONS)]
    words = rng.choices(WORDS, k=6 + paper % 7)
    if n % 10 == 2:
        del words[len(words) // 2]
    authors = []
    for family, given, pid in zip(rng.choices(FAMILIES, k=1 + paper % 4), rng.choices(GIVEN, k=4),
                                  rng.choices(range(1, 5_000_000), k=4)):
        authors.append(NAME.format(inst=inst, pid=pid, family=family, given=given, orcid=ORCIDS[pid % 4999],
                                   inst_name=f"{inst.upper()} University"))
    page = 1 + paper % 900
    return RECORD.format(
        n=n, inst=inst, names="".join(authors), title=" ".join(words).capitalize() + f" {paper}",
        year=2000 + paper % 25,
        doi="" if n % 10 in (2, 3) else f'<identifier type="doi">10.5555/bench.{paper}</identifier>',
        subject=SUBJECTS[paper % len(SUBJECTS)], abstract=ABSTRACTS[paper % len(ABSTRACTS)],
        journal=WORDS[paper % len(WORDS)].capitalize(), issn=ISSNS[paper % len(ISSNS)], volume=1 + paper % 60,
        page=page, page_end=page + 5 + paper % 25)


def _page(total: int, start: int, size: int) -> bytes:
    end = min(start + size, total)
    token = f'<resumptionToken completeListSize="{total}" cursor="{start}">{end}</resumptionToken>' if end < total else ""
    body = "".join(synthetic_record(n) for n in range(start, end))
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f'<responseDate>2024-05-02T00:00:00Z</responseDate><request>http://127.0.0.1/oai</request>'
            f'<ListRecords>{body}{token}</ListRecords></OAI-PMH>').encode()


IDENTIFY = (b'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b'<responseDate>2024-05-02T00:00:00Z</responseDate><request>http://127.0.0.1/oai</request><Identify>'
            b'<repositoryName>Bench</repositoryName><baseURL>http://127.0.0.1/oai</baseURL><protocolVersion>2.0'
            b'</protocolVersion><adminEmail>a@example.org</adminEmail><earliestDatestamp>2000-01-01T00:00:00Z'
            b'</earliestDatestamp><deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ'
            b'</granularity></Identify></OAI-PMH>')


def serve(port: int, total: int, size: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            params = dict(parse_qsl(urlsplit(self.path).query))
            if params.get("verb") == "Identify":
                body = IDENTIFY
            else:
                body = _page(total, int(params.get("resumptionToken", "0")), size)
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    httpd.serve_forever()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_end_to_end(url: str, total: int, tmp: Path, workers: int) -> tuple[float, dict[str, int]]:
    engine = make_engine(f"sqlite:///{tmp / 'harvest.sqlite3'}")
    HarvestBase.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions.begin() as s:
        store.add_source(s, "bench", url, "swepub_mods")
    started, cpu_before, own_before = time.perf_counter(), _cpu_seconds(), time.process_time()
    with _timed(dedup, "refresh") as refresh_seconds:
        report = harvest_source(sessions, "bench", HarvestOptions(client=ClientSettings(timeout=300, min_interval=0),
                                                                       workers=workers))
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    own = time.process_time() - own_before
    with sessions() as s:
        works = s.scalar(select(func.count()).select_from(Work)) or 0
    engine.dispose()
    c = report.counts
    if report.status != "succeeded":
        raise SystemExit(f"the benchmark harvest did not succeed: {report.message}")
    # The storing process's own share tells how the look-ahead (workers > 1) splits the work.
    return seconds, {"added": c.added, "rejected": c.rejected, "works": works, "pages": report.pages,
                     "harvester_cpu_seconds": round(cpu, 1), "storing_process_cpu_seconds": round(own, 1),
                     "dedup_seconds": round(sum(refresh_seconds), 1),
                     "cpu_us_per_record": round(cpu / total * 1e6)}


@contextlib.contextmanager
def _timed(module: object, name: str) -> Iterator[list[float]]:
    """Wall seconds spent in each call of ``module.name`` while the block runs: how much of a run the
    dedup refresh after the last page takes (it runs when the look-ahead has ended)."""
    spent: list[float] = []
    real = getattr(module, name)

    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    setattr(module, name, timed)
    try:
        yield spent
    finally:
        setattr(module, name, real)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the parsing workers): on a shared machine
    records per CPU-second says more than the wall clock."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_sickle(url: str, total: int) -> tuple[float, float]:
    """Wall and CPU seconds for sickle merely iterating the feed (its parse-only time is the floor)."""
    from sickle import Sickle

    started, cpu_before = time.perf_counter(), time.process_time()
    seen = sum(1 for _ in Sickle(url, max_retries=0).ListRecords(metadataPrefix="swepub_mods"))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    if seen != total:
        raise SystemExit(f"sickle saw {seen} records, expected {total}")
    return seconds, cpu


def synthetic_dedup_records(count: int) -> list[DedupRecord]:
    """Features as the harvester stores them, for clustering alone; duplicates as in the feed."""
    out = []
    for n in range(count):
        paper = n - 1 if n % 10 == 1 else n
        rng = random.Random(paper)
        title = dedup.normalise_text(" ".join(rng.choices(WORDS, k=6 + paper % 7)) + f" {paper}")
        dois = [f"10.5555/bench.{paper}"] if n % 10 not in (2, 3) else []
        feats = {"t": title, "y": 2000 + paper % 25, "a": dedup.normalise_text(rng.choice(FAMILIES)),
                 "ids": [f"doi:{d}" for d in dois], "doi": dois, "issn": [ISSNS[paper % len(ISSNS)]], "g": False,
                 "n": str(paper), "c": 20, "inst": INSTITUTIONS[n % len(INSTITUTIONS)]}
        out.append(DedupRecord(n, "bench", feats, dedup.blocking_keys(feats)))
    return out


def bench_dedup(count: int, repeat: int) -> float:
    records = synthetic_dedup_records(count)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        dedup.cluster(records)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the feed (default 1,000,000)")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--dedup-sizes", default="100000,1000000", help="comma-separated record counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the median is printed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="judging processes; above 1 the harvester judges pages ahead in a second process")
    parser.add_argument("--skip-harvest", action="store_true")
    args = parser.parse_args()

    if not args.skip_harvest:
        port = _free_port()
        ready = multiprocessing.Event()
        server = multiprocessing.Process(target=serve, args=(port, args.records, args.page_size, ready), daemon=True)
        server.start()
        ready.wait(10)
        url = f"http://127.0.0.1:{port}/oai"
        load_at_start = os.getloadavg()[0]
        try:
            runs, sickle_runs, sickle_cpu = [], [], []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    seconds, summary = bench_end_to_end(url, args.records, Path(tmp), args.workers)
                runs.append(seconds)
                wall, cpu = bench_sickle(url, args.records)
                sickle_runs.append(wall)
                sickle_cpu.append(cpu)
        finally:
            server.terminate()
        ours, theirs = statistics.median(runs), statistics.median(sickle_runs)
        print(f"end to end (harvest, parse, validate, dedup, store; SQLite): {args.records} records in "
              f"{ours:.1f} s = {args.records / ours:.0f} records/s (target > 2,000) with {args.workers} "
              f"judging processes; {summary}; {args.records / summary['harvester_cpu_seconds']:.0f} records "
              f"per CPU-second; load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
              f"on {os.cpu_count()} cores")
        theirs_cpu = statistics.median(sickle_cpu)
        print(f"sickle iterating the same feed: {theirs:.1f} s = {args.records / theirs:.0f} records/s, "
              f"{theirs_cpu:.1f} CPU-seconds; ratio ours/sickle = {ours / theirs:.2f}x the wall time, "
              f"{summary['harvester_cpu_seconds'] / theirs_cpu:.2f}x the CPU time")
    for size in (int(s) for s in args.dedup_sizes.split(",") if s):
        seconds = bench_dedup(size, args.repeat)
        print(f"dedup clustering of {size} synthetic records: {seconds:.1f} s ({size / seconds:.0f} records/s)")


if __name__ == "__main__":
    main()
