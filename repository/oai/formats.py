"""The metadata formats the provider disseminates: prefix, schema, namespace and the crosswalk that writes each.

The crosswalks are the pure functions of ``exports/`` (also used by the export endpoints), looked
up through ``exports.registry``; a format lists here only what OAI-PMH adds (its schema URL and
namespace, and whether every record can be written in it). ``write`` writes a record in a format
with the facts its header needs; what it gives is kept between harvests (``payloads``), so this
module is part of the code whose digest says whether a kept copy is current.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from exports import dc, mods
from exports import readmodel as rm
from exports.quality import minimum_level
from exports.registry import get_format
from exports.swepub import record_uri


@functools.cache
def _crosswalk(registry_name: str) -> ModuleType:
    return importlib.import_module(get_format(registry_name).module)


def _always(_pub: rm.Publication) -> bool:
    return True


def _has_record_uri(pub: rm.Publication) -> bool:
    """swepub_mods needs the record's URI (rule 09); the crosswalk refuses a record without one."""
    try:
        record_uri(pub)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class MetadataFormat:
    prefix: str
    registry_name: str
    schema_location: str  # "namespace schema-URL", the crosswalk's own, so the two never disagree
    # Whether a record can be disseminated in this format (ListMetadataFormats with an identifier,
    # GetRecord's cannotDisseminateFormat, and which records a list request includes).
    available_for: Callable[[rm.Publication], bool] = _always
    needs_record_uri: bool = False

    @property
    def namespace(self) -> str:
        return self.schema_location.split()[0]

    @property
    def schema(self) -> str:
        return self.schema_location.split()[1]

    def element(self, pub: rm.Publication, today: dt.date) -> etree._Element:
        """The record's payload for ``<metadata>``, with its namespaces and schemaLocation on it."""
        return _crosswalk(self.registry_name).element(pub, today=today)  # type: ignore[no-any-return]


def passes_swepub_minimum_level(pub: rm.Publication) -> bool:
    return not any(problem.severity == "reject" for problem in minimum_level(pub))


@dataclass(frozen=True, slots=True)
class Written:
    """A record as written in one format: its payload and the facts its header needs."""

    xml: bytes  # the <metadata> content, UTF-8 without a declaration; empty when not available
    available: bool  # whether the format can write this record (swepub_mods needs a URI)
    swepub: bool  # passes SwePub's minimum level (the SwePub-<code> set)
    open_access: bool
    unit_ids: frozenset[int]


def write(pub: rm.Publication, metadata_format: MetadataFormat, today: dt.date,
          unit_ids_by_path: Mapping[str, int]) -> Written:
    """The record written now, in the format, with its header's facts read off the same read model."""
    available = metadata_format.available_for(pub)
    xml = etree.tostring(metadata_format.element(pub, today), encoding="UTF-8", xml_declaration=False) \
        if available else b""
    return Written(xml, available, passes_swepub_minimum_level(pub), pub.is_open_access_on(today),
                   frozenset(unit_ids_by_path[u.path] for u in pub.org_units if u.path in unit_ids_by_path))


FORMATS: dict[str, MetadataFormat] = {
    f.prefix: f for f in (
        MetadataFormat("oai_dc", "oai_dc", dc.SCHEMA_LOCATION),
        MetadataFormat("mods", "mods", mods.SCHEMA_LOCATION),
        # SwePub's profile is MODS 3.7 on the wire: DiVA advertises it with the MODS schema too.
        MetadataFormat("swepub_mods", "swepub_mods", mods.SCHEMA_LOCATION, available_for=_has_record_uri,
                       needs_record_uri=True),
    )
}
