"""Issue 2's targets: demo load rate on SQLite and landing-page render time at 100,000 records.

Run: ``.venv/bin/python -m benchmarks.bench_foundation [--records 100000] [--pages 300] [--loads 3]``.
Prints the load rate (target >= 2,000 records/s) and the median and p95 of landing-page renders
through the full Flask stack (target median < 20 ms), with the SQL statement count per page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import event, select

from repository import create_app, migrate
from repository.db import database
from repository.demo import load_demo
from repository.models import Publication


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--loads", type=int, default=1,
                        help="load the demo this many times, each into a new database, and report the median "
                             "(the landing pages are timed on the last)")
    args = parser.parse_args()
    if args.database_url and args.loads > 1:
        parser.error("--loads needs new databases: leave out --database-url")

    rates: list[float] = []
    for run in range(1, args.loads + 1):
        with tempfile.TemporaryDirectory() as tmp:
            if run < args.loads:
                rates.append(load(args.records, tmp, None)[0])
                continue
            rate, app = load(args.records, tmp, args.database_url)
            rates.append(rate)
            if args.loads > 1:
                print(f"demo load median of {args.loads}: {statistics.median(rates):.0f} records/s "
                      f"(each: {', '.join(f'{r:.0f}' for r in rates)}); {loadavg()}")
            landing_pages(app, args)


def loadavg() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def load(records: int, tmp: str, database_url: str | None) -> tuple[float, Flask]:
    """Migrate a database and load the demo into it: (records/s end to end, the app on it)."""
    url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                      "FILES_ROOT": str(Path(tmp) / "files")})
    with app.app_context():
        with database().engine.connect() as conn:
            started = time.perf_counter()
            summary = load_demo(conn, records, files_root=str(Path(tmp) / "files"))
            load_seconds = time.perf_counter() - started
    rate = summary.publications / load_seconds
    print(f"demo load: {summary.publications} records in {load_seconds:.1f} s = {rate:.0f} records/s end to end; "
          f"records and files alone {summary.load_seconds:.1f} s = "
          f"{summary.publications / summary.load_seconds:.0f} records/s, search index {summary.index_seconds:.1f} s "
          f"({summary.files} file rows); {loadavg()}", flush=True)
    return rate, app


def landing_pages(app: Flask, args: argparse.Namespace) -> None:
    """Median and p95 of landing-page renders of random published records, with SQL statements per page."""
    with app.app_context():
        engine = database().engine
        with engine.connect() as conn:
            ids = list(conn.scalars(select(Publication.id).where(Publication.state == "published")))
    rng = random.Random(7)
    sample = [rng.choice(ids) for _ in range(args.pages)]
    client = app.test_client()
    for pid in sample[:20]:  # warm the template cache and the connection pool
        client.get(f"/publications/{pid}")

    statements: list[int] = []
    counter = {"n": 0}

    def count(*_: object) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    timings = []
    for pid in sample:
        counter["n"] = 0
        t0 = time.perf_counter()
        response = client.get(f"/publications/{pid}")
        timings.append((time.perf_counter() - t0) * 1000)
        statements.append(counter["n"])
        assert response.status_code == 200, (pid, response.status_code)
    event.remove(engine, "before_cursor_execute", count)
    timings.sort()
    print(f"landing page over {len(timings)} random published records of {args.records}: "
          f"median {statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, "
          f"SQL statements per page min {min(statements)} max {max(statements)}; {loadavg()}")
    engine.dispose()


if __name__ == "__main__":
    main()
