"""Realistic, varied and deterministic demo data, written with bulk inserts.

The same seed gives the same records on every machine, so tests and benchmarks can name
expectations. Rows are built as plain dicts and inserted table by table with executemany (the
ORM's unit of work would be some twenty times slower at 100,000 records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import multiprocessing
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, insert, select
from stdnum import ean as stdnum_ean
from stdnum import issn as stdnum_issn
from stdnum.iso7064 import mod_11_2

from exports import vocabularies
from repository.models import (
    Abstract, Contributor, ContributorAffiliation, Institution, Keyword, OrgUnit, Person, PersonNameForm, Publication,
    PublicationIdentifier, PublicationLanguage, PublicationSubject, PublicationTitle, Relation,
    SeriesMembership, StoredFile, ThesisDetails, WorkflowEvent,
)
from repository.search.documents import Document, document_from_parts
from repository.search.indexer import finish_bulk, prepare_bulk, write_documents
from repository.storage import FileStore

UTC = dt.timezone.utc

INSTITUTIONS = [
    {"code": "uu", "name": "Uppsala University", "name_sv": "Uppsala universitet", "domain": "uu.se",
     "units": [("teknat", "Faculty of Science and Technology", "Teknisk-naturvetenskapliga fakulteten",
                [("kemi", "Department of Chemistry", "Institutionen för kemi"),
                 ("fysik", "Department of Physics and Astronomy", "Institutionen för fysik och astronomi"),
                 ("it", "Department of Information Technology", "Institutionen för informationsteknologi")]),
               ("medfak", "Faculty of Medicine", "Medicinska fakulteten",
                [("ki", "Department of Medical Sciences", "Institutionen för medicinska vetenskaper"),
                 ("igp", "Department of Immunology, Genetics and Pathology", "Institutionen för immunologi, genetik och patologi")]),
               ("hum", "Faculty of Arts", "Historisk-filosofiska fakulteten",
                [("abm", "Department of ALM", "Institutionen för ABM"),
                 ("nordiska", "Department of Scandinavian Languages", "Institutionen för nordiska språk")])]},
    {"code": "kth", "name": "KTH Royal Institute of Technology", "name_sv": "Kungliga Tekniska högskolan",
     "domain": "kth.se",
     "units": [("eecs", "School of Electrical Engineering and Computer Science", "Skolan för elektroteknik och datavetenskap",
                [("tcs", "Theoretical Computer Science", "Teoretisk datalogi"),
                 ("ee", "Electrical Engineering", "Elektroteknik")]),
               ("abe", "School of Architecture and the Built Environment", "Skolan för arkitektur och samhällsbyggnad",
                [("sek", "Sustainable Development", "Hållbar utveckling")])]},
]

FAMILY = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
          "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Jakobsson",
          "Magnusson", "Lindström", "Öberg", "Åkesson", "Ekström", "Håkansson", "Sjöberg", "Björk", "Smith", "García",
          "Nguyen", "Müller", "Rossi", "Kowalski", "O'Brien", "Chen", "Wang", "Ali", "Dubois", "van der Berg"]
GIVEN = ["Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Kerstin", "Ingrid", "Märta", "Åsa", "Linnéa", "Erik", "Lars",
         "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Björn", "Göran", "Örjan", "Ulf", "John", "Wei", "Fatima",
         "José", "Chloé", "Zoë", "Jean-Luc", "Per-Erik"]
SV_WORDS = ["ålgräs", "östersjön", "mätningar", "språkförändring", "hälsa", "förskola", "välfärd", "kärnfysik",
            "skärgård", "bokhandel", "läsförståelse", "värmeböljor", "grundvatten", "järnväg", "fåglar", "ängar",
            "kyrkböcker", "barnmorskor", "öar", "älvdalar"]
EN_WORDS = ["eelgrass", "Baltic", "measurement", "language change", "health", "preschool", "welfare", "nuclear",
            "archipelago", "bookselling", "reading comprehension", "heatwaves", "groundwater", "railways", "birds",
            "meadows", "parish registers", "midwives", "islands", "river valleys", "deep learning", "protein folding"]
JOURNALS = [("Marine Ecology Progress Series", "01718630"), ("Journal of Documentation", "00220418"),
            ("Physical Review B", "24699950"), ("Nordic Journal of Linguistics", "03325865"),
            ("The Lancet", "01406736"), ("Scandinavian Journal of History", "03468755"),
            ("IEEE Transactions on Software Engineering", "00985589"), ("Läkartidningen", "00237205")]
PUBLISHERS = [("Uppsala universitet", "Uppsala"), ("KTH Royal Institute of Technology", "Stockholm"),
              ("Springer", "Cham"), ("Studentlitteratur", "Lund"), ("Natur & Kultur", "Stockholm")]
LICENCES = ["https://creativecommons.org/licenses/by/4.0/", "https://creativecommons.org/licenses/by-nc/4.0/",
            "https://creativecommons.org/licenses/by-sa/4.0/", None]
# Weights roughly as in a Swedish university's DiVA portal.
TYPES = [("art", 40), ("kon", 14), ("kap", 9), ("rap", 5), ("bok", 3), ("sam", 2), ("dok", 5), ("lic", 2),
         ("stud", 12), ("for", 2), ("rec", 1), ("pro", 1), ("pat", 1), ("kfu", 1), ("ovr", 2)]
THESIS_LEVEL = {"dok": "doctoral", "lic": "licentiate"}
STUDENT_LEVELS = ["bachelor", "master-one-year", "master-two-years", "professional"]


def orcid_from_number(n: int) -> str:
    base = f"00000002{n:07d}"  # inside the range ORCID issues (0000-0001-5 to 0000-0003-5)
    digits = base + mod_11_2.calc_check_digit(base)
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


def isbn_from_number(n: int) -> str:
    """A valid ISBN-13 in compact form (hyphenating by registration group costs more than the insert)."""
    base = f"97891{n:07d}"
    return base + stdnum_ean.calc_check_digit(base)


def issn_from_digits(seven: str) -> str:
    return stdnum_issn.format(seven[:7] + stdnum_issn.calc_check_digit(seven[:7]))


@dataclass
class DemoSummary:
    institutions: int = 0
    units: int = 0
    persons: int = 0
    publications: int = 0
    files: int = 0
    withdrawn: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    load_seconds: float = 0.0  # records, their parts and files
    index_seconds: float = 0.0  # writing their search documents

    def add(self, part: DemoSummary) -> None:
        """Count in what one batch made."""
        self.files += part.files
        self.withdrawn += part.withdrawn
        for kind, n in part.by_type.items():
            self.by_type[kind] = self.by_type.get(kind, 0) + n


@dataclass
class _Context:
    institutions: list[dict[str, Any]]
    units: list[dict[str, Any]]  # department rows, with institution_id
    persons: list[dict[str, Any]]
    subjects: list[str]
    store: FileStore | None
    name_forms: dict[int, list[Any]] = field(default_factory=dict)  # person id -> other name forms
    blobs: dict[int, tuple[str, str, int]] = field(default_factory=dict)


def _ensure_authorities(conn: Connection, rng: random.Random, n_persons: int) -> _Context:
    """Institutions, organisation trees and a pool of people, created once and reused."""
    existing = conn.execute(select(func.count()).select_from(Institution)).scalar_one()
    if not existing:
        for inst in INSTITUTIONS:
            inst_id = conn.execute(insert(Institution).values(
                code=inst["code"], name=inst["name"], name_sv=inst["name_sv"], domain=inst["domain"])
                .returning(Institution.id)).scalar_one()
            for code, name, name_sv, depts in inst["units"]:
                fac_id = conn.execute(insert(OrgUnit).values(
                    institution_id=inst_id, code=code, path=f"{inst['code']}:{code}", name=name, name_sv=name_sv)
                    .returning(OrgUnit.id)).scalar_one()
                for dcode, dname, dname_sv in depts:
                    conn.execute(insert(OrgUnit).values(
                        institution_id=inst_id, parent_id=fac_id, code=dcode,
                        path=f"{inst['code']}:{code}:{dcode}", name=dname, name_sv=dname_sv))
    institutions = [dict(r._mapping) for r in conn.execute(select(Institution.id, Institution.code, Institution.domain))]
    units = [dict(r._mapping) for r in conn.execute(
        select(OrgUnit.id, OrgUnit.institution_id, OrgUnit.name, OrgUnit.path).where(OrgUnit.parent_id.is_not(None)))]
    if not conn.execute(select(func.count()).select_from(Person)).scalar_one():
        rows = []
        for i in range(1, n_persons + 1):
            unit = units[i % len(units)]
            rows.append({"family_name": rng.choice(FAMILY), "given_name": rng.choice(GIVEN),
                         "orcid": orcid_from_number(i) if i % 3 else None, "local_id": f"p{i:06d}",
                         "institution_id": unit["institution_id"], "email": None})
        conn.execute(insert(Person), rows)
    persons = [dict(r._mapping) for r in conn.execute(
        select(Person.id, Person.family_name, Person.given_name, Person.orcid, Person.local_id, Person.institution_id))]
    subjects = sorted(c for c, t in vocabularies.ssif_2025().items() if len(c) == 5 and not t.deprecated)
    name_forms: dict[int, list[Any]] = defaultdict(list)
    for form in conn.execute(select(PersonNameForm.person_id, PersonNameForm.family_name, PersonNameForm.given_name)
                             .order_by(PersonNameForm.id)):
        name_forms[form.person_id].append(_Row(family_name=form.family_name, given_name=form.given_name))
    return _Context(institutions, units, persons, subjects, None, dict(name_forms))


def load_demo(conn: Connection, records: int, *, seed: int = 2024, files_root: str | None = None,
              batch_size: int = 2000, progress: Callable[[int], None] | None = None, index: bool = True,
              workers: int | None = None) -> DemoSummary:
    """Insert ``records`` demo publications (after any already there) and return what was made.

    Generating rows is Python work and inserting them is SQLite's, so with more than one batch
    the batches are generated (with their search documents) in worker processes while this
    process inserts the previous ones: on two cores that is what brings a 100,000-record load
    near the rate of the inserts alone. Each batch has its own random stream and its own block
    of contributor ids, so the records are the same whatever the number of workers; the first
    batch is exactly what one sequential stream gives. ``index=False`` leaves the search index
    to the caller (a benchmark timing a rebuild).
    """
    started = time.perf_counter()
    ctx = _ensure_authorities(conn, random.Random(seed), n_persons=max(200, min(records // 5, 20000)))
    summary = DemoSummary(institutions=len(ctx.institutions), units=len(ctx.units), persons=len(ctx.persons))
    first_id = (conn.execute(select(func.max(Publication.id))).scalar_one() or 0) + 1
    first_contributor = (conn.execute(select(func.max(Contributor.id))).scalar_one() or 0) + 1
    plans = [_Plan(seed * 7919 + first_id + offset, first_id + offset, min(batch_size, records - offset),
                   first_contributor + offset * CONTRIBUTORS_PER_RECORD, index)
             for offset in range(0, records, batch_size)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if records >= 4 * batch_size else 0
    store = FileStore(files_root) if files_root else None
    written: set[str] = set()
    if index:
        prepare_bulk(conn)
    with ThreadPoolExecutor(max_workers=4) as writer:
        for batch in _generated(plans, ctx, files_root, workers):
            # Creating files is slow on many file systems: write them while the database inserts.
            writes = []
            for sha, data in batch.blobs if store is not None else ():
                if sha not in written:  # two workers may each meet a demo PDF first
                    written.add(sha)
                    writes.append(writer.submit(store.put_bytes, data, durable=False))
            for table, keys, values in batch.tables:
                _executemany(conn, table, keys, values)
            if index:
                indexing = time.perf_counter()
                write_documents(conn, batch.documents, [])
                summary.index_seconds += time.perf_counter() - indexing
            conn.commit()
            for write in writes:
                write.result()
            summary.add(batch.summary)
            if progress:
                progress(batch.plan.records)
    _advance_sequences(conn)
    if index:
        indexing = time.perf_counter()
        finish_bulk(conn)
        summary.index_seconds += time.perf_counter() - indexing
    summary.load_seconds = time.perf_counter() - started - summary.index_seconds
    summary.publications = records
    return summary


CONTRIBUTORS_PER_RECORD = 32  # a block of ids per record: 25 authors, thesis roles and an editor at most


@dataclass(frozen=True)
class _Plan:
    """One batch: its random stream, its publication ids and its contributor ids."""

    seed: int
    first_id: int
    records: int
    first_contributor: int
    index: bool


@dataclass
class _Generated:
    """A batch ready to insert: executemany rows by table in foreign-key order, new file
    contents, the search documents of its public records and what it counted."""

    plan: _Plan
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]]
    blobs: list[tuple[str, bytes]]
    documents: list[Document]
    summary: DemoSummary


def _generate(plan: _Plan, ctx: _Context) -> _Generated:
    rng = random.Random(plan.seed)
    ids = {"contributor": plan.first_contributor}
    batch = _Batch()
    summary = DemoSummary()
    for pid in range(plan.first_id, plan.first_id + plan.records):
        _one_publication(pid, rng, ctx, batch, ids, summary)
    tables = [(model.__table__.name, *_prepare(batch.rows[model])) for model in _Batch.ORDER if batch.rows[model]]
    return _Generated(plan, tables, batch.blobs, _documents(batch, ctx) if plan.index else [], summary)


def _generated(plans: list[_Plan], ctx: _Context, files_root: str | None, workers: int) -> Iterator[_Generated]:
    """The batches in order, from worker processes when there are several (a few ahead of the
    inserts, so memory stays bounded at any size), else generated here."""
    if workers < 1 or len(plans) < 2:
        ctx.store = FileStore(files_root) if files_root else None
        for plan in plans:
            yield _generate(plan, ctx)
        return
    spawn = multiprocessing.get_context("spawn")  # no fork of a process holding a database connection
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker,
                             initargs=(replace(ctx, store=None, blobs={}), files_root)) as pool:
        pending: deque[Future[_Generated]] = deque()
        for plan in plans:
            pending.append(pool.submit(_generate_in_worker, plan))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_worker_context: _Context | None = None


def _start_worker(ctx: _Context, files_root: str | None) -> None:
    global _worker_context
    ctx.store = FileStore(files_root) if files_root else None
    _worker_context = ctx


def _generate_in_worker(plan: _Plan) -> _Generated:
    assert _worker_context is not None, "the pool's initializer sets the context"
    return _generate(plan, _worker_context)


class _Batch:
    """Rows of one batch, by model, inserted in foreign-key order."""

    ORDER = (Publication, PublicationTitle, Abstract, Keyword, PublicationSubject, PublicationLanguage,
             PublicationIdentifier, Contributor, ContributorAffiliation, SeriesMembership, Relation, ThesisDetails,
             StoredFile, WorkflowEvent)

    def __init__(self) -> None:
        self.rows: dict[type, list[dict[str, Any]]] = {m: [] for m in self.ORDER}
        self.blobs: list[tuple[str, bytes]] = []

    def add(self, model: type, **row: Any) -> None:
        self.rows[model].append(row)


class _Row(dict):  # type: ignore[type-arg]
    """A generated row read like a database row: an optional column it lacks reads as None."""

    __getattr__ = dict.get


def _documents(b: _Batch, ctx: _Context) -> list[Document]:
    """The search documents of the batch's public records, from the rows just generated.

    The same ``document_from_parts`` that a rebuild feeds from queries, so a demo load indexes
    exactly what ``search reindex`` would (a test compares the two); re-reading the rows just
    inserted would double the cost of the load.
    """
    parts: dict[int, dict[str, list[_Row]]] = defaultdict(lambda: defaultdict(list))
    for model, name in ((PublicationTitle, "titles"), (Abstract, "abstracts"), (Keyword, "keywords"),
                        (PublicationSubject, "subjects"), (PublicationLanguage, "languages"),
                        (PublicationIdentifier, "idents"), (Contributor, "contributors"),
                        (SeriesMembership, "series"), (StoredFile, "files"), (ThesisDetails, "thesis")):
        for row in b.rows[model]:
            parts[row["publication_id"]][name].append(_Row(row))
    publication_of = {c["id"]: c["publication_id"] for c in b.rows[Contributor]}
    paths = {u["id"]: u["path"] for u in ctx.units}
    for a in b.rows[ContributorAffiliation]:
        if a["org_unit_id"] is not None:
            parts[publication_of[a["contributor_id"]]]["units"].append(_Row(path=paths[a["org_unit_id"]]))
    codes = {i["id"]: i["code"] for i in ctx.institutions}
    docs = []
    for row in b.rows[Publication]:
        if row["state"] != "published":
            continue
        p = parts[row["id"]]
        name_forms = [form for c in p["contributors"] if c.person_id for form in ctx.name_forms.get(c.person_id, ())]
        docs.append(document_from_parts(
            _Row(row, institution_code=codes[row["institution_id"]]), titles=p["titles"], abstracts=p["abstracts"],
            keywords=p["keywords"], subjects=p["subjects"], languages=p["languages"], idents=p["idents"],
            contributors=p["contributors"], units=p["units"], name_forms=name_forms, series=p["series"],
            files=p["files"], thesis=p["thesis"][0] if p["thesis"] else None))
    return docs


def _prepare(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and value tuples for executemany, converted as the column types would.

    SQLAlchemy's per-row bind processing costs more than SQLite's own insert at this volume;
    the only conversions the demo rows need (UTC timestamps, JSON lists) are done here, and only
    on the columns that hold such values.
    """
    keys = list(dict.fromkeys(k for row in rows for k in row))
    convert = [i for i, key in enumerate(keys)
               if isinstance(next((r[key] for r in rows if r.get(key) is not None), None), (dt.datetime, list))]
    get = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    values = []
    for row in rows:
        try:
            value = get(row)
        except KeyError:  # a row without an optional column
            value = tuple(row.get(k) for k in keys)
        if convert:
            converted = list(value)
            for i in convert:
                converted[i] = _db_value(converted[i])
            value = tuple(converted)
        values.append(value)
    return keys, values


def _executemany(conn: Connection, table: str, keys: list[str], values: list[tuple[Any, ...]]) -> None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join(mark for _ in keys)})", values)


def _db_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, list):
        return json.dumps(value)
    return value


def _advance_sequences(conn: Connection) -> None:
    """Move PostgreSQL's id sequences past the ids the demo gave explicitly.

    Publications and contributors are inserted with ids of our choosing (children refer to them
    before the database could hand any out); without this the first deposit after a demo load
    would collide with a demo record.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in (Publication.__table__.name, Contributor.__table__.name):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))")
    conn.commit()


def _weighted_type(rng: random.Random) -> str:
    return rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]


def _title(rng: random.Random, lang: str) -> tuple[str, str | None]:
    if lang == "swe":
        words = rng.sample(SV_WORDS, 3)
        return f"{words[0].capitalize()} och {words[1]} i {words[2]}", (f"en studie av {rng.choice(SV_WORDS)}" if rng.random() < 0.4 else None)
    words = rng.sample(EN_WORDS, 3)
    return f"{words[0].capitalize()}, {words[1]} and {words[2]}", (f"a study of {rng.choice(EN_WORDS)}" if rng.random() < 0.4 else None)


def _one_publication(pid: int, rng: random.Random, ctx: _Context, b: _Batch, ids: dict[str, int],
                     summary: DemoSummary) -> None:
    kind = _weighted_type(rng)
    summary.by_type[kind] = summary.by_type.get(kind, 0) + 1
    unit = rng.choice(ctx.units)
    institution = next(i for i in ctx.institutions if i["id"] == unit["institution_id"])
    lang = "swe" if rng.random() < 0.35 else "eng"
    created = dt.datetime(2015, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=rng.randrange(0, 10 * 365 * 86400))
    year = min(created.year, 2025)
    roll = rng.random()
    state = "published" if roll < 0.95 else ("withdrawn" if roll < 0.955 else rng.choice(["draft", "submitted", "returned"]))
    content = None if kind in ("pat", "kfu", "stud", "ovr") else ("ref" if kind in ("art", "kon", "for") and rng.random() < 0.8
                                                                    else rng.choice(["vet", "pop"]) if kind == "art" else "vet")
    published_at = created + dt.timedelta(days=rng.randrange(1, 60)) if state in ("published", "withdrawn") else None
    datestamp = published_at or created
    row: dict[str, Any] = dict(
        id=pid, institution_id=institution["id"], state=state, publication_type=kind,
        output_type=vocabularies.default_output_type(kind, content), content_type=content,
        publication_status="published", issued_year=year, issued_month=rng.choice([None, created.month]),
        created_at=created, updated_at=datestamp, datestamp=datestamp, published_at=published_at, version=1,
        licence=rng.choice(LICENCES), creator_count=None,
        urn_nbn=f"urn:nbn:se:{institution['code']}:hylla-{pid}" if published_at else None,
    )
    if row["issued_month"]:
        row["issued_day"] = rng.choice([None, min(created.day, 28)])
    if state == "withdrawn":
        row.update(withdrawn_at=datestamp, withdrawn_reason="Withdrawn at the authors' request: duplicate of another record.")
        summary.withdrawn += 1
    title, subtitle = _title(rng, lang)
    b.add(PublicationTitle, publication_id=pid, position=0, kind="main", title=title, subtitle=subtitle, lang=lang)
    if lang == "swe" and rng.random() < 0.6:
        t2, s2 = _title(rng, "eng")
        b.add(PublicationTitle, publication_id=pid, position=1, kind="translated", title=t2, subtitle=s2, lang="eng")
    b.add(PublicationLanguage, publication_id=pid, position=0, code=lang)
    if rng.random() < 0.85:
        b.add(Abstract, publication_id=pid, lang=lang, text=_abstract(rng, lang))
    for i, term in enumerate(rng.sample(SV_WORDS if lang == "swe" else EN_WORDS, rng.randint(2, 5))):
        b.add(Keyword, publication_id=pid, position=i, term=term, lang=lang, scheme=None)
    for i, code in enumerate(rng.sample(ctx.subjects, rng.randint(1, 3))):
        b.add(PublicationSubject, publication_id=pid, position=i, code=code)

    n_authors = 1 if kind in ("dok", "lic", "stud") else rng.choice([1, 2, 3, 3, 4, 5, 6, 8, 12, 25])
    row["creator_count"] = n_authors
    people = rng.sample(ctx.persons, n_authors + 3)
    pos = 0
    for person in people[:n_authors]:
        internal = rng.random() < 0.7
        _contributor(b, ids, pid, pos, ["aut"], person if internal else None, rng, unit if internal else None)
        pos += 1
    if kind in ("dok", "lic", "stud"):
        _contributor(b, ids, pid, pos, ["ths"], people[n_authors], rng, unit)
        pos += 1
        if kind == "dok":
            _contributor(b, ids, pid, pos, ["opn"], None, rng, None)
            pos += 1
        if kind == "stud":
            _contributor(b, ids, pid, pos, ["exm"], people[n_authors + 1], rng, unit)
            pos += 1
        defence = dt.datetime(year, rng.randint(1, 12), rng.randint(1, 28), 10, 0, tzinfo=UTC)
        level = THESIS_LEVEL.get(kind) or rng.choice(STUDENT_LEVELS)
        b.add(ThesisDetails, publication_id=pid, level=level,
              credits=None if kind != "stud" else rng.choice(["15 HE credits", "30 HE credits"]),
              degree_name={"doctoral": "Doctor of Philosophy", "licentiate": "Licentiate of Philosophy"}.get(level, "Master of Science"),
              programme=None if kind != "stud" else "Master's Programme in Library Science",
              defence_at=defence, defence_place="Ångströmlaboratoriet, Uppsala" if kind != "stud" else None,
              nailing_date=(defence - dt.timedelta(days=21)).date() if kind == "dok" else None,
              granting_institution=institution["code"])
    if kind in ("art", "for", "rec"):
        journal, seven = rng.choice(JOURNALS)
        row.update(host_kind="journal", host_title=journal, host_issn=issn_from_digits(seven),
                   host_volume=str(rng.randint(1, 120)), host_issue=str(rng.randint(1, 12)))
        start = rng.randint(1, 900)
        row.update(host_page_start=str(start), host_page_end=str(start + rng.randint(4, 30)))
        b.add(PublicationIdentifier, publication_id=pid, scheme="doi", value=f"10.5555/hylla.{pid}", qualifier=None)
        if rng.random() < 0.4:
            b.add(PublicationIdentifier, publication_id=pid, scheme="isi", value=f"000{pid:012d}", qualifier=None)
        if rng.random() < 0.3:
            b.add(PublicationIdentifier, publication_id=pid, scheme="pmid", value=str(30000000 + pid), qualifier=None)
    elif kind in ("kap", "kon"):
        if kind == "kon":
            row.update(host_kind="proceedings", host_title=f"Proceedings of the Nordic Conference {year}",
                       conference_name=f"Nordic Conference {year}", conference_place=rng.choice(["Göteborg", "Umeå", "Oslo"]))
        else:
            row.update(host_kind="book", host_title=f"Handbok i {rng.choice(SV_WORDS)}",
                       host_isbn=isbn_from_number(pid + 500000), host_publisher="Studentlitteratur", host_place="Lund")
            b.add(Contributor, id=_next(ids), publication_id=pid, position=pos, scope="host", person_id=None,
                  family_name=rng.choice(FAMILY), given_name=rng.choice(GIVEN), corporate_name=None, roles=["edt"],
                  orcid=None, local_id=None)
        start = rng.randint(1, 300)
        row.update(host_page_start=str(start), host_page_end=str(start + rng.randint(8, 25)))
        if rng.random() < 0.5:
            b.add(PublicationIdentifier, publication_id=pid, scheme="doi", value=f"10.5555/hylla.{pid}", qualifier=None)
    elif kind in ("bok", "sam", "rap", "dok", "lic", "pro"):
        publisher, place = rng.choice(PUBLISHERS)
        row.update(publisher=publisher, place=place, extent=f"{rng.randint(40, 400)} pages")
        b.add(PublicationIdentifier, publication_id=pid, scheme="isbn", value=isbn_from_number(pid), qualifier="print")
        if kind in ("dok", "lic", "rap"):
            b.add(SeriesMembership, publication_id=pid, position=0,
                  title="Digital Comprehensive Summaries of Uppsala Dissertations" if kind == "dok" else "Hylla Report Series",
                  issn="1651-6214" if kind == "dok" else "0280-6916", number=str(pid % 3000))
        if kind == "dok" and pid > 10:
            b.add(Relation, publication_id=pid, position=0, relation="constituent", related_id=None,
                  title=f"Paper I: {rng.choice(EN_WORDS)}", url=None)
    if state == "published" and rng.random() < 0.3:
        _file(b, pid, rng, ctx, summary)
    b.add(WorkflowEvent, publication_id=pid, actor_id=None, at=created, action="import", from_state=None,
          to_state="draft", comment="Demo data")
    if published_at:
        b.add(WorkflowEvent, publication_id=pid, actor_id=None, at=published_at, action="publish",
              from_state="submitted", to_state="published", comment=None)
    b.rows[Publication].append(row)


def _next(ids: dict[str, int]) -> int:
    value = ids["contributor"]
    ids["contributor"] = value + 1
    return value


def _contributor(b: _Batch, ids: dict[str, int], pid: int, pos: int, roles: list[str],
                 person: dict[str, Any] | None, rng: random.Random, unit: dict[str, Any] | None) -> None:
    cid = _next(ids)
    if person is not None:
        b.add(Contributor, id=cid, publication_id=pid, position=pos, scope="work", person_id=person["id"],
              family_name=person["family_name"], given_name=person["given_name"], corporate_name=None,
              roles=roles, orcid=person["orcid"], local_id=person["local_id"])
    else:
        b.add(Contributor, id=cid, publication_id=pid, position=pos, scope="work", person_id=None,
              family_name=rng.choice(FAMILY), given_name=rng.choice(GIVEN), corporate_name=None, roles=roles,
              orcid=None, local_id=None)
    if unit is not None:
        b.add(ContributorAffiliation, contributor_id=cid, position=0, org_unit_id=unit["id"], name=unit["name"], country="SE")
    else:
        b.add(ContributorAffiliation, contributor_id=cid, position=0, org_unit_id=None,
              name=rng.choice(["University of Oslo", "University of Helsinki", "MIT", "Charité Berlin"]), country=None)


def _abstract(rng: random.Random, lang: str) -> str:
    words = SV_WORDS if lang == "swe" else EN_WORDS
    lead = "Vi undersöker" if lang == "swe" else "We investigate"
    return " ".join(f"{lead} {rng.choice(words)} och {rng.choice(words)}." if lang == "swe"
                    else f"{lead} {rng.choice(words)} and {rng.choice(words)}." for _ in range(rng.randint(2, 5)))


def _file(b: _Batch, pid: int, rng: random.Random, ctx: _Context, summary: DemoSummary) -> None:
    roll = rng.random()
    access, embargo = ("open", None) if roll < 0.7 else (("embargoed", dt.date(2020 + rng.randint(0, 12), rng.randint(1, 12), 1))
                                                         if roll < 0.85 else ("restricted", None))
    sha256, md5, size = _demo_blob(pid % DEMO_PDFS, ctx, b)
    b.add(StoredFile, publication_id=pid, position=0, original_filename=f"fulltext-{pid}.pdf", sha256=sha256, md5=md5,
          size=size, mime_type="application/pdf", role="fulltext", access=access, embargo_until=embargo,
          licence=None, version="published", created_at=dt.datetime(2024, 1, 1, tzinfo=UTC))
    summary.files += 1


DEMO_PDFS = 500  # distinct full texts; the content-addressed store keeps one copy of each


def _demo_blob(k: int, ctx: _Context, b: _Batch) -> tuple[str, str, int]:
    """Hashes of demo PDF number ``k``, queued for writing the first time it is used."""
    known = ctx.blobs.get(k)
    if known is None:
        data = demo_pdf(f"Hylla demo full text no. {k}")
        known = ctx.blobs[k] = (hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data))
        if ctx.store is not None and not ctx.store.exists(known[0]):
            b.blobs.append((known[0], data))
    return known


def demo_pdf(text: str) -> bytes:
    """A small valid one-page PDF showing ``text`` (ASCII-folded: the base-14 fonts know no å)."""
    safe = text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def count_publications(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(Publication)).scalar_one()

