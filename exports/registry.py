"""The export formats Hylla speaks: name, MIME type, file extension, label and the module that writes it.

The web layer, the OAI-PMH provider and the harvester all look formats up here, so a format is
added in one place. Each writer module defines two pure functions:

- ``render(pub: Publication) -> bytes``: one record as a complete document;
- ``render_many(pubs: Iterable[Publication]) -> Iterator[bytes]``: a list as one document, written
  in chunks so that 100,000 records stream with flat memory.

Modules are imported on first use, so a process that only needs BibTeX never loads citeproc.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType

from exports.readmodel import Publication


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    mime_type: str
    extension: str
    label: str
    module: str
    is_xml: bool = False

    def _writer(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def render(self) -> Callable[[Publication], bytes]:
        return self._writer().render

    @property
    def render_many(self) -> Callable[[Iterable[Publication]], Iterator[bytes]]:
        return self._writer().render_many

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("bibtex", "application/x-bibtex", "bib", "BibTeX", "exports.bibtex"),
        Format("ris", "application/x-research-info-systems", "ris", "RIS (EndNote, Zotero, Mendeley)", "exports.ris"),
        Format("csl-json", "application/vnd.citationstyles.csl+json", "json", "CSL-JSON", "exports.csljson"),
        Format("csv", "text/csv", "csv", "CSV (spreadsheet)", "exports.csv_export"),
        Format("mods", "application/mods+xml", "xml", "MODS 3.7", "exports.mods", is_xml=True),
        Format("swepub_mods", "application/xml", "xml", "SwePub MODS", "exports.swepub", is_xml=True),
        Format("oai_dc", "application/xml", "xml", "OAI Dublin Core", "exports.dc", is_xml=True),
        Format("dc", "application/xml", "xml", "Dublin Core XML", "exports.dc_simple", is_xml=True),
        Format("datacite", "application/vnd.datacite.datacite+xml", "xml", "DataCite 4 XML", "exports.datacite", is_xml=True),
        Format("marcxml", "application/marcxml+xml", "xml", "MARCXML (library catalogues)", "exports.marcxml", is_xml=True),
    )
}


class UnknownFormat(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown export format {name!r}; known formats: {', '.join(FORMATS)}")
        self.name = name


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormat(name) from None


def by_mime_type(mime_type: str) -> Format | None:
    """The format a client asks for with ``Accept`` (DOI-style content negotiation)."""
    for fmt in FORMATS.values():
        if fmt.mime_type == mime_type and fmt.name not in ("swepub_mods", "oai_dc"):
            return fmt
    return None
