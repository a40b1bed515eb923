"""MODS ``name`` elements to contributors, organisation units and conferences, plus the MODS lookups both MODS readers use.

Names are where feeds differ most: family/given ``namePart``s or one "Family, Given"; ORCIDs in
``nameIdentifier`` (MODS 3.7), in ``description`` as ``orcid.org=...`` (older DiVA) or in a typed
``description`` (Chalmers); local ids in ``nameIdentifier type="<org>"`` or ``@authority`` +
``@xlink:href``; affiliations as free text or coded with ``authority``/``valueURI``. Corporate names
with role ``pbl``/``org`` and an authority are the delivering organisation's own units and become
``OrgUnitRef``s, which is how Hylla's swepub_mods writes ``Publication.org_units`` back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from exports.readmodel import Affiliation, Conference, Contributor, OrgUnitRef
from harvest.parse_values import identifier_value, language_code, plain_text

MODS_NS = "http://www.loc.gov/mods/v3"
M = f"{{{MODS_NS}}}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

_PERSON_ID_TYPES = frozenset({"orcid", "isni", "scopus", "researcherid", "viaf", "lcnaf"})
_NOT_A_LOCAL_ID = frozenset({"n/a", "na", "-"})
_CREATOR_ROLES = frozenset({"aut", "edt", "cre"})
_ROLE_WORDS = {"author": "aut", "editor": "edt", "creator": "cre", "publisher": "pbl", "thesis advisor": "ths",
               "degree supervisor": "ths", "opponent": "opn", "contributor": "ctb", "translator": "trl"}


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(M + name)


def child(el: etree._Element | None, path: str) -> etree._Element | None:
    """The first element at a ``m:``-prefixed path below ``el`` (None stays None)."""
    return None if el is None else el.find(path.replace("m:", M))


def attr(el: etree._Element, name: str) -> str:
    return (el.get(name) or "").strip()


def lang_of(el: etree._Element) -> str | None:
    value = el.get("lang") or el.get("{http://www.w3.org/XML/1998/namespace}lang")
    return language_code(value) if value and value.strip() else None


def roles_of(name: etree._Element) -> tuple[str, ...]:
    """MARC relator codes; the few English role words some feeds write as text are mapped too."""
    roles: list[str] = []
    for term in name.findall(f"{M}role/{M}roleTerm"):
        value = plain_text(term).lower()
        code = value if attr(term, "type") != "text" else _ROLE_WORDS.get(value, "")
        if code and code not in roles:
            roles.append(code)
    return tuple(roles)


def orcid_of(name: etree._Element) -> str | None:
    for ident in children(name, "nameIdentifier"):
        if attr(ident, "type").lower() == "orcid" and plain_text(ident):
            return identifier_value("orcid", plain_text(ident))
    for desc in children(name, "description"):
        text = plain_text(desc)
        if text.lower().startswith("orcid.org="):
            return identifier_value("orcid", text.split("=", 1)[1])
        if attr(desc, "type").lower() == "orcid" and text:
            return identifier_value("orcid", text)
    return None


def local_id_of(name: etree._Element) -> str | None:
    """The organisation's own id: a ``nameIdentifier`` of its type, else ``xlink:href`` beside ``@authority``."""
    authority = attr(name, "authority")
    candidates = [(attr(i, "type"), plain_text(i)) for i in children(name, "nameIdentifier")]
    candidates = [(kind, value) for kind, value in candidates if value and kind.lower() not in _PERSON_ID_TYPES]
    for kind, value in candidates:
        if kind == authority:
            return value
    if candidates:
        return candidates[0][1]
    href = attr(name, XLINK_HREF)
    return href if authority and href and href.lower() not in _NOT_A_LOCAL_ID else None


def _affiliation(aff: etree._Element) -> Affiliation | None:
    text, authority, uri = plain_text(aff), attr(aff, "authority"), attr(aff, "valueURI")
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


def affiliations_of(name: etree._Element) -> tuple[Affiliation, ...]:
    found: dict[tuple[str, str] | int, Affiliation] = {}
    for n, aff in enumerate(children(name, "affiliation")):
        affiliation = _affiliation(aff)
        if affiliation is not None:
            # Lund and DiVA repeat each coded affiliation once per language: the first one stays.
            uri = attr(aff, "valueURI")
            found.setdefault((attr(aff, "authority"), uri) if uri else n, affiliation)
    return tuple(found.values())


def person_name(name: etree._Element) -> tuple[str | None, str | None]:
    parts = children(name, "namePart")

    def typed(kind: str) -> str:
        return " ".join(text for p in parts if attr(p, "type") == kind and (text := plain_text(p)))

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


def _corporate(name: etree._Element, label: str, names: Names) -> None:
    roles, authority, local_id = roles_of(name), attr(name, "authority"), local_id_of(name)
    if authority and set(roles) & {"pbl", "org"} and not set(roles) & _CREATOR_ROLES:
        code = local_id or label
        parts = [text for p in children(name, "namePart") if (text := plain_text(p))]
        names.units.setdefault(code, OrgUnitRef(code, parts[-1] if parts else label, f"{authority}:{code}"))
        return
    affiliations = affiliations_of(name)
    if authority and not local_id:
        # Keep the authority SwePub's rule 02 asks of a corporate creator even without an id.
        affiliations += (Affiliation(authority, institution_code=authority),)
    names.contributors.append(Contributor(corporate_name=label, roles=roles, local_id=local_id,
                                          affiliations=affiliations))


def read_names(parent: etree._Element) -> Names:
    names = Names()
    for name in children(parent, "name"):
        kind = attr(name, "type")
        label = ", ".join(text for p in children(name, "namePart") if (text := plain_text(p)))
        if kind == "conference":
            names.conference = names.conference or (Conference(label) if label else None)
        elif kind == "corporate":
            _corporate(name, label, names)
        else:
            family, given = person_name(name)
            names.contributors.append(Contributor(family=family, given=given, roles=roles_of(name),
                                                  orcid=orcid_of(name), local_id=local_id_of(name),
                                                  affiliations=affiliations_of(name)))
    return names
