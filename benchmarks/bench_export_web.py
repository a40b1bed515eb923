"""List downloads through the web endpoint at scale: records per second and memory while streaming.

Run: ``.venv/bin/python -m benchmarks.bench_export_web [--records 100000] [--formats csv bibtex mods]
[--runs 1] [--database /tmp/hylla-bench-export-web.sqlite3]``.

Loads ``--records`` demo records into a SQLite file (kept and reused while it holds as many),
then downloads every institution's list (together all public records) through
``/institutions/<code>/export/<format>`` with Flask's test client, reading the body piece by
piece as a WSGI server would and keeping none of it. For each format it prints the median
wall-clock and CPU seconds, records per second, the size of the output, and the process's
resident memory after the first piece, at its highest and at the end of the largest list: flat
memory means the three stay close while the output grows to many times their difference.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from repository import create_app, migrate
from repository.db import make_engine
from repository.demo import count_publications, load_demo
from repository.models import Institution
from repository.services import exports as service

PAGE_BYTES = 4096
SAMPLE_EVERY = 16  # pieces of the body (64 KiB each) between two looks at resident memory


def resident_bytes() -> int:
    """The process's resident set size now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_BYTES


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    records: int
    size: int
    resident: list[int]  # after the first piece, at the highest and at the end of the largest list


def prepare(database: Path, records: int) -> str:
    url = f"sqlite:///{database}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            have = count_publications(conn)
            if have < records:
                started = time.perf_counter()
                load_demo(conn, records - have)
                print(f"loaded {records - have} demo records in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()
    return url


def download(client, url: str) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """Read one download to the end; resident memory after its first piece, at its highest, at its end."""
    response = client.get(url)
    assert response.status_code == 200 and response.is_streamed, response.status_code
    size = pieces = 0
    first = highest = 0
    for piece in response.response:
        size += len(piece)
        pieces += 1
        if pieces == 1 or pieces % SAMPLE_EVERY == 0:
            now = resident_bytes()
            first = first or now
            highest = max(highest, now)
    response.close()
    return size, [first, highest, resident_bytes()]


def run(app, fmt: str, codes: list[str], counts: dict[str, int]) -> Run:  # type: ignore[no-untyped-def]
    client = app.test_client()
    largest = max(codes, key=lambda c: counts[c])
    wall, cpu = time.perf_counter(), time.process_time()
    total = 0
    resident: list[int] = []
    for code in codes:
        size, samples = download(client, f"/institutions/{code}/export/{fmt}")
        total += size
        if code == largest:
            resident = samples
    return Run(time.perf_counter() - wall, time.process_time() - cpu, sum(counts.values()), total, resident)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=["csv", "bibtex", "mods"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database", type=Path, default=Path(tempfile.gettempdir()) / "hylla-bench-export-web.sqlite3")
    args = parser.parse_args()

    url = prepare(args.database, args.records)
    instance = Path(tempfile.mkdtemp(prefix="hylla-bench-"))
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
                      "BASE_URL": "http://hylla.bench", "OAI_ID_NAMESPACE": "hylla.bench"})
    with app.app_context():
        from repository.db import session

        codes = list(session.scalars(select(Institution.code).order_by(Institution.code)))
        counts = {code: service.count(service.institution_list(code)) for code in codes}
        stored = session.scalar(select(func.count()).select_from(Institution))
    print(f"{sum(counts.values())} public records in {stored} institutions ({counts}); "
          f"chunk size {service.CHUNK_SIZE}")
    print(f"{'format':<10} {'wall s':>8} {'cpu s':>8} {'records/s':>10} {'MB out':>8}  resident MB first/highest/end")
    for fmt in args.formats:
        runs = [run(app, fmt, codes, counts) for _ in range(args.runs)]
        wall = statistics.median(r.seconds for r in runs)
        cpu = statistics.median(r.cpu_seconds for r in runs)
        last = runs[-1]
        resident = "/".join(f"{b / 1e6:.0f}" for b in last.resident)
        print(f"{fmt:<10} {wall:>8.1f} {cpu:>8.1f} {last.records / wall:>10.0f} {last.size / 1e6:>8.1f}  {resident}")


if __name__ == "__main__":
    main()
