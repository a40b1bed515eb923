"""The repository's OAI-PMH sets: their setSpecs and names, what a ``set`` argument selects, a record's setSpecs.

The hierarchy (specification 2.6: colon-separated setSpecs, a set includes its descendants):

- ``type`` > ``type:<code>``: SVEP publication type, or ``stud`` for student theses;
- ``content`` > ``content:ref|vet|pop``: peer reviewed, other academic, popular;
- ``org`` > ``org:<institution>`` > ``org:<institution>:<faculty>`` > ...: a record belongs to its
  own institution and to the units its contributors were affiliated with (and so, through
  the hierarchy, to every ancestor of those units);
- ``openaccess``: a full text anyone may read today (embargoes lift by themselves);
- ``theses``: doctoral, licentiate and student theses;
- ``SwePub-<institution>``: the institution's records that go to SwePub, as DiVA names the set.

A header lists the fewest setSpecs that say all of this (specification 2.6: ``org:uu:teknat``
implies ``org:uu`` and ``org``, so only the deepest is written). Which rows a selector matches is
SQL in ``repository.oai.queries``; this module knows only names and the shape of the hierarchy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exports.quality import is_blank
from exports.readmodel import CONTENT_TYPES, PUBLICATION_TYPES
from repository.web.context import CONTENT_LABELS, TYPE_LABELS

THESIS_TYPES: tuple[str, ...] = ("dok", "lic", "stud")
SWEPUB_PREFIX = "SwePub-"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!*'()")


def set_tag(code: str) -> str:
    """``code`` as one setSpec tag: URI unreserved characters only (``~`` escapes the rest as UTF-8 hex).

    Institution and unit codes are short ASCII codes in practice; a stray space or colon in one
    must still not produce an invalid (or wrongly nested) setSpec.
    """
    return "".join(ch if ch in _UNRESERVED else "".join(f"~{b:02X}" for b in ch.encode("utf-8")) for ch in code)


@dataclass(frozen=True, slots=True)
class InstitutionRef:
    id: int
    code: str
    name: str

    @property
    def org_spec(self) -> str:
        return f"org:{set_tag(self.code)}"

    @property
    def swepub_spec(self) -> str | None:
        """None when the institution has no usable code: SwePub rejects every such record (rule 01)."""
        return None if is_blank(self.code) else f"{SWEPUB_PREFIX}{set_tag(self.code)}"


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: int
    institution_id: int
    path: str  # "uu:teknat:kemi": the institution's code first
    name: str

    @property
    def org_spec(self) -> str:
        return "org:" + ":".join(set_tag(part) for part in self.path.split(":"))


@dataclass(frozen=True, slots=True)
class SetSelector:
    """What a ``set`` argument selects, in terms the queries understand.

    kind: ``all`` (a top node every record is under), ``type``, ``content`` (``value`` None for any
    content type), ``org`` (records of ``institution_id`` and records with contributors in
    ``unit_ids``), ``openaccess``, ``theses``, ``swepub`` (SwePub records of ``institution_id``).
    """

    kind: str
    value: str | None = None
    institution_id: int | None = None
    unit_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordSets:
    """The facts about one record that decide its sets."""

    publication_type: str
    content_type: str | None
    institution_id: int
    unit_ids: frozenset[int]
    open_access: bool
    swepub: bool


class SetCatalogue:
    """Every set of the repository, built from its institutions and organisation units (a few hundred rows)."""

    def __init__(self, institutions: Iterable[InstitutionRef], units: Iterable[UnitRef]) -> None:
        self.institutions = {i.id: i for i in institutions}
        self.units = {u.id: u for u in units}
        # The specs of each institution and unit, made once (headers name them for every record).
        self.org_specs = {i.id: i.org_spec for i in self.institutions.values()}
        self.swepub_specs = {i.id: spec for i in self.institutions.values() if (spec := i.swepub_spec)}
        self._unit_specs = {u.id: u.org_spec for u in self.units.values()}
        self.unit_ids_by_path = {u.path: u.id for u in self.units.values()}
        # Records of a page share a few combinations of facts: each combination's specs are made once.
        self._header_specs: dict[RecordSets, tuple[str, ...]] = {}

    def sets(self) -> list[tuple[str, str]]:
        """(setSpec, setName) of every set, parents before their children."""
        found = [("type", "Publication type")]
        found += [(f"type:{t}", f"Publication type: {TYPE_LABELS.get(t, t)}") for t in PUBLICATION_TYPES]
        found.append(("content", "Content type"))
        found += [(f"content:{c}", f"Content type: {CONTENT_LABELS.get(c, c)}") for c in CONTENT_TYPES]
        found.append(("org", "Organisation"))
        for inst in sorted(self.institutions.values(), key=lambda i: i.org_spec):
            found.append((inst.org_spec, inst.name))
            units = [u for u in self.units.values() if u.institution_id == inst.id]
            found += [(u.org_spec, f"{u.name} ({inst.name})") for u in sorted(units, key=lambda u: u.org_spec)]
        found.append(("openaccess", "Open access: a full text anyone may read"))
        found.append(("theses", "Theses: doctoral, licentiate and student theses"))
        for inst in sorted(self.institutions.values(), key=lambda i: i.code):
            if inst.swepub_spec:
                found.append((inst.swepub_spec, f"SwePub: records of {inst.name} for national reporting"))
        return found

    def selector(self, spec: str) -> SetSelector | None:
        """What ``spec`` selects, or None if the repository has no such set."""
        if spec in ("type", "org"):
            return SetSelector("all")
        if spec == "content":
            return SetSelector("content")
        if spec in ("openaccess", "theses"):
            return SetSelector(spec)
        head, _, tail = spec.partition(":")
        if head == "type" and tail in PUBLICATION_TYPES:
            return SetSelector("type", tail)
        if head == "content" and tail in CONTENT_TYPES:
            return SetSelector("content", tail)
        if head == "org" and tail:
            return self._org_selector(spec)
        if spec.startswith(SWEPUB_PREFIX):
            inst = next((i for i in self.institutions.values() if i.swepub_spec == spec), None)
            return SetSelector("swepub", institution_id=inst.id) if inst else None
        return None

    def _org_selector(self, spec: str) -> SetSelector | None:
        inst = next((i for i in self.institutions.values() if i.org_spec == spec), None)
        units = tuple(sorted(u.id for u in self.units.values()
                             if u.org_spec == spec or u.org_spec.startswith(spec + ":")))
        if inst is None and not any(u.org_spec == spec for u in self.units.values()):
            return None
        return SetSelector("org", institution_id=inst.id if inst else None, unit_ids=units)

    def header_specs(self, facts: RecordSets) -> tuple[str, ...]:
        """The record's setSpecs, without any that another one implies."""
        found = self._header_specs.get(facts)
        if found is None:
            found = self._header_specs[facts] = tuple(self._specs(facts))
        return found

    def _specs(self, facts: RecordSets) -> list[str]:
        specs = [f"type:{facts.publication_type}"]
        if facts.content_type in CONTENT_TYPES:
            specs.append(f"content:{facts.content_type}")
        org = {spec for uid in facts.unit_ids if (spec := self._unit_specs.get(uid)) is not None}
        if (inst_spec := self.org_specs.get(facts.institution_id)) is not None:
            org.add(inst_spec)
        # A unit's spec names its ancestors ("org:uu:teknat:kemi" implies "org:uu:teknat" and "org:uu").
        implied = {spec[:i] for spec in org for i, ch in enumerate(spec) if ch == ":"}
        specs += sorted(org - implied)
        if facts.open_access:
            specs.append("openaccess")
        if facts.publication_type in THESIS_TYPES:
            specs.append("theses")
        if facts.swepub and (swepub_spec := self.swepub_specs.get(facts.institution_id)):
            specs.append(swepub_spec)
        return specs
