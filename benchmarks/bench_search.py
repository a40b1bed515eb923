"""Issue 6's targets: search latency with all facets, and indexing time, on each backend.

Run: ``.venv/bin/python -m benchmarks.bench_search [--records 100000] [--backends sqlite]``
and, for the large comparison, ``--records 1000000 --backends postgresql,opensearch
--database-url postgresql+psycopg://... [--opensearch-url http://...]``.

For each backend it loads the deterministic demo set (or reuses a database that already holds
``--records`` records with ``--reuse``), times a full rebuild of the index, then runs the same
queries (words, phrases, prefixes, fields, year ranges, facet filters, browsing everything, a
deep cursor page), each with every facet counted, and prints per-query medians side by side with
the overall median and p95. Targets: SQLite at 100,000 records median < 50 ms, p95 < 150 ms,
indexing < 60 s; PostgreSQL and OpenSearch at 1,000,000 records median < 100 ms. Without
``--opensearch-url`` the OpenSearch backend is osmem-server on a free local port (the in-memory
stand-in: its figures say little about a real cluster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from repository import migrate
from repository.db import make_engine
from repository.demo import load_demo
from repository.models import Publication, SearchDocument
from repository.search import embedded_backend, facet_bits
from repository.search.indexer import index_all
from repository.search.service import Backend, plan

QUERIES: list[tuple[str, dict[str, Any], str | None]] = [
    ("", {}, None),  # browse everything, newest first
    ("health", {}, None),
    ("ålgräs", {}, None),
    ("ostersjon", {}, None),
    ("deep learning", {}, None),
    ('"language change"', {}, None),
    ("heal*", {}, None),
    ("title:railways", {}, None),
    ("author:lindström", {}, None),
    ("author:andersson birds", {}, None),
    ("subject:ecology", {}, None),
    ("health -welfare", {}, None),
    ("protein OR nuclear", {}, None),
    ("year:2019..2021 groundwater", {}, None),
    ("", {"type": ["dok"]}, None),
    ("", {"unit": ["uu:teknat"], "oa": ["true"]}, None),
    ("welfare", {"type": ["art"], "language": ["eng"]}, "title"),
    ("", {"subject": ["1"]}, "title"),
    ("10.5555/hylla.4242", {}, None),
    ("meadows", {"year": ["2022"]}, "oldest"),
]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def run_queries(backend: Backend, repeat: int) -> dict[str, list[float]]:
    """Every query ``repeat`` times (after one warm-up pass), all facets counted, one page of 20."""
    results: dict[str, list[float]] = {}
    backend.search(plan("", {}, size=1, facets=False))  # large embedded indexes start building their bitsets
    facet_bits.wait_for_builds()  # (in a thread) before the warm-up, which then counts from them
    for q, filters, sort in QUERIES:
        backend.search(plan(q, filters, sort=sort))
    deep_cursor = None
    first = backend.search(plan("", {}, sort="title", size=200, facets=False))
    deep_cursor = first.next_cursor
    for _ in range(20):  # walk 4,000 records deep for the cursor query
        if deep_cursor is None:
            break
        deep_cursor = backend.search(plan("", {}, sort="title", size=200, cursor=deep_cursor, facets=False)).next_cursor
    for _ in range(repeat):
        for q, filters, sort in QUERIES:
            key = f"{q or '*'} {filters or ''} {sort or ''}".strip()
            seconds, _ = timed(lambda: backend.search(plan(q, filters, sort=sort)))
            results.setdefault(key, []).append(seconds)
        if deep_cursor:
            seconds, _ = timed(lambda: backend.search(plan("", {}, sort="title", cursor=deep_cursor)))
            results.setdefault("* (title order, page after 4,000)", []).append(seconds)
    return results


def prepare_database(url: str, records: int, reuse: bool) -> tuple[float | None, float, float]:
    """Load the demo set (unless reusing) and index it; (load s without indexing, index s, index CPU s).

    The demo loader indexes as it loads; here that step is held back (``index=False``) so indexing is timed on
    its own, from an empty index (reusing a database times a rebuild that finds nothing changed).
    """
    migrate.upgrade(url)
    engine = make_engine(url)
    load_seconds = None
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Publication)).scalar_one()
        if not (reuse and have >= records):
            if have:
                raise SystemExit(f"{url} already holds {have} records; use an empty database or --reuse")
            load_seconds, _ = timed(lambda: load_demo(conn, records, index=False))
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE"))
                conn.commit()
        cpu = time.process_time()
        index_seconds, _ = timed(lambda: index_all(conn))
        index_cpu = time.process_time() - cpu
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE search_documents"))
            conn.execute(text("ANALYZE search_values"))
            conn.commit()
    engine.dispose()
    return load_seconds, index_seconds, index_cpu


def prepare_existing(url: str) -> None:
    """Take a database as it is (``--existing``): no migration, no index rebuild, no ANALYZE, so a
    shared benchmark database is only read. Says how many records it holds instead."""
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Publication)).scalar_one()
    engine.dispose()
    print(f"{url}: {have:,} records, used as they are")


def summary(name: str, times: dict[str, list[float]]) -> dict[str, float]:
    everything = sorted(t for ts in times.values() for t in ts)
    p95 = everything[min(len(everything) - 1, int(len(everything) * 0.95))]
    return {"median": statistics.median(everything) * 1000, "p95": p95 * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql, opensearch")
    parser.add_argument("--database-url", help="the PostgreSQL database for postgresql (and opensearch's source)")
    parser.add_argument("--sqlite-path", help="SQLite file to use (default: a temporary one)")
    parser.add_argument("--opensearch-url", help="default: osmem-server on a free local port")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="reuse a database that already holds the records")
    parser.add_argument("--existing", action="store_true",
                        help="search a loaded and indexed database as it is, read only (no rebuild, no ANALYZE)")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    report: dict[str, dict[str, list[float]]] = {}
    notes: list[str] = ["load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{args.sqlite_path or Path(tmp) / 'bench.sqlite3'}"
        sql_url = args.database_url if "postgresql" in backends or (args.database_url and "opensearch" in backends) \
            else sqlite_url
        for name in backends:
            if name in ("sqlite", "postgresql"):
                url = sqlite_url if name == "sqlite" else args.database_url
                if not url:
                    raise SystemExit("--database-url is needed for the postgresql backend")
                if args.existing:
                    prepare_existing(url)
                    load, index, index_cpu = None, None, 0.0
                else:
                    load, index, index_cpu = prepare_database(url, args.records, args.reuse)
                if load is not None and index is not None:
                    notes.append(f"{name}: demo load of {args.records:,} records without indexing {load:.1f} s")
                    notes.append(f"{name}: demo load with indexing would be {args.records / (load + index):,.0f} "
                                 f"records/s")
                if index is not None:
                    notes.append(f"{name}: {'indexing' if load is not None else 'rebuild (unchanged)'} of "
                                 f"{args.records:,} records {index:.1f} s wall, {index_cpu:.1f} s CPU in this "
                                 f"process ({args.records / index:,.0f} records/s)")
                engine = make_engine(url)
                with Session(engine) as session:
                    indexed = session.scalar(select(func.count()).select_from(SearchDocument))
                    notes.append(f"{name}: {indexed:,} public records indexed")
                    report[name] = run_queries(embedded_backend(session), args.repeat)
                engine.dispose()
            elif name == "opensearch":
                report[name], note = _opensearch(sql_url, args, tmp)
                notes.append(note)
            else:
                raise SystemExit(f"unknown backend {name!r}")

    print(f"\nSearch latency, {args.records:,} records, ms (median of {args.repeat} runs, all facets counted)")
    keys = list(next(iter(report.values())))
    print(f"{'query':58}" + "".join(f"{b:>14}" for b in report))
    for key in keys:
        print(f"{key[:58]:58}" + "".join(f"{statistics.median(report[b].get(key, [0])) * 1000:14.1f}" for b in report))
    for name, times in report.items():
        s = summary(name, times)
        print(f"{name}: median {s['median']:.1f} ms, p95 {s['p95']:.1f} ms over {sum(map(len, times.values()))} searches")
    for note in notes:
        print(note)
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
          + f" on {os.cpu_count()} cores: other work on the machine slows every figure above")


def _opensearch(sql_url: str, args: argparse.Namespace, tmp: str) -> tuple[dict[str, list[float]], str]:
    from repository.search.opensearch import OpenSearchIndex, client_for

    server = None
    url = args.opensearch_url
    if not url:
        from osmem_server import OsmemServer

        server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
        url = server.url
    try:
        if not args.existing:
            prepare_database(sql_url, args.records, True)  # the SQL source, loaded once
        index = OpenSearchIndex(client_for(url, timeout=300), "hylla-bench")
        engine = make_engine(sql_url)
        with engine.connect() as conn:
            seconds, indexed = timed(lambda: index.reindex(conn, batch_size=5000))
        engine.dispose()
        note = (f"opensearch ({'osmem-server' if server else url}): reindex of {indexed:,} public records "
                f"{seconds:.1f} s ({indexed / seconds:,.0f} records/s)")
        return run_queries(index.backend(), args.repeat), note
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
