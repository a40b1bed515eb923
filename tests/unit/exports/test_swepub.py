"""swepub_mods: valid MODS 3.7 that passes SwePub's minimum level (rules 00-12) and carries SwePub's additions.

The minimum level is written here in XPath, from ``specs/swepub-mods-summary.md`` and the rule
list in SwePub's own filter, and applied to each record as SwePub sees it: an ``oai:record`` in a
real OAI-PMH response. ``exports.quality`` states the same rules on the read model; the two are
checked against each other on every sample and on records broken one rule at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from lxml import etree

from exports import quality, swepub
from exports.readmodel import (
    STUDENT_THESIS, SVEP_TYPES, Affiliation, Contributor, HostItem, Identifier, OrgUnitRef, PartialDate, Publication,
    Title,
)
from exports.schemas import schema, validation_errors
from exports.vocabularies import output_types
from exports.xml import clean
from harvest.parse import parse_metadata
from tests.samples import all_samples, conference_paper, doctoral_thesis, journal_article, report, student_thesis
from tests.unit.exports.xml_support import (
    DAY, NS, hostile_text, joined, oai_get_record, parse, visible_hostile_text, xp,
)

_PUNCTUATION = str.maketrans({c: " " for c in '?-:;.,()[]!#€/=+$@"'})
_UNPUBLISHED = ("Preprint", "Submitted", "Accepted", "In press", "Epub ahead of print/Online first")
_HOST_REQUIRED_OUTPUT = tuple(f"publication/{t}" for t in (
    "book-chapter", "report-chapter", "journal-article", "editorial-letter", "magazine-article", "newspaper-article",
    "journal-issue", "book-review", "review-article", "foreword-afterword"))
_HOST_FORBIDDEN_OUTPUT = ("publication/book", "publication/edited-book", "publication/report",
                          "publication/doctoral-thesis", "publication/licentiate-thesis",
                          "artistic-work/artistic-thesis", "conference/proceeding", "intellectual-property/patent",
                          "other/software")
_NO_CONTENT_TYPE = ("intellectual-property", "other", "artistic-work")


def said(values: list[str]) -> bool:
    """SwePub's "non-empty": something left after punctuation and spaces are taken away."""
    return any(v.translate(_PUNCTUATION).strip() for v in values)


def minimum_level(record: etree._Element) -> list[str]:
    """The codes of the SwePub minimum-level rules an ``oai:record`` breaks (empty: accepted)."""
    found = xp(record, "oai:metadata/mods:mods")
    if not found:
        return ["00"]
    m = found[0]
    broken = []
    svep = xp(m, "mods:genre[@authority='svep'][@type='publicationType']/text()")
    output = xp(m, "mods:genre[@authority='kb.se'][@type='outputType']/text()")
    unpublished = any(s in _UNPUBLISHED for s in xp(m, "mods:note[@type='publicationStatus']/text()"))
    if not said(xp(m, "mods:recordInfo/mods:recordContentSource/text()")):
        broken.append("01")
    creator = "[.='aut' or .='edt' or .='cre']"
    persons = xp(m, f"mods:name[@type='personal'][mods:role/mods:roleTerm[@type='code'][@authority='marcrelator']"
                    f"{creator}]/mods:namePart/text()")
    corporate_role = "mods:role/mods:roleTerm[@type='code'][@authority='marcrelator'][.='aut' or .='edt' or " \
                     ".='cre' or .='pbl' or .='org']"
    corporate = xp(m, f"mods:name[@type='corporate'][@authority!=''][{corporate_role}]/mods:namePart/text()")
    corporate += xp(m, f"mods:name[@type='corporate'][{corporate_role}]/mods:affiliation[@authority!='']/text()")
    artistic = "kfu" in svep or any(o.startswith("artistic-work") for o in output)
    if not (said(persons) or said(corporate) or artistic):
        broken.append("02")
    if not said(xp(m, "mods:titleInfo/mods:title/text()")):
        broken.append("03")
    if not (set(svep) & set(SVEP_TYPES) or set(output) & set(output_types())):
        broken.append("05")
    exempt = set(svep) & {"pat", "ovr", "kfu"} or any(o.startswith(_NO_CONTENT_TYPE) for o in output)
    content = xp(m, "mods:genre[@authority='svep'][@type='contentType']/text()")
    if not set(content) & {"ref", "vet", "pop"} and not exempt:
        broken.append("07")
    if not said(xp(m, "mods:originInfo/mods:dateIssued/text()")) and not unpublished \
            and "publication/preprint" not in output:
        broken.append("08")
    if not xp(m, "mods:identifier[@type='uri'][normalize-space(.)!='']"):
        broken.append("09")
    if not xp(m, "mods:language/mods:languageTerm[@type='code'][@authority='iso639-2b' or @authority='iso639-3']"
                 "[normalize-space(.)!='']"):
        broken.append("10")
    host = said(xp(m, "mods:relatedItem[@type='host']/mods:titleInfo/mods:title/text()"))
    excepted_host = xp(m, "mods:relatedItem[@type='host']/mods:genre[.='project' or .='initiative' or "
                          ".='grantAgreement' or .='programme' or .='event' or .='dataset']")
    if (set(svep) & {"art", "for", "kap", "rec"} or set(output) & set(_HOST_REQUIRED_OUTPUT)) \
            and not host and not unpublished:
        broken.append("11")
    if (set(svep) & {"bok", "dok", "lic", "pat", "pro", "rap"} or set(output) & set(_HOST_FORBIDDEN_OUTPUT)) \
            and host and not excepted_host:
        broken.append("12")
    return broken


def as_harvested(pub: Publication) -> etree._Element:
    """The record as SwePub's harvester receives it: swepub_mods in a GetRecord response."""
    response = parse(oai_get_record(swepub.element(pub, today=DAY), f"oai:hylla.example.org:{pub.id}",
                                    "swepub_mods"))
    return xp(response, "//oai:record")[0]


def with_uri(pub: Publication) -> Publication:
    if pub.identifier("uri"):
        return pub
    uri = Identifier("uri", f"https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-{pub.id}")
    return dataclasses.replace(pub, identifiers=pub.identifiers + (uri,))


def ready_for_swepub() -> list[Publication]:
    """The samples SwePub takes (no student thesis), each with the URI and the organisation unit
    a published record in Hylla has: the report sample has neither, and its only author is an
    agency that is not in the university's authority register."""
    pubs = [with_uri(p) for p in all_samples() if p.publication_type != STUDENT_THESIS]
    unit = OrgUnitRef("miljo", "Centrum för miljöanalys", "uu:miljo")
    return [dataclasses.replace(p, org_units=(unit,)) if not p.org_units and p.publication_type == "rap" else p
            for p in pubs]


def rejections(pub: Publication) -> set[str]:
    return {p.code for p in quality.minimum_level(pub) if p.severity == "reject"}


@pytest.mark.parametrize("pub", ready_for_swepub(), ids=lambda p: p.publication_type)
def test_every_sample_passes_the_minimum_level(pub: Publication) -> None:
    assert minimum_level(as_harvested(pub)) == []


@pytest.mark.parametrize("pub", [with_uri(p) for p in all_samples()], ids=lambda p: p.publication_type)
def test_every_sample_is_valid_mods_37_and_valid_in_an_oai_pmh_response(pub: Publication) -> None:
    assert validation_errors(swepub.render(pub, today=DAY), "mods-3-7") == []
    response = oai_get_record(swepub.element(pub, today=DAY), f"oai:hylla.example.org:{pub.id}", "swepub_mods")
    assert validation_errors(response, "oai-pmh-full") == []


def test_render_many_is_a_valid_mods_collection() -> None:
    document = joined(swepub.render_many(ready_for_swepub(), today=DAY))
    assert validation_errors(document, "mods-3-7") == []
    assert len(xp(parse(document), "mods:mods")) == len(ready_for_swepub())


BREAKS: list[tuple[str, Callable[[], Publication]]] = [
    ("01", lambda: dataclasses.replace(journal_article(), institution_code=None)),
    ("02", lambda: dataclasses.replace(journal_article(), contributors=(), org_units=())),
    ("02", lambda: dataclasses.replace(with_uri(report()), org_units=())),
    ("03", lambda: dataclasses.replace(journal_article(), titles=(Title("?!", lang="eng"),))),
    ("07", lambda: dataclasses.replace(journal_article(), content_type=None)),
    ("08", lambda: dataclasses.replace(journal_article(), issued=None)),
    ("10", lambda: dataclasses.replace(journal_article(), languages=())),
    ("11", lambda: dataclasses.replace(journal_article(), host=None)),
    ("12", lambda: dataclasses.replace(with_uri(doctoral_thesis()), host=HostItem("book", "Some book"))),
]


@pytest.mark.parametrize(("code", "broken"), BREAKS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(BREAKS)])
def test_each_broken_rule_is_caught_here_and_by_the_read_model_rules(code: str,
                                                                     broken: Callable[[], Publication]) -> None:
    pub = broken()
    assert minimum_level(as_harvested(pub)) == [code]
    assert rejections(pub) == {code}


@pytest.mark.parametrize("pub", [with_uri(p) for p in all_samples() if p.publication_type != STUDENT_THESIS],
                         ids=lambda p: p.publication_type)
def test_the_xpath_rules_and_the_read_model_rules_agree_on_every_sample(pub: Publication) -> None:
    assert set(minimum_level(as_harvested(pub))) == rejections(pub)


@pytest.mark.parametrize("status", ["submitted", "accepted", "in-press", "epub-ahead-of-print", "preprint"])
def test_unpublished_work_needs_neither_date_nor_host(status: str) -> None:
    pub = dataclasses.replace(journal_article(), publication_status=status, issued=None, host=None)
    assert minimum_level(as_harvested(pub)) == []


def test_rules_the_writer_can_not_break_are_still_checked() -> None:
    """00, 05 and 09: the writer always sends MODS, a type and a URI, so break the harvested XML itself."""
    record = as_harvested(journal_article())
    mods_el = xp(record, "oai:metadata/mods:mods")[0]
    for genre in xp(mods_el, "mods:genre[@type='outputType' or @type='publicationType']"):
        mods_el.remove(genre)
    for uri in xp(mods_el, "mods:identifier[@type='uri']"):
        mods_el.remove(uri)
    assert minimum_level(record) == ["05", "09"]
    xp(record, "oai:metadata")[0].remove(mods_el)
    assert minimum_level(record) == ["00"]


def test_the_uri_comes_from_the_uri_identifier_or_is_built_from_the_urn() -> None:
    root = parse(swepub.render(journal_article(), today=DAY))
    assert xp(root, "mods:identifier[@type='uri']/text()") == ["https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101"]
    urn_only = dataclasses.replace(report(), identifiers=(Identifier("urn", "urn:nbn:se:uu:hylla-106"),))
    root = parse(swepub.render(urn_only, today=DAY))
    assert xp(root, "mods:identifier[@type='uri']/text()") == ["https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-106"]
    assert xp(root, "mods:identifier[@type='urn']/text()") == ["urn:nbn:se:uu:hylla-106"]


def test_a_record_without_uri_or_urn_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"record 106 has neither a uri nor a urn identifier.*mint a URN:NBN"):
        swepub.render(report())
    with pytest.raises(ValueError, match="record 106"):
        b"".join(swepub.render_many([journal_article(), report()], today=DAY))


def test_a_student_thesis_still_renders_as_valid_mods() -> None:
    pub = with_uri(student_thesis())
    assert validation_errors(swepub.render(pub, today=DAY), "mods-3-7") == []
    assert minimum_level(as_harvested(pub)) == ["05", "07"]  # why it is never sent: it has no SwePub type


def test_output_type_and_svep_type_genres() -> None:
    root = parse(swepub.render(journal_article(), today=DAY))
    assert xp(root, "mods:genre[@authority='kb.se'][@type='outputType']/text()") == ["publication/journal-article"]
    assert xp(root, "mods:genre[@authority='svep'][@type='publicationType']/text()") == ["art"]
    assert xp(root, "mods:genre[@authority='svep'][@type='contentType']/text()") == ["ref"]


def test_date_issued_is_a_year_or_a_full_date_only() -> None:
    assert xp(parse(swepub.render(conference_paper(), today=DAY)), "mods:originInfo/mods:dateIssued/text()") == ["2022"]
    assert xp(parse(swepub.render(journal_article(), today=DAY)),
              "mods:originInfo/mods:dateIssued/text()") == ["2021-05-17"]
    pub = dataclasses.replace(journal_article(), issued=PartialDate(2020))
    assert xp(parse(swepub.render(pub, today=DAY)), "mods:originInfo/mods:dateIssued/text()") == ["2020"]


def test_affiliations_for_machines_and_people() -> None:
    root = parse(swepub.render(journal_article(), today=DAY))
    first = xp(root, "mods:name[@type='personal']")[0]
    assert xp(first, "mods:affiliation[not(@authority)]/text()") == ["Uppsala universitet, Institutionen för kemi"]
    organisation = xp(first, "mods:affiliation[@authority='kb.se']")[0]
    assert organisation.get("valueURI") == "uu.se" and organisation.text == "Uppsala universitet"
    assert organisation.get(f"{{{NS['xsi']}}}type") == "stringPlusLanguagePlusAuthority"
    unit = xp(first, "mods:affiliation[@authority='uu.se']")[0]
    assert (unit.get("valueURI"), unit.text) == ("kemi", "Institutionen för kemi")
    external = xp(root, "mods:name[@type='personal']")[1]
    assert xp(external, "mods:affiliation/@authority") == []


def test_ror_affiliation() -> None:
    oxford = Affiliation("University of Oxford", ror="https://ror.org/052gg0110")
    pub = dataclasses.replace(journal_article(), contributors=(Contributor("Smith", "J", affiliations=(oxford,)),))
    root = parse(swepub.render(pub, today=DAY))
    assert xp(root, "mods:name/mods:affiliation[@authority='ROR']/@valueURI") == ["https://ror.org/052gg0110"]
    assert validation_errors(swepub.render(pub, today=DAY), "mods-3-7") == []


def test_local_authority_orcid_and_organisation_units() -> None:
    root = parse(swepub.render(journal_article(), today=DAY))
    first = xp(root, "mods:name[@type='personal']")[0]
    assert first.get("authority") == "uu" and first.get(f"{{{NS['xlink']}}}href") == "u1abc"
    assert xp(first, "mods:nameIdentifier[@type='orcid']/text()") == ["0000-0002-1825-0097"]
    assert xp(first, "mods:nameIdentifier[@type='uu']/text()") == ["u1abc"]
    assert xp(root, "mods:name[@type='personal']")[1].get("authority") is None
    unit = xp(root, "mods:name[@type='corporate'][mods:role/mods:roleTerm='pbl']")[0]
    assert (unit.get("authority"), unit.get(f"{{{NS['xlink']}}}href")) == ("uu", "kemi")
    assert xp(unit, "mods:namePart/text()") == ["Uppsala universitet", "Institutionen för kemi"]


def test_a_corporate_author_from_the_authority_register_counts_as_creator() -> None:
    agency = Contributor(corporate_name="Naturvårdsverket", local_id="12752")
    pub = dataclasses.replace(with_uri(report()), contributors=(agency,))
    name = xp(parse(swepub.render(pub, today=DAY)), "mods:name[@type='corporate']")[0]
    assert (name.get("authority"), name.get(f"{{{NS['xlink']}}}href")) == ("uu", "12752")
    assert minimum_level(as_harvested(pub)) == []


def test_research_subjects_both_forms_creator_count_and_status() -> None:
    root = parse(swepub.render(journal_article(), today=DAY))
    assert xp(root, "mods:classification[@authority='ssif']/text()") == ["10501"]
    assert xp(root, "mods:subject[@authority='uka.se']/@xlink:href") == ["10501", "10501"]
    assert xp(root, "mods:note[@type='creatorCount']/text()") == ["3"]
    assert xp(root, "mods:note[@type='publicationStatus']/text()") == ["Published"]
    assert xp(root, "mods:language/mods:languageTerm[@authority='iso639-2b']/text()") == ["swe"]
    assert xp(root, "mods:recordInfo/mods:recordContentSource/text()") == ["uu"]


@settings(max_examples=60, deadline=None)
@given(title=visible_hostile_text(), family=hostile_text(), given_name=hostile_text(), unit=hostile_text())
def test_hostile_text_stays_valid_and_within_the_minimum_level(title: str, family: str, given_name: str,
                                                               unit: str) -> None:
    pub = dataclasses.replace(
        journal_article(), titles=(Title(title, lang="swe"),),
        contributors=(Contributor(family, given_name, affiliations=journal_article().contributors[0].affiliations),),
        org_units=(OrgUnitRef("kemi", unit, "uu:teknat:kemi"),))
    document = swepub.render(pub, today=DAY)
    assert validation_errors(document, "mods-3-7") == []
    assert xp(parse(document), "mods:titleInfo/mods:title/text()") == [clean(title).strip()]
    assert set(minimum_level(as_harvested(pub))) <= {"03"}  # only a punctuation-only title can fail


@pytest.mark.parametrize("pub", ready_for_swepub(), ids=lambda p: p.publication_type)
def test_hyllas_harvester_reads_back_what_was_written_and_rejects_nothing(pub: Publication) -> None:
    """The aggregator's own MODS reader (harvest.parse, written independently) as a second reader."""
    metadata = xp(as_harvested(pub), "oai:metadata")[0]
    parsed = parse_metadata(metadata, "swepub_mods", oai_identifier=f"oai:hylla.example.org:{pub.id}",
                            datestamp=None, today=DAY,
                            mods_schemas=lambda version: schema(f"mods-{version.replace('.', '-')}"))
    assert parsed.xsd_valid is True
    assert [p for p in parsed.problems if p.severity == "reject"] == []
    back = parsed.publication
    assert back.title == pub.title
    assert (back.publication_type, back.output_type, back.content_type, back.publication_status) == (
        pub.publication_type, pub.output_type, pub.content_type, pub.publication_status)
    assert (back.languages, back.institution_code, back.creator_count) == (
        pub.languages, pub.institution_code, pub.creator_count)
    assert back.issued.year == pub.issued.year
    assert [s.code for s in back.subjects] == [s.code for s in pub.subjects]
    assert back.doi == pub.doi and back.identifier("uri") == pub.identifier("uri")
    people = [c for c in back.contributors if c.roles != ("dgg",)]  # the degree-granting body comes back as one
    assert [(c.family, c.given, c.corporate_name, c.roles, c.orcid, c.local_id) for c in people] == [
        (c.family, c.given, c.corporate_name, c.roles, c.orcid, c.local_id) for c in pub.contributors]
    granting = [c.corporate_name for c in back.contributors if c.roles == ("dgg",)]
    assert granting == ([pub.thesis.granting_institution] if pub.thesis else [])
    if pub.host:
        fields = ("title", "issn", "eissn", "isbns", "volume", "issue", "article_number", "page_start", "page_end")
        assert [getattr(back.host, f) for f in fields] == [getattr(pub.host, f) for f in fields]


def test_country_affiliation_in_kbs_form() -> None:
    abroad = Affiliation("Karolinska Institutet", country="se")
    pub = dataclasses.replace(journal_article(), contributors=(Contributor("Ek", "Al", affiliations=(abroad,)),))
    metadata = xp(as_harvested(pub), "oai:metadata")[0]
    country = xp(metadata, "mods:mods/mods:name/mods:affiliation[@authority='kb.se']")[0]
    assert (country.get("valueURI"), country.text) == ("https://id.kb.se/country/se", "Sweden")
    back = parse_metadata(metadata, "swepub_mods", oai_identifier="oai:x:1", datestamp=None, today=DAY).publication
    assert [a.country for a in back.contributors[0].affiliations] == [None, "SE"]
