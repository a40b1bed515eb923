"""SwePub's minimum level and field checks, each rule passing and failing on the sample records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from exports.quality import (
    SEVERITIES, Problem, field_checks, is_blank, minimum_level, mods_data_missing, preflight,
)
from exports.readmodel import (
    Affiliation, Conference, Contributor, HostItem, Identifier, OrgUnitRef, PartialDate, Publication, Series,
    Subject, ThesisInfo, Title,
)
from tests import samples

TODAY = dt.date(2025, 6, 1)
Change = Callable[[Publication], Publication]


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def only(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


# --- minimum level ---------------------------------------------------------------------------

def test_samples_pass_the_minimum_level_except_the_report() -> None:
    for pub in samples.all_samples():
        if pub.publication_type in ("rap", "stud"):
            continue
        assert minimum_level(pub) == [], pub.id


def test_the_report_sample_really_breaks_two_rules() -> None:
    problems = minimum_level(samples.report())
    # A corporate author without an authority id does not count for SwePub, and it has no URI.
    assert codes(problems) == ["02", "09"]
    fixed = replace(samples.report(), org_units=(OrgUnitRef("nv", "Naturvårdsverket", "nv"),),
                    identifiers=(Identifier("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:nv:hylla-106"),))
    assert minimum_level(fixed) == []


def test_student_theses_are_not_reported() -> None:
    problems = minimum_level(samples.student_thesis())
    assert [(p.code, p.severity) for p in problems] == [("not_reported", "info")]
    assert "not sent to SwePub" in problems[0].message
    verdict = preflight(samples.student_thesis(), today=TODAY)
    assert verdict.accepted


def test_rule_00_comes_from_the_parser() -> None:
    problem = mods_data_missing()
    assert (problem.code, problem.severity, problem.name) == ("00", "reject", "modsDataMissing")


UNPUBLISHED_ARTICLE = replace(samples.journal_article(), host=None, issued=None, publication_status="submitted")
PERSON_AS_PUBLISHER = Contributor(family="Öberg", given="Åsa", roles=("pbl",))
UNIT_AUTHOR = Contributor(corporate_name="Institutionen för kemi", roles=("pbl",), local_id="1431")
BLANK_HOST = HostItem(kind="journal", title=" -- ")

# (code, name, sample, change that breaks the rule, change that satisfies it again)
RULES: list[tuple[str, str, Callable[[], Publication], Change, Change]] = [
    ("01", "recordContentSourceViolation", samples.journal_article,
     lambda p: replace(p, institution_code=" ; "), lambda p: replace(p, institution_code="kth")),
    ("02", "nameViolation", samples.journal_article,
     lambda p: replace(p, contributors=(PERSON_AS_PUBLISHER,), org_units=()),
     lambda p: replace(p, contributors=(UNIT_AUTHOR,), org_units=())),
    ("02", "nameViolation", samples.book_chapter,
     lambda p: replace(p, contributors=(Contributor(family="?", given=".", roles=("aut",)),)),
     lambda p: replace(p, contributors=(Contributor(family="Nguyen", roles=("edt",)),))),
    ("02", "nameViolation", samples.report,
     lambda p: replace(p, contributors=(Contributor(corporate_name="Naturvårdsverket", roles=("aut",)),)),
     lambda p: replace(p, contributors=(Contributor(corporate_name="Naturvårdsverket", roles=("aut",),
                                                    affiliations=(Affiliation("NV", institution_code="nv"),)),))),
    ("03", "titleViolation", samples.book_chapter,
     lambda p: replace(p, titles=(Title("..."), Title(" ", kind="translated"))),
     lambda p: replace(p, titles=(Title("?"), Title("Öppen vetenskap", kind="translated")))),
    ("05", "publicationOrOutputTypeViolation", samples.journal_article,
     lambda p: replace(p, publication_type="xyz", output_type="publication/unknown"),
     lambda p: replace(p, publication_type="xyz", output_type="publication/journal-article")),
    ("05", "publicationOrOutputTypeViolation", samples.journal_article,
     lambda p: replace(p, publication_type="", output_type=None),
     lambda p: replace(p, publication_type="art", output_type=None)),
    ("07", "contentTypeViolation", samples.journal_article,
     lambda p: replace(p, content_type=None), lambda p: replace(p, content_type="pop")),
    ("07", "contentTypeViolation", samples.report,
     lambda p: replace(p, content_type="x"), lambda p: replace(p, content_type=None, output_type="other/data-set")),
    ("08", "publicationDateViolation", samples.conference_paper,
     lambda p: replace(p, issued=None), lambda p: replace(p, issued=None, publication_status="accepted")),
    ("08", "publicationDateViolation", samples.conference_paper,
     lambda p: replace(p, issued=None, publication_status="retracted"),
     lambda p: replace(p, issued=None, output_type="publication/preprint")),
    ("09", "uriViolation", samples.doctoral_thesis,
     lambda p: replace(p, identifiers=(Identifier("isbn", "978-91-513-1234-7"), Identifier("uri", " . "))),
     lambda p: replace(p, identifiers=(Identifier("uri", "http://urn.kb.se/resolve?urn=urn:nbn:se:uu:diva-1"),))),
    ("10", "languageViolation", samples.book_chapter,
     lambda p: replace(p, languages=()), lambda p: replace(p, languages=("xxx",))),
    ("11", "relatedItemTypeMissing", samples.journal_article,
     lambda p: replace(p, host=None), lambda p: replace(p, host=None, publication_status="submitted")),
    ("11", "relatedItemTypeMissing", samples.book_chapter,
     lambda p: replace(p, host=BLANK_HOST), lambda p: replace(p, host=replace(BLANK_HOST, title="Handbok"))),
    ("11", "relatedItemTypeMissing", samples.report,
     lambda p: replace(p, publication_type="kap", output_type="publication/report-chapter"),
     lambda p: replace(p, publication_type="kap", output_type="publication/report-chapter",
                       host=HostItem(kind="book", title="Miljön 2020"))),
    ("12", "relatedItemTypeViolation", samples.doctoral_thesis,
     lambda p: replace(p, host=HostItem(kind="other", title="Doktorsavhandlingar vid Chalmers")),
     lambda p: replace(p, host=BLANK_HOST)),
    ("12", "relatedItemTypeViolation", samples.journal_article,
     lambda p: replace(p, publication_type="ovr", output_type="other/software"),
     lambda p: replace(p, publication_type="ovr", output_type="other/data-set")),
]


@pytest.mark.parametrize("code, name, sample, breaks, fixes", RULES,
                         ids=[f"{r[0]}-{r[2].__name__}-{n}" for n, r in enumerate(RULES)])
def test_each_minimum_level_rule(code: str, name: str, sample: Callable[[], Publication],
                                 breaks: Change, fixes: Change) -> None:
    base = sample()
    broken = minimum_level(breaks(base))
    problem = only(broken, code)
    assert (problem.severity, problem.name) == ("reject", name)
    assert problem.message.endswith(".") and len(problem.message) > 30
    assert code not in codes(minimum_level(fixes(base)))


def test_artistic_works_need_no_creator_and_no_content_type() -> None:
    artwork = replace(samples.report(), publication_type="kfu", output_type="artistic-work/original-creative-work",
                      contributors=(), content_type=None)
    assert not {"02", "07"} & set(codes(minimum_level(artwork)))


def test_several_rules_fail_together() -> None:
    empty = Publication(id="x", publication_type="", titles=(Title(""),))
    assert codes(minimum_level(empty)) == ["01", "02", "03", "05", "07", "08", "09", "10"]


@pytest.mark.parametrize("value, blank", [(None, True), ("", True), (" ?-:;.,()[]!#€/=+$@\" ", True),
                                          ("a", False), ("Å.", False), ("2019", False), ("²", False), ("-", True),
                                          ("- a", False), ("\u00a0", True), ("٣", False), ("_", False)])
def test_punctuation_counts_as_missing(value: str | None, blank: bool) -> None:
    assert is_blank(value) is blank


# --- field checks -----------------------------------------------------------------------------

def test_samples_pass_the_field_checks_apart_from_missing_subjects() -> None:
    for pub in samples.all_samples():
        problems = field_checks(pub, today=TODAY)
        assert set(codes(problems)) <= {"ssif_missing"}, (pub.id, problems)
        assert ("ssif_missing" in codes(problems)) is (not pub.subjects)


def ident(pub: Publication, scheme: str, value: str) -> Publication:
    return replace(pub, identifiers=pub.identifiers + (Identifier(scheme, value),))


def with_host(**changes: object) -> Change:
    return lambda p: replace(p, host=replace(p.host, **changes))


# (code, path, sample, breaks, fixes)
FIELD_RULES: list[tuple[str, str, Callable[[], Publication], Change, Change]] = [
    ("doi_invalid", "identifiers[6].value", samples.journal_article,
     lambda p: ident(p, "doi", "10.12/x y"), lambda p: ident(p, "doi", "10.1234/x.y")),
    ("isbn_invalid", "identifiers[1].value", samples.doctoral_thesis,
     lambda p: replace(p, identifiers=p.identifiers[1:] + (Identifier("isbn", "978-91-513-1234-8"),)),
     lambda p: replace(p, identifiers=p.identifiers[1:] + (Identifier("isbn", "917291341x"),))),
    ("isbn_invalid", "host.isbns[1]", samples.book_chapter,
     with_host(isbns=("978-3-16-148410-0", "978-3-16-148410-1")), with_host(isbns=("3-16-148410-X",))),
    ("issn_invalid", "host.issn", samples.journal_article,
     with_host(issn="0171-8631"), with_host(issn="0346718X")),
    ("issn_invalid", "host.eissn", samples.journal_article,
     with_host(eissn="1616-159"), with_host(eissn=None)),
    ("issn_invalid", "series[0].issn", samples.report,
     lambda p: replace(p, series=(Series("Rapport", "0282-7299"),)),
     lambda p: replace(p, series=(Series("Rapport", "0282-7298"),))),
    ("isi_invalid", "identifiers[6].value", samples.journal_article,
     lambda p: ident(p, "isi", "00012345678901"), lambda p: ident(p, "isi", "A1997XV12300012")),
    ("orcid_invalid", "contributors[0].orcid", samples.journal_article,
     lambda p: replace(p, contributors=(replace(p.contributors[0], orcid="0000-0002-1825-0098"),)),
     lambda p: replace(p, contributors=(replace(p.contributors[0], orcid="https://orcid.org/0000-0002-1825-0097"),))),
    ("orcid_invalid", "host.editors[1].orcid", samples.book_chapter,
     with_host(editors=(Contributor(family="A"), Contributor(family="B", roles=("edt",), orcid="1234"))),
     with_host(editors=(Contributor(family="B", roles=("edt",), orcid="0000-0001-5109-3700"),))),
    ("uri_not_ascii", "identifiers[6].value", samples.journal_article,
     lambda p: ident(p, "uri", "https://hylla.example.org/publikationer/öberg"),
     lambda p: ident(p, "uri", "https://hylla.example.org/publikationer/%C3%B6berg")),
    ("uri_invalid", "identifiers[2].value", samples.conference_paper,
     lambda p: ident(ident(p, "isbn", "9789144078052"), "uri", "urn kb se"),
     lambda p: ident(p, "uri", "urn:nbn:se:uu:diva-1")),
    ("pmid_invalid", "identifiers[6].value", samples.journal_article,
     lambda p: ident(p, "pmid", "PMC123"), lambda p: ident(p, "pmid", "123")),
    ("identifier_scheme_unknown", "identifiers[6].value", samples.journal_article,
     lambda p: ident(p, "articleId", "AB1157"), lambda p: ident(p, "libris", "13622006")),
    ("year_implausible", "issued", samples.journal_article,
     lambda p: replace(p, issued=PartialDate(3024)), lambda p: replace(p, issued=PartialDate(2026))),
    ("year_implausible", "issued", samples.report,
     lambda p: replace(p, issued=PartialDate(999)), lambda p: replace(p, issued=PartialDate(1508))),
    ("creator_count_invalid", "creator_count", samples.journal_article,
     lambda p: replace(p, creator_count=0), lambda p: replace(p, creator_count=None)),
    ("creator_count_mismatch", "creator_count", samples.conference_paper,
     lambda p: replace(p, creator_count=23), lambda p: replace(p, creator_count=500)),
    ("contributor_duplicate", "contributors[3]", samples.journal_article,
     lambda p: replace(p, contributors=p.contributors + (replace(p.contributors[0], family="Oberg"),)),
     lambda p: replace(p, contributors=p.contributors + (replace(p.contributors[2], roles=("edt",)),))),
    ("contributor_duplicate", "contributors[1]", samples.book_chapter,
     lambda p: replace(p, contributors=p.contributors * 2),
     lambda p: replace(p, contributors=(Contributor(family="Nguyen", given="Thi"),
                                        Contributor(family="Nguyen", given="Thu")))),
    ("ssif_unknown", "subjects[1].code", samples.journal_article,
     lambda p: replace(p, subjects=p.subjects + (Subject("1505"),)),
     lambda p: replace(p, subjects=p.subjects + (Subject("106"),))),
    ("ssif_legacy", "subjects[0].code", samples.journal_article,
     lambda p: replace(p, subjects=(Subject("21101"),)), lambda p: replace(p, subjects=(Subject("20407"),))),
    ("ssif_mapped", "subjects[0].code", samples.journal_article,
     lambda p: replace(p, subjects=(Subject("60404"),)), lambda p: replace(p, subjects=(Subject("60414"),))),
    ("ssif_comprehensive", "subjects", samples.doctoral_thesis,
     lambda p: replace(p, subjects=(Subject("1"), Subject("2"))),
     lambda p: replace(p, subjects=(Subject("1"), Subject("202")))),
    ("ssif_missing", "subjects", samples.doctoral_thesis,
     lambda p: replace(p, subjects=()), lambda p: p),
    ("language_invalid", "languages[1]", samples.report,
     lambda p: replace(p, languages=("swe", "sv")), lambda p: replace(p, languages=("swe", "smj"))),
    ("issn_missing", "host.issn", samples.journal_article,
     with_host(issn=None, eissn=None), with_host(issn=None)),
    ("required_field_missing", "host.title", lambda: UNPUBLISHED_ARTICLE,
     lambda p: p, lambda p: replace(p, host=HostItem(kind="journal", title="Nature"))),
    ("required_field_missing", "thesis.level", samples.doctoral_thesis,
     lambda p: replace(p, thesis=replace(p.thesis, level="licentiate")), lambda p: p),
    ("required_field_missing", "thesis.level", samples.report,
     lambda p: replace(p, publication_type="lic", output_type="publication/licentiate-thesis"),
     lambda p: replace(p, publication_type="lic", thesis=ThesisInfo(level="licentiate"))),
    ("required_field_missing", "thesis.defence_at", samples.doctoral_thesis,
     lambda p: replace(p, thesis=replace(p.thesis, defence_at=None)), lambda p: p),
    ("required_field_missing", "thesis.level", samples.student_thesis,
     lambda p: replace(p, thesis=None), lambda p: p),
    ("required_field_missing", "conference", samples.conference_paper,
     lambda p: replace(p, conference=None), lambda p: replace(p, conference=Conference("ECDL"))),
    ("required_field_missing", "publisher", samples.report,
     lambda p: replace(p, publisher=" "), lambda p: p),
]


@pytest.mark.parametrize("code, path, sample, breaks, fixes", FIELD_RULES,
                         ids=[f"{r[0]}-{r[1]}-{n}" for n, r in enumerate(FIELD_RULES)])
def test_each_field_check(code: str, path: str, sample: Callable[[], Publication], breaks: Change,
                          fixes: Change) -> None:
    base = sample()
    problem = only(field_checks(breaks(base), today=TODAY), code)
    assert problem.path == path
    assert problem.severity in ("error", "warning", "info")
    assert problem.message.endswith(".") and len(problem.message) > 30
    assert code not in codes(field_checks(fixes(base), today=TODAY))


def test_future_years_are_judged_against_today() -> None:
    next_year = replace(samples.journal_article(), issued=PartialDate(2026))
    assert "year_implausible" not in codes(field_checks(next_year, today=TODAY))
    assert "year_implausible" in codes(field_checks(next_year, today=dt.date(2024, 12, 31)))


def test_field_checks_never_reject() -> None:
    broken = replace(samples.journal_article(), issued=PartialDate(3024), creator_count=-1,
                     identifiers=(Identifier("doi", "doi"), Identifier("uri", "https://ö")))
    problems = field_checks(broken, today=TODAY)
    assert {"year_implausible", "creator_count_invalid", "doi_invalid", "uri_not_ascii"} <= set(codes(problems))
    assert all(p.severity != "reject" for p in problems)


# --- preflight ---------------------------------------------------------------------------------

def test_preflight_accepts_a_clean_record() -> None:
    verdict = preflight(samples.journal_article(), today=TODAY)
    assert verdict.accepted and verdict.problems == ()


def test_preflight_rejects_and_sorts_by_severity() -> None:
    pub = replace(samples.journal_article(), host=None, issued=PartialDate(3024), subjects=(Subject("1"),),
                  publication_status="retracted")
    verdict = preflight(pub, today=TODAY)
    assert not verdict.accepted
    severities = [p.severity for p in verdict.problems]
    assert severities == sorted(severities, key=SEVERITIES.index)
    assert codes(list(verdict.of_severity("reject"))) == ["11"]
    assert codes(list(verdict.of_severity("error"))) == ["year_implausible"]
    assert codes(list(verdict.of_severity("warning"))) == ["ssif_comprehensive"]


def test_problems_refuse_unknown_severities() -> None:
    with pytest.raises(ValueError, match="severity"):
        Problem("x", "fatal", "titles", "No.")
