"""Read a download back with a parser written by others, per format, down to each record's main title.

A body that a parser rejects, or an XML document its schema rejects, fails the test here, so
every endpoint test that goes through ``titles`` also checks the download's syntax.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import jsonschema
import pymarc
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from lxml import etree

from exports.schemas import safe_parser, validation_errors

CSL_SCHEMA = json.loads((Path(__file__).parents[1] / "exports" / "data" / "csl-data.json").read_text("utf-8"))
NS = {"mods": "http://www.loc.gov/mods/v3", "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/", "dcite": "http://datacite.org/schema/kernel-4"}
# (schema of one record, schema of a list, XPath of each record's main title)
XML_FORMATS = {
    "mods": ("mods-3-7", "mods-3-7", "//mods:mods/mods:titleInfo[not(@type)][1]/mods:title"),
    "swepub_mods": ("mods-3-7", "mods-3-7", "//mods:mods/mods:titleInfo[not(@type)][1]/mods:title"),
    "oai_dc": ("oai_dc", "hylla-dc-records", "//oai_dc:dc/dc:title[1]"),
    "dc": ("hylla-dc-records", "hylla-dc-records", "//metadata/dc:title[1]"),
    "datacite": ("datacite-metadata-v4.6", "hylla-datacite-resources",
                 "//dcite:resource/dcite:titles/dcite:title[not(@titleType)][1]"),
}


def _bibtex(text: str) -> list[str]:
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return [entry.fields_dict["title"].value for entry in library.entries]


def _ris(text: str) -> list[str]:
    assert "\r\n" in text  # reference managers expect CRLF
    return [record["title"] for record in rispy.loads(text)]


def _csl_json(text: str) -> list[str]:
    items = json.loads(text)
    jsonschema.Draft7Validator(CSL_SCHEMA).validate(items)
    return [item["title"] for item in items]


def _csv(text: str) -> list[str]:
    assert text.startswith("\ufeff")  # the byte order mark Excel needs to read UTF-8
    return [row["Title"] for row in csv.DictReader(io.StringIO(text[1:]))]


def _xml(format_name: str, body: bytes, many: bool) -> list[str]:
    one, listed, path = XML_FORMATS[format_name]
    assert validation_errors(body, listed if many else one) == []
    return [el.text for el in etree.fromstring(body, safe_parser()).xpath(path, namespaces=NS)]


def _marcxml(body: bytes) -> list[str]:
    assert validation_errors(body, "MARC21slim") == []
    return [record["245"]["a"] for record in pymarc.parse_xml_to_array(io.BytesIO(body))]


def titles(format_name: str, body: bytes, *, many: bool = False) -> list[str]:
    """The main title of each record in ``body``, as the format's own parser reads them."""
    if format_name in XML_FORMATS:
        return _xml(format_name, body, many)
    if format_name == "marcxml":
        return _marcxml(body)
    readers = {"bibtex": _bibtex, "ris": _ris, "csl-json": _csl_json, "csv": _csv}
    if format_name not in readers:
        raise AssertionError(f"no independent reader for the format {format_name!r}: add one to {__file__}")
    return readers[format_name](body.decode("utf-8"))
