"""One harvested record repaired, parsed and judged into a ``RecordVersion``: in this process or in a pool of workers.

Parsing and checking a record costs far more than fetching or storing it, so a harvest can hand
each page's new and changed records to worker processes (SwePub does the same with a small pool).
Workers receive the record's XML text, not lxml objects, and rebuild it with the same safe parser.
A failure at any step (the repair stylesheet, the parser, even a parser bug) rejects that record
with its reason; the rest of the page goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from lxml import etree

from harvest import dedup, safexml, xslt
from harvest.client import OAIRecord, parse_datestamp, record_from_element
from harvest.records import publication_to_dict
from harvest.store import RecordVersion

log = logging.getLogger(__name__)


class Parsed(Protocol):
    """What ``harvest.parse.parse_metadata`` returns: the record, its problems, the XSD verdict, open access."""

    publication: Any
    problems: list[Any]
    xsd_valid: bool | None
    open_access: bool


ParseFunction = Callable[..., Parsed]


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a source's records are read: enough to judge them in another process."""

    source: str
    prefix: str
    xslt: str | None
    institution: str | None = None  # the source's organisation code, for records that name none


def datestamp_of(rec: OAIRecord) -> dt.datetime | None:
    try:
        return parse_datestamp(rec.header.datestamp) if rec.header.datestamp else None
    except ValueError:
        return None


def deletion(rec: OAIRecord, digest: str) -> RecordVersion:
    return RecordVersion(rec.header.identifier or "", datestamp_of(rec), True, digest, raw_xml=rec.raw_xml)


def _problem(code: str, message: str, severity: str = "reject", path: str = "metadata") -> dict[str, str]:
    return {"code": code, "severity": severity, "path": path, "message": message}


def judge(rec: OAIRecord, digest: str, recipe: Recipe, transform: etree.XSLT | None,
          parse: ParseFunction) -> RecordVersion:
    """One live record read, repaired, parsed and judged; a failure at any step is a rejection with its reason."""
    ident = rec.header.identifier or ""
    stamp = datestamp_of(rec)
    problems: list[dict[str, str]] = []
    if rec.header.datestamp and stamp is None:
        problems.append(_problem("datestamp_invalid", f"header datestamp {rec.header.datestamp!r} is not an "
                                 "OAI-PMH datestamp", "warning", "header/datestamp"))
    # Shares ``problems``: whatever is appended below is in the rejection that is returned.
    rejected = RecordVersion(ident, stamp, False, digest, raw_xml=rec.raw_xml, problems=problems,
                             institution=recipe.institution or recipe.source)
    if rec.metadata is None:
        problems.append(_problem("00", "the record has no metadata"))
        return rejected
    try:
        payload = xslt.apply(transform, rec.metadata) if transform is not None else rec.metadata
        parsed = parse(payload, recipe.prefix, oai_identifier=ident, datestamp=stamp,
                       institution_code=recipe.institution)
    except (ValueError, etree.LxmlError) as exc:  # XSLTError, HarvestXMLError, UnsupportedMetadataFormat...
        problems.append(_problem("parse_error", str(exc)))
        return rejected
    except Exception as exc:  # noqa: BLE001 - one record the parser trips on must not stop a national harvest
        log.exception("parser failed record=%s source=%s", ident, recipe.source)
        problems.append(_problem("parse_error", f"the parser failed: {type(exc).__name__}: {exc}"))
        return rejected
    problems += [{"code": p.code, "severity": p.severity, "path": p.path, "message": p.message,
                  **({"name": p.name} if p.name else {})} for p in parsed.problems]
    pub = parsed.publication
    if pub is None:
        return rejected
    data = publication_to_dict(pub)
    accepted = not any(p["severity"] == "reject" for p in problems)
    feats = dedup.features(pub, data, open_access=parsed.open_access) if accepted else None
    return RecordVersion(ident, stamp, False, digest, raw_xml=rec.raw_xml, record=data, accepted=accepted,
                         problems=problems, xsd_valid=parsed.xsd_valid, match_features=feats,
                         keys=dedup.blocking_keys(feats) if feats else (),
                         institution=pub.institution_code or recipe.institution or recipe.source)


def rejection_message(version: RecordVersion) -> str:
    reasons = [f"{p['code']} {p['message']}" for p in version.problems if p["severity"] == "reject"]
    return "record rejected: " + ("; ".join(reasons) or "no record could be read")


class Judges:
    """Judges records in this process, or in ``workers`` processes when there are several and the default parser."""

    def __init__(self, recipe: Recipe, parse: ParseFunction | None = None, workers: int = 1) -> None:
        self.recipe = recipe
        self.transform = xslt.compile_stylesheet(recipe.xslt) if recipe.xslt else None
        self.parse = parse or default_parse()
        self.workers = workers
        self.pool = None
        if workers > 1 and parse is None:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def __call__(self, items: Sequence[tuple[OAIRecord, str]]) -> list[RecordVersion]:
        if self.pool is None or len(items) < 2 * self.workers:
            return [judge(rec, digest, self.recipe, self.transform, self.parse) for rec, digest in items]
        size = -(-len(items) // self.workers)
        batches = [[(rec.raw_xml, digest) for rec, digest in items[i:i + size]] for i in range(0, len(items), size)]
        results = self.pool.map(_judge_in_worker, [self.recipe] * len(batches), batches)
        # Workers send versions back without the XML they were given: it is here already.
        return [dataclasses.replace(version, raw_xml=rec.raw_xml)
                for version, (rec, _) in zip((v for batch in results for v in batch), items, strict=True)]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def __enter__(self) -> Judges:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def _tools(recipe: Recipe) -> tuple[etree.XSLT | None, ParseFunction]:
    return (xslt.compile_stylesheet(recipe.xslt) if recipe.xslt else None), default_parse()


def judge_xml(raw: str, digest: str, recipe: Recipe) -> RecordVersion:
    """One record judged from its XML alone, rebuilt with the safe parser (default parser, stylesheet compiled once)."""
    transform, parse = _tools(recipe)
    return judge(record_from_element(safexml.parse_bytes(raw.encode()), raw), digest, recipe, transform, parse)


def _judge_in_worker(recipe: Recipe, batch: list[tuple[str, str]]) -> list[RecordVersion]:
    # The caller has the XML: it is not pickled back.
    return [dataclasses.replace(judge_xml(raw, digest, recipe), raw_xml=None) for raw, digest in batch]


# -- the parser and its schemas ---------------------------------------------------------------------

def default_parse() -> ParseFunction:
    from harvest.parse import parse_metadata

    schemas = mods_schema_loader()
    return functools.partial(parse_metadata, mods_schemas=schemas) if schemas else parse_metadata


def mods_schema_loader() -> Callable[[str], etree.XMLSchema] | None:
    """The MODS XSDs shipped in ``exports/schemas``, compiled once per version; None if they are absent."""
    folder = resources.files("exports") / "schemas"
    if not (folder / "mods-3-7.xsd").is_file():
        log.warning("no MODS XSDs in exports/schemas: harvested records get no schema verdict (xsd_valid empty)")
        return None

    @functools.cache
    def load(version: str) -> etree.XMLSchema:
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        with resources.as_file(folder / f"mods-{version.replace('.', '-')}.xsd") as path:
            return etree.XMLSchema(etree.parse(str(path), parser))

    return load
