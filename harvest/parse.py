"""Harvested metadata (swepub_mods, mods, oai_dc) to read-model records, each with SwePub's verdict on it.

``parse_metadata`` takes the ``metadata`` element of one OAI-PMH record (or its payload) as
``harvest.safexml`` parsed it and returns a ``ParsedRecord``: the Publication, every problem the
parse step, SwePub's minimum level and the field checks find (most severe first), and whether a
MODS payload is valid against the MODS 3.7 schema (3.8 when it says ``version="3.8"``). Schema
validity is only a flag: real DiVA records fail the XSD and SwePub still takes them.

The Publication's ``id`` is the full OAI identifier (``oai:DiVA.org:kth-256035``), not its local
part: it is unique across sources without knowing each source's identifier scheme, and
``oai_identifier`` holds the same value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from lxml import etree

from exports.quality import Problem, by_severity, is_blank, mods_data_missing, preflight
from exports.readmodel import Publication
from harvest.parse_dc import OAI_DC_NS, dc_open_access, read_dc
from harvest.parse_mods import ModsReader
from harvest.parse_mods_names import MODS_NS

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
MODS_TAG = f"{{{MODS_NS}}}mods"
MODS_COLLECTION_TAG = f"{{{MODS_NS}}}modsCollection"
OAI_DC_TAG = f"{{{OAI_DC_NS}}}dc"

# Given a MODS version ("3.7" or "3.8"), the compiled XSD to check a payload against.
SchemaLoader = Callable[[str], etree.XMLSchema]


class UnsupportedMetadataFormat(ValueError):
    """A metadata format this parser cannot read (neither MODS nor oai_dc)."""


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    publication: Publication | None
    problems: list[Problem]
    xsd_valid: bool | None  # None: not MODS, or no schema was at hand
    # A free full text or an open licence, as the record says (the read model has no field for it).
    open_access: bool = False

    @property
    def accepted(self) -> bool:
        """SwePub would take the record: it was read and nothing rejects it."""
        return self.publication is not None and not any(p.severity == "reject" for p in self.problems)


def is_mods_prefix(prefix: str) -> bool:
    """``swepub_mods``, ``mods``, ``mods_swepub`` and the like: sources name their MODS profiles freely."""
    return "mods" in prefix.lower()


def _payload(metadata: etree._Element | None) -> etree._Element | None:
    """The record's payload: the first element inside OAI ``metadata``, or the element itself."""
    if metadata is None or metadata.tag != f"{{{OAI_NS}}}metadata":
        return metadata
    return next((child for child in metadata if isinstance(child.tag, str)), None)


def _mods_of(payload: etree._Element | None) -> etree._Element | None:
    if payload is None:
        return None
    if payload.tag == MODS_TAG:
        return payload
    if payload.tag == MODS_COLLECTION_TAG:
        return payload.find(MODS_TAG)
    return None


def mods_version(mods: etree._Element) -> str:
    """The schema a payload is checked against: 3.8 when it says so, 3.7 (what SwePub builds on) otherwise."""
    return "3.8" if (mods.get("version") or "").strip() == "3.8" else "3.7"


def validate_mods(mods: etree._Element, schemas: SchemaLoader) -> tuple[bool, Problem | None]:
    """Whether the payload is valid MODS, and an info problem naming the first schema error if not."""
    version = mods_version(mods)
    schema = schemas(version)
    # lxml validates an element that is not its document's root as the root of a stand-in
    # document, without copying it: the OAI envelope around the payload is not checked, and
    # there is no serialising and parsing of each record again (which cost as much as the check).
    if schema.validate(mods):
        return True, None
    first = schema.error_log[0] if len(schema.error_log) else None
    # Lines counted from the payload's first line, whatever page or stylesheet result held it.
    line = first.line - (mods.sourceline or 1) + 1 if first is not None and first.line else None
    detail = f" (line {line}: {first.message})" if first is not None and line else \
        f" ({first.message})" if first is not None else ""
    return False, Problem("mods_schema_invalid", "info", "metadata", f"The record is not valid MODS {version}"
                          f"{detail}; SwePub reads it all the same, but the source should fix its export.")


def _judged(pub: Publication, parse_problems: list[Problem], xsd_valid: bool | None, today: dt.date | None,
            institution_code: str | None, open_access: bool) -> ParsedRecord:
    if institution_code and is_blank(pub.institution_code):
        pub = replace(pub, institution_code=institution_code)
        parse_problems = parse_problems + [Problem(
            "institution_from_source", "info", "institution_code", f"The record names no organisation "
            f"(recordContentSource); the source's code {institution_code!r} is used.", "recordContentSource")]
    verdict = preflight(pub, today=today)
    return ParsedRecord(pub, by_severity(parse_problems + list(verdict.problems)), xsd_valid, open_access)


def parse_metadata(metadata: etree._Element | None, prefix: str, *, oai_identifier: str,
                   datestamp: dt.datetime | None, mods_schemas: SchemaLoader | None = None,
                   today: dt.date | None = None, institution_code: str | None = None) -> ParsedRecord:
    """One harvested record's metadata as a read-model record with its problems.

    ``prefix`` is the OAI ``metadataPrefix`` the record was harvested with. A MODS prefix without a
    ``mods:mods`` payload is SwePub's rejection 00; an oai_dc prefix without ``oai_dc:dc`` is
    rejected likewise. Other formats raise ``UnsupportedMetadataFormat``. ``mods_schemas`` supplies
    the compiled MODS XSDs; without it ``xsd_valid`` is None. ``institution_code`` is the source's
    organisation code, given (with an info problem saying so) to a record that names none: oai_dc
    has no recordContentSource, so without it every Dublin Core record fails SwePub's rule 01.
    """
    if not oai_identifier or not oai_identifier.strip():
        raise ValueError("a harvested record needs its OAI identifier")
    payload = _payload(metadata)
    if is_mods_prefix(prefix) or (payload is not None and payload.tag in (MODS_TAG, MODS_COLLECTION_TAG)):
        mods = _mods_of(payload)
        if mods is None:
            return ParsedRecord(None, [mods_data_missing()], None)
        xsd_valid, schema_problem = validate_mods(mods, mods_schemas) if mods_schemas else (None, None)
        reader = ModsReader(mods, oai_identifier=oai_identifier)
        pub = reader.read(datestamp=datestamp)
        return _judged(pub, reader.problems + ([schema_problem] if schema_problem else []), xsd_valid, today,
                       institution_code, reader.open_access)
    if prefix == "oai_dc" or (payload is not None and payload.tag == OAI_DC_TAG):
        if payload is None or payload.tag != OAI_DC_TAG:
            return ParsedRecord(None, [Problem("dc_data_missing", "reject", "metadata", "The record's metadata "
                                               "holds no oai_dc:dc element, so there is nothing to import.")], None)
        return _judged(read_dc(payload, oai_identifier=oai_identifier, datestamp=datestamp), [], None, today,
                       institution_code, dc_open_access(payload))
    found = "no payload" if payload is None else f"a {etree.QName(payload).text} payload"
    raise UnsupportedMetadataFormat(f"metadata format {prefix!r} ({found}) cannot be read: Hylla reads "
                                    "swepub_mods, mods and oai_dc")
