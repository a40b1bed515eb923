"""MODS ``name`` elements to contributors, organisation units and conferences, plus the MODS lookups both MODS readers use.

Names are where feeds differ most: family/given ``namePart``s or one "Family, Given"; ORCIDs in
``nameIdentifier`` (MODS 3.7), in ``description`` as ``orcid.org=...`` (older DiVA) or in a typed
``description`` (Chalmers); local ids in ``nameIdentifier type="<org>"`` or ``@authority`` +
``@xlink:href``; affiliations as free text or coded with ``authority``/``valueURI``. Corporate names
with role ``pbl``/``org`` and an authority are the delivering organisation's own units and become
``OrgUnitRef``s, which is how Hylla's swepub_mods writes ``Publication.org_units`` back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from lxml import etree

from exports.readmodel import Affiliation, Conference, Contributor, OrgUnitRef
from harvest.parse_values import identifier_value, language_code, plain_text

MODS_NS = "http://www.loc.gov/mods/v3"
M = f"{{{MODS_NS}}}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_ROLE_TERM = f"{M}roleTerm"

_PERSON_ID_TYPES = frozenset({"orcid", "isni", "scopus", "researcherid", "viaf", "lcnaf"})
_NOT_A_LOCAL_ID = frozenset({"n/a", "na", "-"})
_CREATOR_ROLES = frozenset({"aut", "edt", "cre"})
_ROLE_WORDS = {"author": "aut", "editor": "edt", "creator": "cre", "publisher": "pbl", "thesis advisor": "ths",
               "degree supervisor": "ths", "opponent": "opn", "contributor": "ctb", "translator": "trl"}


def children(el: etree._Element, name: str) -> list[etree._Element]:
    # iterchildren filters by tag in C; findall goes through lxml's path machinery on every call.
    return list(el.iterchildren(M + name))


@functools.cache
def _steps(path: str) -> tuple[str, ...]:
    return tuple(M + step.removeprefix("m:") for step in path.split("/"))


def child(el: etree._Element | None, path: str) -> etree._Element | None:
    """The first element at a ``m:``-prefixed path below ``el`` (None stays None), in document order as ``find``."""
    return None if el is None else _first(el, _steps(path))


def _first(el: etree._Element, steps: tuple[str, ...]) -> etree._Element | None:
    head, rest = steps[0], steps[1:]
    for found in el.iterchildren(head):
        if not rest:
            return found
        deeper = _first(found, rest)
        if deeper is not None:
            return deeper
    return None


def attr(el: etree._Element, name: str) -> str:
    return (el.get(name) or "").strip()


def lang_of(el: etree._Element) -> str | None:
    value = el.get("lang") or el.get("{http://www.w3.org/XML/1998/namespace}lang")
    return language_code(value) if value and value.strip() else None


class Kids:
    """An element's child elements by tag, gathered in one pass.

    Reading a ``name`` or a whole record asks for a dozen kinds of child; one pass over the
    children costs less than a single lxml lookup per question.
    """

    __slots__ = ("el", "_by_tag")

    def __init__(self, el: etree._Element) -> None:
        self.el = el
        by_tag: dict[str, list[etree._Element]] = {}
        for found in el.iterchildren(etree.Element):  # elements only: no comments or processing instructions
            by_tag.setdefault(found.tag, []).append(found)
        self._by_tag = by_tag

    def all(self, name: str) -> list[etree._Element]:
        return self._by_tag.get(M + name, [])

    def first(self, name: str) -> etree._Element | None:
        found = self._by_tag.get(M + name)
        return found[0] if found else None


def roles_of(name: Kids) -> tuple[str, ...]:
    """MARC relator codes; the few English role words some feeds write as text are mapped too."""
    roles: list[str] = []
    for term in (t for role in name.all("role") for t in role.iterchildren(_ROLE_TERM)):
        value = plain_text(term).lower()
        code = value if attr(term, "type") != "text" else _ROLE_WORDS.get(value, "")
        if code and code not in roles:
            roles.append(code)
    return tuple(roles)


def orcid_of(name: Kids) -> str | None:
    for ident in name.all("nameIdentifier"):
        if attr(ident, "type").lower() == "orcid" and (text := plain_text(ident)):
            return identifier_value("orcid", text)
    for desc in name.all("description"):
        text = plain_text(desc)
        if text.lower().startswith("orcid.org="):
            return identifier_value("orcid", text.split("=", 1)[1])
        if attr(desc, "type").lower() == "orcid" and text:
            return identifier_value("orcid", text)
    return None


def local_id_of(name: Kids) -> str | None:
    """The organisation's own id: a ``nameIdentifier`` of its type, else ``xlink:href`` beside ``@authority``."""
    authority = attr(name.el, "authority")
    candidates = [(attr(i, "type"), plain_text(i)) for i in name.all("nameIdentifier")]
    candidates = [(kind, value) for kind, value in candidates if value and kind.lower() not in _PERSON_ID_TYPES]
    for kind, value in candidates:
        if kind == authority:
            return value
    if candidates:
        return candidates[0][1]
    href = attr(name.el, XLINK_HREF)
    return href if authority and href and href.lower() not in _NOT_A_LOCAL_ID else None


def _affiliation(text: str, authority: str, uri: str) -> Affiliation | None:
    if not (text or uri):
        return None
    name = text or uri
    if authority == "kb.se" and uri.startswith("https://id.kb.se/country/"):
        return Affiliation(name, country=uri.rsplit("/", 1)[1].upper())
    if authority == "kb.se":
        return Affiliation(name, institution_domain=uri or None)
    if authority.lower() == "ror":
        return Affiliation(name, ror=uri or None)
    if authority and uri:
        return Affiliation(name, unit_code=uri, institution_domain=authority if "." in authority else None)
    return Affiliation(name)


def affiliations_of(name: Kids) -> tuple[Affiliation, ...]:
    found: dict[tuple[str, str] | int, Affiliation] = {}
    for n, aff in enumerate(name.all("affiliation")):
        authority, uri = attr(aff, "authority"), attr(aff, "valueURI")
        affiliation = _affiliation(plain_text(aff), authority, uri)
        if affiliation is not None:
            # Lund and DiVA repeat each coded affiliation once per language: the first one stays.
            found.setdefault((authority, uri) if uri else n, affiliation)
    return tuple(found.values())


def person_name(parts: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """Family and given name from the ``(type, text)`` of each non-empty ``namePart``."""

    def typed(kind: str) -> str:
        return " ".join(text for part_type, text in parts if part_type == kind)

    family, given = typed("family"), typed("given")
    if not family and not given:
        # A single namePart "Family, Given", as older feeds and many non-DiVA sources write it.
        family, _, given = (s.strip() for s in typed("").partition(","))
    return family or None, given or None


@dataclass
class Names:
    """The ``name`` elements of one record (or of a related item), sorted by what they are."""

    contributors: list[Contributor] = field(default_factory=list)
    units: dict[str, OrgUnitRef] = field(default_factory=dict)
    conference: Conference | None = None


def _corporate(name: Kids, label: str, parts: list[str], names: Names) -> None:
    roles, authority, local_id = roles_of(name), attr(name.el, "authority"), local_id_of(name)
    if authority and set(roles) & {"pbl", "org"} and not set(roles) & _CREATOR_ROLES:
        code = local_id or label
        names.units.setdefault(code, OrgUnitRef(code, parts[-1] if parts else label, f"{authority}:{code}"))
        return
    affiliations = affiliations_of(name)
    if authority and not local_id:
        # Keep the authority SwePub's rule 02 asks of a corporate creator even without an id.
        affiliations += (Affiliation(authority, institution_code=authority),)
    names.contributors.append(Contributor(corporate_name=label, roles=roles, local_id=local_id,
                                          affiliations=affiliations))


def read_names(elements: list[etree._Element]) -> Names:
    """What the ``name`` elements of a record or a related item say."""
    names = Names()
    for element in elements:
        name = Kids(element)
        kind = attr(element, "type")
        parts = [(attr(p, "type"), text) for p in name.all("namePart") if (text := plain_text(p))]
        label = ", ".join(text for _, text in parts)
        if kind == "conference":
            names.conference = names.conference or (Conference(label) if label else None)
        elif kind == "corporate":
            _corporate(name, label, [text for _, text in parts], names)
        else:
            family, given = person_name(parts)
            names.contributors.append(Contributor(family=family, given=given, roles=roles_of(name),
                                                  orcid=orcid_of(name), local_id=local_id_of(name),
                                                  affiliations=affiliations_of(name)))
    return names
