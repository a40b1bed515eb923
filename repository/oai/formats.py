"""The metadata formats the provider disseminates: prefix, schema, namespace and the crosswalk that writes each.

The crosswalks are the pure functions of ``exports/`` (also used by the export endpoints), looked
up through ``exports.registry``; a format lists here only what OAI-PMH adds (its schema URL and
namespace, and whether every record can be written in it).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from exports import dc, mods
from exports import readmodel as rm
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


FORMATS: dict[str, MetadataFormat] = {
    f.prefix: f for f in (
        MetadataFormat("oai_dc", "oai_dc", dc.SCHEMA_LOCATION),
        MetadataFormat("mods", "mods", mods.SCHEMA_LOCATION),
        # SwePub's profile is MODS 3.7 on the wire: DiVA advertises it with the MODS schema too.
        MetadataFormat("swepub_mods", "swepub_mods", mods.SCHEMA_LOCATION, available_for=_has_record_uri,
                       needs_record_uri=True),
    )
}
