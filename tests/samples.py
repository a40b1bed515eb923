"""Hand-built read-model records covering the publication types, for exporter and crosswalk tests."""

from __future__ import annotations

import datetime as dt

from exports.readmodel import (
    Affiliation, Conference, Contributor, FileInfo, Funding, HostItem, Identifier, Keyword, LangText,
    Link, OrgUnitRef, PartialDate, Publication, RelatedRecord, Series, Subject, ThesisInfo, Title,
)

UU = Affiliation(name="Uppsala universitet, Institutionen för kemi", unit_code="kemi",
                 unit_path="uu:teknat:kemi", institution_code="uu", institution_domain="uu.se")
STAMP = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone.utc)


def journal_article() -> Publication:
    return Publication(
        id="101",
        publication_type="art",
        output_type="publication/journal-article",
        content_type="ref",
        titles=(
            Title("Ålgräsängar i Östersjön", "en översikt över förändringar 1990–2020", "swe"),
            Title("Eelgrass meadows in the Baltic Sea", "a review of changes 1990–2020", "eng", "translated"),
        ),
        contributors=(
            Contributor(family="Öberg", given="Åsa", orcid="0000-0002-1825-0097", local_id="u1abc",
                        person_id=7, affiliations=(UU,)),
            Contributor(family="Smith", given="John R.", affiliations=(Affiliation(name="University of Oxford"),)),
            Contributor(family="Lindström", given="Per-Erik", roles=("aut",), affiliations=(UU,)),
        ),
        abstracts=(LangText("Vi studerar ålgräs & dess utbredning.", "swe"),
                   LangText("We study eelgrass and its extent.", "eng")),
        keywords=(Keyword("ålgräs", "swe"), Keyword("eelgrass", "eng"), Keyword("Baltic Sea", "eng")),
        subjects=(Subject("10501", "Climate Science", "Klimatvetenskap"),),
        languages=("swe",),
        issued=PartialDate(2021, 5, 17),
        online=dt.date(2021, 4, 2),
        host=HostItem(kind="journal", title="Marine Ecology Progress Series", issn="0171-8630",
                      eissn="1616-1599", volume="12", issue="3", page_start="101", page_end="118"),
        identifiers=(Identifier("doi", "10.3354/meps12345"), Identifier("isi", "000123456789012"),
                     Identifier("pmid", "31234567"), Identifier("scopus", "2-s2.0-85012345678"),
                     Identifier("urn", "urn:nbn:se:uu:hylla-101"),
                     Identifier("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101")),
        creator_count=3,
        funding=(Funding("Vetenskapsrådet", project_id="2019-01234", grant_id="2019-01234"),),
        licence="https://creativecommons.org/licenses/by/4.0/",
        notes=(LangText("Open access funded by the library."),),
        links=(Link("https://example.org/data", "Research data"),),
        files=(FileInfo(1, "öberg_2021.pdf", "application/pdf", 123456, "a" * 64, "b" * 32,
                        url="https://hylla.example.org/files/1/%C3%B6berg_2021.pdf"),),
        org_units=(OrgUnitRef("kemi", "Institutionen för kemi", "uu:teknat:kemi"),),
        institution_code="uu",
        institution_name="Uppsala universitet",
        url="https://hylla.example.org/publications/101",
        oai_identifier="oai:hylla.example.org:101",
        created=STAMP, updated=STAMP, datestamp=STAMP,
    )


def book_chapter() -> Publication:
    return Publication(
        id="102",
        publication_type="kap",
        output_type="publication/book-chapter",
        content_type="vet",
        titles=(Title("Open science and its discontents", lang="eng"),),
        contributors=(Contributor(family="Nguyen", given="Thi", affiliations=(UU,)),),
        languages=("eng",),
        issued=PartialDate(2019),
        host=HostItem(kind="book", title="Handbook of Research Infrastructures", isbns=("978-3-16-148410-0",),
                      page_start="45", page_end="67", publisher="Springer", place="Cham",
                      editors=(Contributor(family="Berg", given="Anna", roles=("edt",)),
                               Contributor(family="Kim", given="Lee", roles=("edt",)))),
        series=(Series("Lecture Notes in Science", issn="0302-9743", number="112"),),
        identifiers=(Identifier("doi", "10.1007/978-3-16-148410-0_3"),
                     Identifier("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-102")),
        institution_code="uu",
        url="https://hylla.example.org/publications/102",
        datestamp=STAMP,
    )


def conference_paper() -> Publication:
    return Publication(
        id="103",
        publication_type="kon",
        output_type="conference/paper",
        content_type="ref",
        titles=(Title("Fast OAI-PMH harvesting at scale", lang="eng"),),
        contributors=tuple(Contributor(family=f"Author{i}", given="A.") for i in range(1, 25)),
        languages=("eng",),
        issued=PartialDate(2022, 9),
        host=HostItem(kind="proceedings", title="Proceedings of the Digital Libraries Conference 2022",
                      page_start="1", page_end="10", article_number="7"),
        conference=Conference("Digital Libraries Conference 2022", "Göteborg", dt.date(2022, 9, 5), dt.date(2022, 9, 8)),
        identifiers=(Identifier("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-103"),),
        creator_count=24,
        institution_code="uu",
        datestamp=STAMP,
    )


def doctoral_thesis() -> Publication:
    return Publication(
        id="104",
        publication_type="dok",
        output_type="publication/doctoral-thesis",
        content_type="vet",
        titles=(Title("Proteinveckning i cellmembran", "experiment och simuleringar", "swe"),),
        contributors=(
            Contributor(family="Karlsson", given="Märta", orcid="0000-0001-5109-3700", affiliations=(UU,)),
            Contributor(family="Ek", given="Lars", roles=("ths",), affiliations=(UU,)),
            Contributor(family="Doe", given="Jane", roles=("opn",), affiliations=(Affiliation("MIT"),)),
        ),
        abstracts=(LangText("Avhandlingen studerar proteiner.", "swe"),),
        subjects=(Subject("10601", "Structural Biology", "Strukturbiologi"),),
        languages=("swe",),
        issued=PartialDate(2023),
        publisher="Acta Universitatis Upsaliensis",
        place="Uppsala",
        extent="84 pages",
        series=(Series("Digital Comprehensive Summaries of Uppsala Dissertations", "1651-6214", number="2231"),),
        identifiers=(Identifier("isbn", "978-91-513-1234-7"),
                     Identifier("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-104")),
        thesis=ThesisInfo(level="doctoral", degree_name="Filosofie doktor",
                          defence_at=dt.datetime(2023, 5, 12, 9, 15, tzinfo=dt.timezone.utc),
                          defence_place="Room A1:111a, BMC, Uppsala", nailing_date=dt.date(2023, 4, 20),
                          granting_institution="Uppsala universitet"),
        related=(RelatedRecord("constituent", "Paper I: membrane folding", record_id="101"),),
        files=(FileInfo(2, "thesis.pdf", "application/pdf", 999, "c" * 64, "d" * 32, access="embargoed",
                        embargo_until=dt.date(2030, 1, 1)),),
        institution_code="uu",
        datestamp=STAMP,
    )


def student_thesis() -> Publication:
    return Publication(
        id="105",
        publication_type="stud",
        titles=(Title("Användarupplevelse i bibliotekskataloger", lang="swe"),),
        contributors=(
            Contributor(family="Svensson", given="Olle"),
            Contributor(family="Ek", given="Lars", roles=("ths",)),
            Contributor(family="Holm", given="Eva", roles=("exm",)),
        ),
        languages=("swe",),
        issued=PartialDate(2024, 6, 1),
        thesis=ThesisInfo(level="master-two-years", credits="30 HE credits", degree_name="Master of Science",
                          programme="Library and Information Science", defence_at=dt.datetime(2024, 6, 1, 10, 0, tzinfo=dt.timezone.utc)),
        institution_code="uu",
        datestamp=STAMP,
    )


def report() -> Publication:
    return Publication(
        id="106",
        publication_type="rap",
        output_type="publication/report",
        content_type="pop",
        titles=(Title("Miljötillståndet 2020", lang="swe"),),
        contributors=(Contributor(corporate_name="Naturvårdsverket", roles=("aut",)),),
        languages=("swe", "eng"),
        issued=PartialDate(2020),
        publisher="Naturvårdsverket",
        place="Stockholm",
        series=(Series("Rapport / Naturvårdsverket", "0282-7298", number="6931"),),
        identifiers=(Identifier("isbn", "978-91-620-6931-5"),),
        institution_code="uu",
        datestamp=STAMP,
    )


def all_samples() -> list[Publication]:
    return [journal_article(), book_chapter(), conference_paper(), doctoral_thesis(), student_thesis(), report()]
