"""swepub_mods: the MODS 3.7 record plus what SwePub, the national aggregator, reads on top of it.

SwePub checks every harvested record against its minimum level (rules 00-12 in
``specs/swepub-mods-summary.md``) and cannot correct anything, so this profile writes each
element the way SwePub's converter reads it, in the shape newer DiVA records have. The output
is still valid MODS 3.7. What it adds to ``exports.mods``:

- ``identifier type="uri"``, which SwePub links back to (rule 09): the record's ``uri``
  identifier, else the KB URN:NBN resolver address built from its ``urn`` identifier. A record
  with neither cannot go to SwePub and raises ValueError.
- ``dateIssued`` as ``YYYY`` or ``YYYY-MM-DD`` only, the two forms SwePub's date check accepts
  (a month-precise date is written as its year).
- Machine-readable affiliations next to the free-text one, as MODS 3.7 allows them only with
  ``xsi:type="stringPlusLanguagePlusAuthority"``: ``authority="kb.se" valueURI="<institution
  domain>"`` for the organisation, ``authority="<institution domain>" valueURI="<unit code>"``
  for its department, ``authority="kb.se" valueURI="https://id.kb.se/country/<code>"`` for the
  country, ``authority="ROR" valueURI="<ROR id>"``.
- The local authority on names (``authority="<institution code>" xlink:href="<local id>"``),
  which is what makes a corporate name count as a creator (rule 02), and the record's
  organisation units as corporate ``pbl`` names with that authority, as DiVA writes them.

Student theses (``stud``) are not SwePub output; they still render as valid MODS here, and the
OAI-PMH provider leaves them out of the SwePub set.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pycountry
from lxml import etree

from exports.mods import ModsCrosswalk, mods
from exports.readmodel import Affiliation, Contributor, PartialDate, Publication
from exports.xml import XLINK_HREF, XSI_TYPE, Attributes, add, add_text, has_text, tidy

URN_RESOLVER = "https://urn.kb.se/resolve?urn="
COUNTRY_BASE_URI = "https://id.kb.se/country/"
_AUTHORITY_TYPE = "stringPlusLanguagePlusAuthority"


def record_uri(pub: Publication) -> str:
    """The URI SwePub links to: the record's ``uri`` identifier, else its URN:NBN's resolver address."""
    uri = pub.identifier("uri")
    if has_text(uri):
        return tidy(uri)
    urn = pub.identifier("urn")
    if has_text(urn):
        return URN_RESOLVER + quote(tidy(urn), safe=":-.")
    raise ValueError(
        f"record {pub.id} has neither a uri nor a urn identifier, and swepub_mods needs the record's URI "
        f"(identifier type=\"uri\", e.g. {URN_RESOLVER}urn:nbn:se:uu:hylla-{pub.id}), which SwePub "
        "links back to: mint a URN:NBN for the record before it is sent to SwePub")


class SwepubCrosswalk(ModsCrosswalk):
    """The MODS crosswalk with SwePub's additions; see the module docstring for each one."""

    def element(self, pub: Publication, *, today: dt.date | None = None) -> etree._Element:
        record_uri(pub)  # fail before any work when the record cannot go to SwePub
        return super().element(pub, today=today)

    def identifiers(self, pub: Publication) -> list[tuple[str, str, str | None]]:
        found = super().identifiers(pub)
        if not any(kind == "uri" and has_text(value) for kind, value, _ in found):
            found.insert(0, ("uri", record_uri(pub), None))
        return found

    def date_issued(self, issued: PartialDate) -> str:
        if issued.day is None:
            return f"{issued.year:04d}"
        return issued.iso()

    def local_authority(self, contributor: Contributor, pub: Publication) -> str | None:
        """The organisation whose authority register the name is from, if we know one."""
        if contributor.local_id and pub.institution_code:
            return pub.institution_code
        if not contributor.is_person:
            return next((a.institution_code for a in contributor.affiliations if a.institution_code), None)
        return None

    def name_attributes(self, contributor: Contributor, pub: Publication) -> Attributes:
        authority = self.local_authority(contributor, pub)
        if authority is None:
            return {}
        return {"authority": authority, XLINK_HREF: contributor.local_id}

    def add_affiliation(self, name: etree._Element, affiliation: Affiliation, pub: Publication) -> None:
        super().add_affiliation(name, affiliation, pub)
        domain = affiliation.institution_domain
        if has_text(domain):
            ours = affiliation.institution_code is not None and affiliation.institution_code == pub.institution_code
            label = pub.institution_name if ours and has_text(pub.institution_name) else domain
            add(name, mods("affiliation"), label, {XSI_TYPE: _AUTHORITY_TYPE}, authority="kb.se", valueURI=domain)
            if has_text(affiliation.unit_code):
                unit = next((u.name for u in pub.org_units if u.code == affiliation.unit_code), affiliation.name)
                add(name, mods("affiliation"), unit, {XSI_TYPE: _AUTHORITY_TYPE}, authority=domain,
                    valueURI=affiliation.unit_code)
        if has_text(affiliation.country):
            code = tidy(affiliation.country).upper()
            country = pycountry.countries.get(alpha_2=code)
            add(name, mods("affiliation"), country.name if country else code, {XSI_TYPE: _AUTHORITY_TYPE},
                authority="kb.se", valueURI=COUNTRY_BASE_URI + quote(code.lower()))
        if has_text(affiliation.ror):
            add(name, mods("affiliation"), affiliation.name, {XSI_TYPE: _AUTHORITY_TYPE}, authority="ROR",
                valueURI=affiliation.ror)

    def add_names(self, root: etree._Element, pub: Publication) -> None:
        super().add_names(root, pub)
        for unit in pub.org_units:
            name = add(root, mods("name"), None, {XLINK_HREF: unit.code}, type="corporate",
                       authority=pub.institution_code)
            add_text(name, mods("namePart"), pub.institution_name)
            add(name, mods("namePart"), unit.name)
            self.add_role(name, "pbl")


CROSSWALK = SwepubCrosswalk()
element = CROSSWALK.element
render = CROSSWALK.render
render_many = CROSSWALK.render_many
