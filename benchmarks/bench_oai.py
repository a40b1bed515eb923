"""Issue 4's targets for the OAI-PMH provider, on SQLite and PostgreSQL, at 1,000,000 demo records by default.

Run: ``.venv/bin/python -m benchmarks.bench_oai [--records 1000000] [--backends sqlite,postgresql]``.

Each backend gets a database of its own filled by ``repository.demo.load_demo`` (no file bytes,
as ``flask demo load --no-files``), kept between runs (``--fresh`` rebuilds it) and migrated to the
newest schema. Then, through the whole Flask application (routing, provider, streamed body, no
network), starting with no kept payloads (``repository.oai.payloads``):

- a first full harvest by one client following tokens, ListRecords oai_dc: records/s while every
  record is written and kept (what the first harvest after a load or an upgrade costs, or
  ``flask oai warm``);
- every later full harvest, the same: records/s (target > 5,000), and the floor: lxml alone
  serialising the same records' oai_dc elements (built beforehand, on a sample of pages spread
  over the harvest), with the ratio harvest/floor;
- ListRecords oai_dc, 100 records: median latency of the first page and of a page 9,000 pages
  deep (its token is made with the position of record 900,000; with fewer records the deepest
  page there is, which the output says), and their ratio; targets < 40 ms each, ratio < 1.3;
  with the records' payloads kept (and the list's size remembered, see ``list_sizes``), with the
  size counted for each first page, and with the payloads dropped before each request (written anew);
- ListIdentifiers, 250 headers: median latency of the first page and a deep page; target < 15 ms;
- where one page's time goes (page query, kept payloads, payloads written anew).

``--cold-records N`` drops the kept payloads of only the first N records of the list, so the first
harvest is timed on those and the rest keep what ``flask oai warm`` wrote (at 1,000,000 records,
warming once serves several runs). ``--harvest-records N`` stops each harvest after N records (the rate is still per record); the
output names every size it measured. PostgreSQL: ``--pg-url`` names a server database to use
(created if missing and emptied when rebuilt); default postgresql+psycopg://postgres@127.0.0.1/hylla_oai_bench.
``--existing`` uses the databases named by ``--sqlite-path``/``--pg-url`` as they are, whatever
they hold, without loading records or migrating (they must have migration 0009); the benchmark
still drops and writes their kept payloads. ``--records`` is then ignored and the output says how
many records there are. Every figure is printed with the load average at the time and the
process's CPU time, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from lxml import etree
from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.engine import make_url

from exports import dc
from repository import create_app, migrate
from repository.db import database, make_engine, session
from repository.demo import load_demo
from repository.models import OaiPayload, Publication
from repository.oai import list_sizes, queries, tokens
from repository.oai.arguments import DateRange
from repository.oai.formats import FORMATS
from repository.oai.payloads import Payloads
from repository.oai.queries import ListFilter
from repository.oai.tokens import ResumptionState
from repository.permissions import oai_filter
from repository.services.readmodel import Site
from repository.services.readmodels_bulk import read_models

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SECRET = "bench-secret"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/hylla_oai_bench"
DEEP_PAGE = 9000


def say(message: str) -> None:
    print(message, flush=True)


def prepare(url: str, records: int, fresh: bool) -> None:
    """A database holding ``records`` demo publications (built once, reused while it has that many)."""
    engine = make_engine(url)
    if url.startswith("postgresql"):
        base = make_url(url)
        admin = make_engine(str(base.set(database="postgres")))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": base.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{base.database}"'))
        admin.dispose()
    have = 0
    try:
        with engine.connect() as conn:
            have = conn.execute(select(func.count()).select_from(Publication)).scalar_one()
    except Exception:  # noqa: BLE001 - no tables yet: build from nothing
        have = -1
    if have == records and not fresh:
        say(f"  reusing {url}: {have:,} records")
        engine.dispose()
        migrate.upgrade(url)  # the newest schema (e.g. migration 0009's kept payloads)
        return
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(make_url(url).database or "")
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
    migrate.upgrade(url)
    started = time.perf_counter()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done % 100_000 < n:
            say(f"  loaded {done:,} records ({done / (time.perf_counter() - started):,.0f}/s)")

    with engine.connect() as conn:
        load_demo(conn, records, files_root=None, batch_size=5000, progress=progress)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    say(f"  loaded {records:,} records in {time.perf_counter() - started:,.0f} s")
    engine.dispose()


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def median_ms(run: Callable[[], object], repeat: int,
              setup: Callable[[], object] | None = None) -> tuple[float, float]:
    """(median wall milliseconds, median CPU milliseconds of this process) of ``repeat`` runs,
    each after ``setup`` (not timed)."""
    run()  # warm: statement caches, vocabularies, schema of the first request
    times, cpu = [], []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return statistics.median(times), statistics.median(cpu)


def fetch(app: Flask, **params: str) -> bytes:
    with app.test_client() as client:
        response = client.get("/oai", query_string=params)
        body = response.get_data()
    if b"<error" in body:
        raise RuntimeError(f"{params}: {body[:300]!r}")
    return body


def deep_token(app: Flask, verb: str, prefix: str, page_size: int) -> tuple[str, int]:
    """A token for the page DEEP_PAGE pages in (or the deepest there is), and that page's number.

    Found with one OFFSET query here in the benchmark; the provider itself never uses OFFSET.
    """
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context():
        total = queries.count(session, now, ListFilter(DateRange(None, None), None))
        page = min(DEEP_PAGE, max(total // page_size - 1, 1))
        skip = page * page_size - 1
        dialect = session.get_bind().dialect.name
        stored = queries.stored_datestamp(dialect)
        value, pub_id = session.execute(select(stored, Publication.id).where(oai_filter(now))
                                        .order_by(Publication.datestamp, Publication.id).offset(skip).limit(1)).one()
        position = value if dialect == "sqlite" else value.isoformat()
    state = ResumptionState(verb, prefix, None, None, None, position, pub_id, page * page_size, total)
    return tokens.encode(state, SECRET), page


def breakdown(app: Flask, repeat: int) -> dict[str, float]:
    """Milliseconds per step for one page of 100 records from the middle of the list, as the provider makes it:
    the page query, the kept copies of its records, and (their copies set aside) writing them anew."""
    now = dt.datetime.now(dt.timezone.utc)
    site = Site("http://hylla.test", "hylla.test")
    steps: dict[str, list[float]] = {k: [] for k in ("page query", "kept payloads read", "payloads written anew")}
    with app.app_context():
        flt = ListFilter(DateRange(None, None), None)
        by_path = queries.catalogue(session).unit_ids_by_path
        rows = queries.page(session, now, flt, None, 100)
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            rows = queries.page(session, now, flt, (rows[-1].position, rows[-1].id), 100)
            live = [(r.id, r.datestamp) for r in rows if not r.deleted]
            t1 = time.perf_counter()
            Payloads(session, site, FORMATS["oai_dc"], now.date(), by_path).get(live)
            t2 = time.perf_counter()
            fresh = Payloads(session, site, FORMATS["oai_dc"], now.date(), by_path)
            fresh.generation = "benchmark: no copy is current"
            fresh.get(live)
            t3 = time.perf_counter()
            for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2)):
                steps[key].append(value * 1000)
        session.close()
    return {k: statistics.median(v[1:]) for k, v in steps.items()}


def forget(app: Flask, ids: list[int] | None = None) -> None:
    """Drop the kept payloads (of ``ids``, or all), so what follows writes records as a first harvest does."""
    with app.app_context():
        if ids is None:
            session.execute(delete(OaiPayload))
        for start in range(0, len(ids or ()), 5000):
            session.execute(delete(OaiPayload).where(OaiPayload.publication_id.in_(ids[start:start + 5000])))
        session.commit()


def first_ids(app: Flask, n: int) -> list[int]:
    """The ids of the first ``n`` records of the whole list, in harvest order."""
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context():
        rows = queries.page(session, now, ListFilter(DateRange(None, None), None), None, n)
        session.close()
    return [r.id for r in rows]


def kept_count(app: Flask) -> int:
    with app.app_context():
        n = session.execute(select(func.count()).select_from(OaiPayload)).scalar_one()
        session.close()
    return int(n)


def page_ids(app: Flask, **params: str) -> list[int]:
    doc = etree.fromstring(fetch(app, **params))
    return [int(e.text.rsplit(":", 1)[1]) for e in doc.iter(f"{OAI}identifier")]


def full_harvest(app: Flask, limit: int | None, sample_every: int) -> tuple[int, float, list[list[int]]]:
    """(records, seconds, ids of sampled pages) for one client following tokens from the first page."""
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    count = pages = 0
    sampled: list[list[int]] = []
    started = time.perf_counter()
    with app.test_client() as client:
        while True:
            body = client.get("/oai", query_string=params).get_data()
            doc = etree.fromstring(body)
            ids = [int(e.text.rsplit(":", 1)[1]) for e in doc.iter(f"{OAI}identifier")]
            count += len(ids)
            if pages % sample_every == 0:
                sampled.append(ids)
            pages += 1
            token = next(doc.iter(f"{OAI}resumptionToken"), None)
            if token is None or not token.text or (limit is not None and count >= limit):
                break
            params = {"verb": "ListRecords", "resumptionToken": token.text}
            if pages % 500 == 0:
                say(f"    {count:,} records, {count / (time.perf_counter() - started):,.0f}/s")
    return count, time.perf_counter() - started, sampled


def serialisation_floor(app: Flask, sampled: list[list[int]]) -> tuple[int, float]:
    """(records, seconds) for lxml alone writing the sampled records' oai_dc elements, built beforehand."""
    site = Site("http://hylla.test", "hylla.test")
    elements = []
    with app.app_context():
        for ids in sampled:
            models = read_models(session, ids, site)
            elements += [dc.element(models[i]) for i in ids if i in models and models[i].state == "published"]
        session.close()
    started = time.perf_counter()
    for el in elements:
        etree.tostring(el)
    return len(elements), time.perf_counter() - started


def bench(backend: str, url: str, args: argparse.Namespace) -> None:
    if args.existing:
        say(f"\n== {backend}: {make_url(url).render_as_string()} as it is")
    else:
        say(f"\n== {backend} ({args.records:,} demo records)")
        prepare(url, args.records, args.fresh)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "BASE_URL": "http://hylla.test",
                      "OAI_ID_NAMESPACE": "hylla.test", "INSTANCE_PATH": str(Path(args.instance) / backend)})
    with app.app_context():
        total = session.execute(select(func.count()).select_from(Publication)).scalar_one()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        visible = queries.count(session, dt.datetime.now(dt.timezone.utc), ListFilter(DateRange(None, None), None))
        indexes = {ix["name"] for ix in inspect(database().engine).get_indexes("publications")}
        session.close()
    say(f"  {total:,} records, OAI-PMH shows {visible:,}; schema at migration {revision}; {load()}")
    if "ix_publications_public_from" not in indexes:
        say("  WARNING: no index on publications.public_from (migration 0008): completeListSize reads every "
            "published row on the first page; run `flask --app wsgi db upgrade` on this database first")

    cold_limit = args.cold_records if args.cold_records is not None else args.harvest_records
    if args.cold_records is None:
        forget(app)
    else:  # only the records the first harvest will read; the others keep what `flask oai warm` wrote
        forget(app, first_ids(app, args.cold_records))
    say(f"  first full harvest, ListRecords oai_dc, no payloads kept yet "
        f"{'' if cold_limit is None else f'(first {cold_limit:,})'}:")
    cpu_started = time.process_time()
    cold_count, cold_seconds, _ = full_harvest(app, cold_limit, args.sample_every)
    cold_cpu = time.process_time() - cpu_started
    say(f"  harvested {cold_count:,} records in {cold_seconds:,.1f} s (CPU {cold_cpu:,.1f} s): "
        f"{cold_count / cold_seconds:,.0f} records/s, writing each record and keeping it; {load()}")

    say(f"  every later full harvest, ListRecords oai_dc"
        f"{'' if args.harvest_records is None else f' (first {args.harvest_records:,})'}:")
    kept_before = kept_count(app)
    cpu_started = time.process_time()
    count, seconds, sampled = full_harvest(app, args.harvest_records, args.sample_every)
    cpu = time.process_time() - cpu_started
    say(f"  (payloads written during it: {kept_count(app) - kept_before:,})")
    rate = count / seconds
    floor_count, floor_seconds = serialisation_floor(app, sampled)
    floor_rate = floor_count / floor_seconds
    say(f"  harvested {count:,} records in {seconds:,.1f} s (CPU {cpu:,.1f} s): {rate:,.0f} records/s   "
        f"(target > 5,000); {load()}")
    say(f"  lxml alone serialising {floor_count:,} of them (every {args.sample_every}th page): "
        f"{floor_rate:,.0f} records/s; harvest is {floor_rate / rate:.1f}x the floor")

    token, page = deep_token(app, "ListRecords", "oai_dc", 100)
    first_page_ids = page_ids(app, verb="ListRecords", metadataPrefix="oai_dc")
    deep_ids = page_ids(app, verb="ListRecords", resumptionToken=token)
    for kept, setup_first, setup_deep in (("kept", None, None),
                                          ("kept, completeListSize counted (not remembered)", list_sizes.forget,
                                           None),
                                          ("written anew", lambda: forget(app, first_page_ids),
                                           lambda: forget(app, deep_ids))):
        first, first_cpu = median_ms(lambda: fetch(app, verb="ListRecords", metadataPrefix="oai_dc"), args.repeat,
                                     setup_first)
        deep, deep_cpu = median_ms(lambda: fetch(app, verb="ListRecords", resumptionToken=token), args.repeat,
                                   setup_deep)
        say(f"  ListRecords oai_dc, 100 records {kept}: first page {first:.1f} ms (CPU {first_cpu:.1f}), "
            f"page {page:,} {deep:.1f} ms (CPU {deep_cpu:.1f}), deep/first {deep / first:.2f}   "
            f"(targets < 40 ms, ratio < 1.3); {load()}")
    ids_first, ids_first_cpu = median_ms(lambda: fetch(app, verb="ListIdentifiers", metadataPrefix="oai_dc"),
                                         args.repeat)
    id_token, id_page = deep_token(app, "ListIdentifiers", "oai_dc", 250)
    ids_deep, ids_deep_cpu = median_ms(lambda: fetch(app, verb="ListIdentifiers", resumptionToken=id_token),
                                       args.repeat)
    say(f"  ListIdentifiers, 250 headers: first page {ids_first:.1f} ms (CPU {ids_first_cpu:.1f}), page {id_page:,} "
        f"{ids_deep:.1f} ms (CPU {ids_deep_cpu:.1f})   (target < 15 ms); {load()}")
    for step, ms in breakdown(app, args.repeat).items():
        say(f"    one page of 100, {step}: {ms:.1f} ms")
    with app.app_context():
        database().engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="demo records per database (default 1,000,000)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sqlite-path", default="/tmp/hylla-bench-oai.sqlite3")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--instance", default="/tmp/hylla-bench-oai-instance")
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases even if they hold the records")
    parser.add_argument("--repeat", type=int, default=15, help="requests per median")
    parser.add_argument("--harvest-records", type=int, default=None, help="stop each full harvest after this many")
    parser.add_argument("--cold-records", type=int, default=None,
                        help="drop the kept payloads of only the first N records and time the first harvest on "
                             "them (the others as `flask oai warm` left them); default: drop all")
    parser.add_argument("--sample-every", type=int, default=20, help="pages between samples for the lxml floor")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--existing", action="store_true",
                        help="use the databases as they are, read only (e.g. shared ones built by someone else)")
    args = parser.parse_args(argv)
    if args.existing and (args.prepare_only or args.fresh):
        parser.error("--existing never builds or rebuilds a database")
    if args.records < 1000:
        parser.error("--records must be at least 1000")
    urls = {"sqlite": f"sqlite:///{args.sqlite_path}", "postgresql": args.pg_url}
    for backend in args.backends.split(","):
        if backend not in urls:
            parser.error(f"unknown backend {backend!r}; choose from sqlite, postgresql")
        if args.prepare_only:
            say(f"== {backend}")
            prepare(urls[backend], args.records, args.fresh)
        else:
            bench(backend, urls[backend], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
