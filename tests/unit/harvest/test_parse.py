"""Harvested swepub_mods, mods and oai_dc records, from real feeds, read into the read model and judged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

import pytest
from lxml import etree

from exports.readmodel import Affiliation, Identifier, OrgUnitRef, PartialDate, Series, Subject
from exports.vocabularies import subject_labels as _labels
from harvest.parse import ParsedRecord, UnsupportedMetadataFormat, parse_metadata
from harvest.safexml import MalformedXML, parse_bytes

ROOT = Path(__file__).resolve().parents[3]
OAI_DATA = ROOT / "tests" / "data" / "oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
TODAY = dt.date(2025, 6, 1)
REDUX = sorted(p.name for p in (OAI_DATA / "swepub-redux").glob("*.xml") if p.name != "chalmers.xml")


def _schema_dir() -> Path:
    """The MODS XSDs: the project's copy once it lands in exports/schemas, else the shared reference copy."""
    for folder in (ROOT / "exports" / "schemas", ROOT.parent / "shared" / "schemas"):
        if (folder / "mods-3-7.xsd").is_file() and (folder / "mods-3-8.xsd").is_file():
            return folder
    raise FileNotFoundError("no folder with mods-3-7.xsd and mods-3-8.xsd next to the project")


@functools.cache
def mods_schema(version: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(_schema_dir() / f"mods-{version.replace('.', '-')}.xsd"), parser))


def read(data: bytes, prefix: str | None = None) -> dict[str, ParsedRecord]:
    """Every live record of an OAI-PMH response, parsed, by OAI identifier."""
    root = parse_bytes(data)
    request = root.find(f"{OAI}request")
    prefix = prefix or (request.get("metadataPrefix") if request is not None else None) or "oai_dc"
    parsed = {}
    for record in root.iter(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        if header.get("status") == "deleted":
            continue
        identifier = header.findtext(f"{OAI}identifier")
        stamp = dt.datetime.fromisoformat(header.findtext(f"{OAI}datestamp").replace("Z", "+00:00"))
        parsed[identifier] = parse_metadata(record.find(f"{OAI}metadata"), prefix, oai_identifier=identifier,
                                            datestamp=stamp, mods_schemas=mods_schema, today=TODAY)
    return parsed


def read_file(relative: str, prefix: str | None = None) -> dict[str, ParsedRecord]:
    return read((OAI_DATA / relative).read_bytes(), prefix)


def codes(record: ParsedRecord) -> list[str]:
    return [p.code for p in record.problems]


# --- every real swepub_mods/mods record ---------------------------------------------------------

@pytest.mark.parametrize("name", REDUX)
def test_swepub_accepts_every_redux_record_and_so_do_we(name: str) -> None:
    records = read_file(f"swepub-redux/{name}")
    if name in ("delete_kth_post.xml", "obsolete-test-listidentifiers.xml"):
        assert records == {}  # a deleted header, and headers only
        return
    assert records
    for identifier, record in records.items():
        pub = record.publication
        assert pub is not None and pub.id == identifier == pub.oai_identifier
        assert record.accepted, (identifier, record.problems)
        assert isinstance(record.xsd_valid, bool)
        assert pub.titles and pub.institution_code and pub.url and pub.url.startswith("http")
        assert all("<p>" not in a.text and "&amp;" not in a.text for a in pub.abstracts)
        assert pub.datestamp is not None and pub.datestamp.tzinfo is not None


def test_chalmers_feed_is_refused_with_its_reason() -> None:
    with pytest.raises(MalformedXML, match="ouml") as caught:
        read_file("swepub-redux/chalmers.xml")
    assert caught.value.reason == "undefined_entity"


def test_chalmers_records_get_swepubs_verdicts_once_the_entity_is_fixed() -> None:
    """SwePub rejects oai:publications.lib.chalmers.se:92 with relatedItemTypeViolation (swepub-mods-summary.md)."""
    repaired = (OAI_DATA / "swepub-redux" / "chalmers.xml").read_bytes().replace(b"&ouml;", "ö".encode())
    records = read(repaired)
    thesis = records["oai:publications.lib.chalmers.se:92"]
    assert not thesis.accepted
    assert [(p.code, p.name) for p in thesis.problems if p.severity == "reject"] == [("12", "relatedItemTypeViolation")]
    assert thesis.publication.host.title == "Doktorsavhandlingar vid Chalmers tekniska högskola. Ny serie"
    assert thesis.publication.host.issn == "0346-718X"
    assert thesis.publication.contributors[0].orcid == "0000-0002-1825-0097"  # from description type="orcid"
    assert thesis.publication.identifiers_of("isbn") == ("91-7291-341-X",)
    other = records["oai:research.chalmers.se:206076"]
    assert other.accepted, other.problems
    assert other.publication.languages == ("nor",)
    assert other.publication.contributors[2].local_id == "alesty"
    assert other.publication.contributors[0].affiliations == (
        Affiliation("Göteborgs universitet (GU)", institution_domain="gu.se"),)


def test_an_article_without_its_host_is_rejected_like_uu_381723() -> None:
    """uu-381723 is not among the fixtures; the same fault made on a real uu record gets the same code."""
    data = (OAI_DATA / "swepub-redux" / "local_personid_from_candidate.xml").read_bytes()
    root = parse_bytes(data)
    for host in root.iter("{http://www.loc.gov/mods/v3}relatedItem"):
        host.getparent().remove(host)
    record = read(etree.tostring(root))["oai:DiVA.org:uu-390087"]
    assert [(p.code, p.name) for p in record.problems if p.severity == "reject"] == [("11", "relatedItemTypeMissing")]


# --- exact fields of known records -----------------------------------------------------------------

def test_kth_doctoral_thesis() -> None:
    record = read_file("swepub-redux/kth-new-diva.xml")["oai:DiVA.org:kth-256035"]
    pub = record.publication
    assert pub.title.title == ("Inkjet Printing of Graphene-based Microsupercapacitors for Miniaturized "
                               "Energy Storage Applications")
    assert (pub.publication_type, pub.content_type, pub.output_type) == ("dok", "vet", None)
    assert [(c.inverted_name(), c.roles) for c in pub.contributors] == [
        ("Sollami Delekta, Szymon", ("aut",)), ("Östling, Mikael", ("ths",)), ("Li, Jiantong", ("ths",)),
        ("Lupo, Donald", ("opn",))]
    author = pub.contributors[0]
    assert (author.orcid, author.local_id) == ("0000-0001-9329-9088", "u1qvds70")
    assert author.affiliations == (Affiliation("KTH, Elektronik"),)
    assert pub.identifiers == (Identifier("isbn", "978-91-7873-255-5", "print"),
                               Identifier("uri", "http://urn.kb.se/resolve?urn=urn:nbn:se:kth:diva-256035"))
    assert pub.series == (Series("TRITA-EECS-AVL", number="2019:61"),)
    assert pub.subjects == (Subject("202", "Electrical Engineering, Electronic Engineering, Information Engineering",
                                    "Elektroteknik och elektronik"),)
    assert pub.institution_code == "kth"
    assert pub.org_units == (OrgUnitRef("879249", "Elektronik", "kth:879249"),)
    assert pub.issued == PartialDate(2019) and pub.languages == ("eng",)
    assert pub.publisher == "KTH Royal Institute of Technology" and pub.extent == "73"
    assert pub.thesis.level == "doctoral" and pub.thesis.degree_name == "Teknologie doktorsexamen"
    assert pub.thesis.defence_at == dt.datetime(2019, 9, 13, 13, 0)
    assert pub.thesis.defence_place == "Sal B, Electrum, Kistagången 16, Kungliga tekniska högskolan, Kista"
    assert [f.funder for f in pub.funding] == ["Vetenskapsrådet"]
    assert len(pub.abstracts[0].text.split("\n\n")) == 6 and "80 mW cm-3" in pub.abstracts[0].text
    assert ("Inkjet printing", "kth") == (pub.keywords[0].term, pub.keywords[-1].scheme)
    assert pub.links[0].url == "http://kth.diva-portal.org/smash/get/diva2:1343393/FULLTEXT01.pdf"
    assert pub.created == dt.datetime(2019, 8, 16)
    assert record.xsd_valid is False  # real <p> elements inside abstract
    assert [p.code for p in record.problems] == ["mods_schema_invalid"]


def test_local_person_ids_dois_and_orcids() -> None:
    records = read_file("swepub-redux/local_personid_from_candidate.xml")
    assert list(records) == ["oai:DiVA.org:kth-255179", "oai:DiVA.org:uu-390087", "oai:DiVA.org:umu-159084"]
    for record in records.values():
        pub = record.publication
        assert pub.doi == "10.1007/s11192-019-03121-z" and pub.identifier("isi") == "000471656400014"
        assert (pub.host.title, pub.host.issn, pub.host.eissn) == ("Scientometrics", "0138-9130", "1588-2861")
        assert (pub.host.volume, pub.host.issue, pub.host.pages()) == ("120", "1", "283-300")
        assert "(SCIE, SSCI & A&HCI)" in pub.abstracts[0].text
        assert record.xsd_valid is True
    kth, uu, umu = (r.publication for r in records.values())
    assert [(c.family, c.orcid, c.local_id) for c in kth.contributors] == [
        ("Colliander", "0000-0003-0229-3099", "crco66666"), ("Ahlgren", "0000-0003-0229-3073", "u1w3qpyp")]
    # DiVA sent an ORCID whose check digit is wrong: kept as sent, flagged, not dropped.
    flagged = [p for p in records["oai:DiVA.org:kth-255179"].problems if p.code == "orcid_invalid"]
    assert [p.path for p in flagged] == ["contributors[0].orcid"]
    assert kth.identifier("scopus") == "2-s2.0-85066012563"
    assert [(c.family, c.local_id) for c in uu.contributors] == [("Colliander", None), ("Ahlgren", "perah342")]
    assert uu.org_units == (OrgUnitRef("1431", "Statistiska institutionen", "uu:1431"),)
    assert umu.contributors[0].orcid == "0000-0002-7653-4004" and umu.contributors[0].local_id == "crco0001"
    assert umu.contributors[1].corporate_name == "Inforsk" and umu.contributors[1].roles == ("oth",)
    assert "(n=955,639)" in umu.abstracts[0].text
    assert [u.code for u in umu.org_units] == ["850", "4957"]


def test_current_diva_shape_with_output_types_and_name_identifiers() -> None:
    records = read_file("swepub-redux/obsolete-test-listrecords.xml")
    pub = records["oai:DiVA.org:kth-289495"].publication
    assert (pub.output_type, pub.publication_type, pub.content_type) == ("publication/journal-article", "art", "ref")
    assert pub.creator_count == 7 and len(pub.authors) == 7 and pub.publication_status == "published"
    assert pub.contributors[1].orcid == "0000-0002-0798-5995"
    lindahl = pub.contributors[5]
    assert (lindahl.local_id, lindahl.orcid) == ("u1u9f2s7", "0000-0002-2734-2794")
    assert lindahl.affiliations[:2] == (Affiliation("KTH", institution_domain="kth.se"),
                                        Affiliation("Biofysik", unit_code="Biofysik", institution_domain="kth.se"))
    assert (pub.host.issn, pub.host.eissn) == ("0027-8424", "1091-6490")
    assert pub.subjects == (Subject("106", *_labels("106")),) and pub.subjects[0].label_sv == "Biologi"
    assert pub.identifier("pmid") == "33257549" and pub.notes[0].text == "QC 20210203"
    assert records["oai:DiVA.org:kth-285297"].publication.subjects[0].code == "20104"


def test_lund_style() -> None:
    record = read_file("swepub-redux/lund.xml")["oai:lup.lub.lu.se:3070384e-0534-4580-aa7f-0da5c79f6594"]
    pub = record.publication
    assert pub.doi == "10.1002/(sici)1097-0134(19990801)36:2<157::aid-prot3>3.0.co;2-y"
    assert pub.identifier("scopus") == "2-s2.0-0033180952"
    assert pub.issued == PartialDate(1999, 8, 1) and pub.creator_count == 2
    ryde = pub.contributors[1]
    assert (ryde.family, ryde.given, ryde.local_id) == ("Ryde", "Ulf", "teok-ury")
    assert [a.unit_code or a.institution_domain for a in ryde.affiliations] == [
        "lu.se", "v1000600", "v1000647", "v1000656", "v1000659"]
    assert pub.org_units == (OrgUnitRef("v1000659", "Teoretisk kemi", "lu:v1000659"),)
    assert "Mixed text" in [k.term for k in pub.keywords]
    assert "<5 kJ/mol" in pub.abstracts[0].text
    assert pub.host.article_number == "UNSP 461" and pub.host.pages() == "157-174"
    assert pub.subjects[0].code == "10407" and pub.publisher == "John Wiley & Sons"


def test_artistic_doctoral_thesis_and_defence_language() -> None:
    pub = read_file("swepub-redux/uniarts-new.xml")["oai:DiVA.org:uniarts-217"].publication
    assert pub.publication_type == "dok"  # "kfa" beside it is not an SVEP type
    assert pub.languages == ("swe",)  # the defence language is not the work's
    assert [a.lang for a in pub.abstracts] == ["eng", "swe"]
    assert pub.thesis.defence_at == dt.datetime(2012, 6, 1, 12, 0) and pub.thesis.defence_place == "Bodø"
    assert pub.place == "Stockholm" and pub.publisher == "Premiss förlag"
    assert pub.identifier("libris") == "13622006"
    assert pub.subjects == (Subject("60414", *_labels("60414")),)  # SSIF 2011 60404 mapped to 2025


def test_conference_paper_with_an_empty_host() -> None:
    record = read_file("swepub-redux/liu-new-diva.xml")["oai:DiVA.org:liu-161552"]
    pub = record.publication
    assert pub.host is None  # <titleInfo><title/></titleInfo> only: no host, as SwePub sees it
    assert pub.conference.name.startswith("15th Annual European Congress of Rheumatology (EULAR)")
    assert pub.title.title == "Intimate relationships as perceived by patients with early rheumatoid arthritis:"
    assert pub.title.subtitle == "A qualitative interview study (The Swedish TIRA study)"
    assert pub.series == (Series("ANNALS OF THE RHEUMATIC DISEASES", "0003-4967", "1468-2060"),)
    assert pub.contributors[0].orcid == "0000-0002-3068-5384" and pub.contributors[0].local_id is None
    assert pub.contributors[2].local_id is None  # xlink:href="n/a"
    assert pub.contributors[3].local_id == "annsv50"
    assert pub.subjects[0].code == "30399"


def test_book_chapter_and_legacy_subject() -> None:
    record = read_file("swepub-redux/gih-new.xml")["oai:DiVA.org:gih-3019"]
    pub = record.publication
    assert (pub.host.kind, pub.host.title, pub.host.subtitle) == ("book", "Långvarigt stillasittande",
                                                                   "en hälsofara i tiden")
    assert pub.host.pages() == "47-55"
    assert pub.identifiers_of("isbn") == ("978-91-44-07805-2",)
    assert pub.subjects == (Subject("30302"),)  # SSIF 2011, no single 2025 successor: kept and flagged
    legacy = [p for p in record.problems if p.code == "ssif_legacy"]
    assert [(p.path, p.severity) for p in legacy] == [("subjects[0].code", "warning")]


def test_reports_licentiate_thesis_and_html_lists() -> None:
    first = read_file("swepub-redux/naturvardsverket-new.xml")["oai:DiVA.org:naturvardsverket-8323"].publication
    assert first.publication_type == "rap" and len(first.org_units) == 3
    assert first.title.subtitle == "Lagnö (Egentliga Östersjön) 2002–2018"
    assert len(first.abstracts[0].text.split("\n\n")) == 7
    lic = read_file("swepub-redux/ltu-new.xml")["oai:DiVA.org:ltu-17805"].publication
    assert lic.thesis.level == "licentiate" and lic.thesis.defence_at is None
    assert [(i.value, i.qualifier) for i in lic.identifiers if i.scheme == "isbn"] == [
        ("978-91-7439-622-5", "print"), ("978-91-7439-623-2", "online")]
    assert lic.series[0].issn == "1402-1757"


# --- MODS forms the fixtures lack -------------------------------------------------------------------

MODS_38 = """<mods xmlns="http://www.loc.gov/mods/v3" xmlns:xlink="http://www.w3.org/1999/xlink" version="{version}">
  <titleInfo lang="swe"><title>Ålgräs &lt;i&gt;i&lt;/i&gt; Östersjön</title></titleInfo>
  <name type="personal"><namePart>Öberg, Åsa</namePart>
    <role><roleTerm type="text">author</roleTerm></role></name>
  <name type="corporate" authority="uu"><namePart>Uppsala universitet</namePart>
    <role><roleTerm type="code" authority="marcrelator">aut</roleTerm></role></name>
  <originInfo eventType="publication">
    <agent><namePart>Uppsala universitet</namePart>
      <role><roleTerm type="code" authority="marcrelator">pbl</roleTerm></role></agent>
    <dateIssued>2021-05-17</dateIssued>
  </originInfo>
  <genre authority="kb.se" type="outputType">https://id.kb.se/term/swepub/output/publication/report</genre>
  <genre authority="svep" type="contentType">pop</genre>
  <language><languageTerm type="code" authority="iso639-2b">swe</languageTerm></language>
  <classification authority="ssif">10501</classification>
  <identifier type="uri">https://urn.kb.se/resolve?urn=urn:nbn:se:uu:diva-1</identifier>
  <identifier type="doi">https://doi.org/10.1234/ABC</identifier>
  <identifier type="patent_number">SE123</identifier>
  <accessCondition type="use and reproduction" xlink:href="https://creativecommons.org/licenses/by/4.0/"/>
  <accessCondition type="restriction on access" displayLabel="embargo">2030-01-01</accessCondition>
  <relatedItem type="host"><genre>project</genre><titleInfo><title>Baltic eelgrass</title></titleInfo></relatedItem>
  <relatedItem type="constituent"><titleInfo><title>Paper I</title></titleInfo></relatedItem>
  <recordInfo><recordContentSource>uu</recordContentSource></recordInfo>
</mods>"""


def parse_mods(text: str, prefix: str = "swepub_mods") -> ParsedRecord:
    return parse_metadata(etree.fromstring(text.encode()), prefix, oai_identifier="oai:test:1",
                          datestamp=None, mods_schemas=mods_schema, today=TODAY)


def test_mods_38_events_and_ssif_classification() -> None:
    record = parse_mods(MODS_38.format(version="3.8"))
    pub = record.publication
    assert record.xsd_valid is True and record.accepted, record.problems
    assert pub.title.title == "Ålgräs i Östersjön"
    assert (pub.contributors[0].family, pub.contributors[0].given, pub.contributors[0].roles) == ("Öberg", "Åsa", ("aut",))
    assert pub.contributors[1].affiliations == (Affiliation("uu", institution_code="uu"),)
    assert pub.publisher == "Uppsala universitet" and pub.issued == PartialDate(2021, 5, 17)
    assert pub.subjects[0].code == "10501"
    assert (pub.output_type, pub.publication_type) == ("publication/report", "rap")
    assert pub.doi == "10.1234/abc" and "patent_number" not in {i.scheme for i in pub.identifiers}
    assert pub.licence == "https://creativecommons.org/licenses/by/4.0/"
    assert [n.text for n in pub.notes] == ["Embargo: 2030-01-01"]
    # A project "host" is not a host: rule 12 does not apply to a report that names its project.
    assert pub.host is None and [(r.relation, r.title) for r in pub.related] == [
        ("project", "Baltic eelgrass"), ("constituent", "Paper I")]


def test_the_schema_follows_the_declared_version() -> None:
    assert parse_mods(MODS_38.format(version="3.7")).xsd_valid is False  # agent is MODS 3.8
    problem = [p for p in parse_mods(MODS_38.format(version="3.7")).problems if p.code == "mods_schema_invalid"]
    assert problem[0].severity == "info" and "agent" in problem[0].message
    without = parse_metadata(etree.fromstring(MODS_38.format(version="3.8").encode()), "mods",
                             oai_identifier="oai:test:1", datestamp=None, today=TODAY)
    assert without.xsd_valid is None


def test_invalid_values_are_kept_and_flagged() -> None:
    text = MODS_38.format(version="3.8").replace("https://doi.org/10.1234/ABC", "10.12 34/x").replace(
        "<dateIssued>2021-05-17</dateIssued>", "<dateIssued>n.d.</dateIssued>").replace(
        "</recordInfo>", "</recordInfo><note type=\"creatorCount\">many</note>"
                         "<note type=\"publicationStatus\">Forthcoming</note>")
    record = parse_mods(text)
    assert record.publication.doi == "10.12 34/x"
    assert {"doi_invalid", "date_invalid", "creator_count_invalid", "publication_status_unknown", "08"} <= set(codes(record))
    assert not record.accepted


def test_problems_come_most_severe_first() -> None:
    record = parse_mods(MODS_38.format(version="3.8").replace("<recordContentSource>uu</recordContentSource>", ""))
    severities = [p.severity for p in record.problems]
    assert severities[0] == "reject" and severities == sorted(severities, key=["reject", "error", "warning", "info"].index)


@pytest.mark.parametrize("metadata", [
    None,
    etree.fromstring(b'<metadata xmlns="http://www.openarchives.org/OAI/2.0/"/>'),
    etree.fromstring(b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"/>'),
], ids=["none", "empty-metadata", "dc-under-mods-prefix"])
def test_rule_00_when_there_is_no_mods(metadata: etree._Element | None) -> None:
    record = parse_metadata(metadata, "swepub_mods", oai_identifier="oai:x:1", datestamp=None)
    assert record.publication is None and not record.accepted
    assert [(p.code, p.name, p.severity) for p in record.problems] == [("00", "modsDataMissing", "reject")]


def test_oai_dc_prefix_without_dc_is_rejected() -> None:
    record = parse_metadata(None, "oai_dc", oai_identifier="oai:x:1", datestamp=None)
    assert [(p.code, p.severity) for p in record.problems] == [("dc_data_missing", "reject")]


def test_unknown_formats_and_missing_identifiers_are_clear_errors() -> None:
    response = parse_bytes((OAI_DATA / "openarchives-spec" / "ex-sec4.5a.xml").read_bytes())
    metadata = response.find(f".//{OAI}metadata")
    with pytest.raises(UnsupportedMetadataFormat, match="oai_rfc1807.*rfc1807"):
        parse_metadata(metadata, "oai_rfc1807", oai_identifier="oai:arXiv.org:hep-th/9901001", datestamp=None)
    with pytest.raises(ValueError, match="OAI identifier"):
        parse_metadata(None, "swepub_mods", oai_identifier=" ", datestamp=None)


# --- oai_dc ----------------------------------------------------------------------------------------

def test_dspace_dublin_core() -> None:
    records = read_file("eur-dspace-2003/ListRecords-from-2003-04-10.xml")
    assert len(records) == 16
    record = records["hdl:1765/315"]
    pub = record.publication
    assert pub.title.title.startswith("De vrouwenbeweging online.")
    assert [(c.family, c.given, c.roles) for c in pub.contributors] == [("Edwards", "A.R.", ("ctb",))]
    assert pub.publication_type == "rap" and pub.issued == PartialDate(2003, 4, 22)
    assert pub.languages == ("dut",)
    assert pub.identifiers == (Identifier("isbn", "90-90-14980-5"), Identifier("uri", "http://hdl.handle.net/1765/315"))
    assert pub.url == "http://hdl.handle.net/1765/315"
    # DC lacks what SwePub requires; that is reported, not hidden.
    assert {"01", "02", "07"} <= set(codes(record)) and not record.accepted
    assert records["hdl:1765/308"].publication.languages == ("other",)
    assert "language_invalid" in codes(records["hdl:1765/308"])
    payload = read_payload("eur-dspace-2003/oai_dc-payload-hdl-1765-315.xml")
    assert payload.publication.titles == pub.titles


def read_payload(relative: str) -> ParsedRecord:
    root = parse_bytes((OAI_DATA / relative).read_bytes())
    return parse_metadata(root, "oai_dc", oai_identifier="oai:example:1", datestamp=None, today=TODAY)


def test_sickle_pages_with_schema_invalid_dublin_core() -> None:
    for page in ("ListRecords.xml", "ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml"):
        records = read_file(f"sickle/{page}")
        assert len(records) == 1
        pub = records["oai:test.example.com:1585322"].publication
        assert pub.publication_type == "art" and pub.host.title == "Sample Source"
        assert pub.publisher == "Sample Publisher" and pub.issued == PartialDate(2010)
        assert [c.family for c in pub.contributors] == ["John Doe"] * 4
        assert "contributor_duplicate" in codes(records["oai:test.example.com:1585322"])


def test_illinois_maps() -> None:
    records = read_file("metaslurper/ListRecords.xml")
    assert len(records) == 100
    pubs = [r.publication for r in records.values()]
    assert all(p.publication_type == "ovr" and p.url and p.url.startswith("https://digital.library.illinois.edu/")
               for p in pubs)
    first = records["oai:digital.library.illinois.edu:2ac46220-e946-0133-1d3d-0050569601ca-5"].publication
    assert (first.title.title, first.issued, first.contributors[0].family) == (
        "Africa", PartialDate(1508), "Fracanzano de Montalboddo")
    assert sum(1 for p in pubs if p.languages == ("fre",)) == 3  # "French"
    assert all("year_implausible" not in codes(r) for r in records.values())


def test_openarchives_examples() -> None:
    record = read_file("openarchives-spec/ex-sec4.1a.xml")["oai:arXiv.org:cs/0112017"]
    pub = record.publication
    assert (pub.contributors[0].family, pub.contributors[0].given) == ("Dushay", "Naomi")
    assert pub.title.title == "Using Structural Metadata to Localize Experience of Digital Content"
    assert pub.issued == PartialDate(2001, 12, 14) and len(pub.abstracts) == 2
    empty = read_file("openarchives-spec/ex-sec3.2.xml")["oai:arXiv.org:1"]
    assert empty.publication.titles == () and "03" in codes(empty)
    cornell = read_payload("openarchives-spec/ex-sec5b.xml").publication
    assert cornell.languages == ("eng",) and cornell.issued == PartialDate(1906)
    assert (cornell.contributors[0].family, cornell.contributors[0].given) == ("Hyde", "E. W. (Edward Wyllys)")
    assert [n.text for n in cornell.notes] == ["Rights: Public Domain"]
    law = read_payload("openarchives-spec/ex-sec5a.xml").publication
    assert law.issued == PartialDate(1915)
    assert law.url == "http://heinonline.org/HeinOnline/show.pl?handle=hein.journals/clqv1%26id=1%26size=4"


def test_hyllas_own_theses_come_back_with_their_level_and_student_theses_as_such() -> None:
    """Hylla's MODS says a student thesis only by its thesisLevel note (no SVEP or KB type exists for it)."""
    from exports import mods
    from tests.samples import doctoral_thesis, student_thesis

    for sample in (student_thesis(), dataclasses.replace(doctoral_thesis(), thesis=dataclasses.replace(
            doctoral_thesis().thesis, nailing_date=dt.date(2023, 4, 20)))):
        payload = etree.fromstring(mods.render(sample))
        parsed = parse_metadata(payload, "mods", oai_identifier="oai:hylla.example.org:1", datestamp=None,
                                today=dt.date(2025, 1, 1))
        back = parsed.publication
        assert back is not None and back.publication_type == sample.publication_type
        assert back.thesis is not None and sample.thesis is not None
        fields = ("level", "credits", "degree_name", "programme", "defence_at", "nailing_date")
        assert [getattr(back.thesis, f) for f in fields] == [getattr(sample.thesis, f) for f in fields]
        # Read as thesis details, not left over as loose notes.
        assert not [n.text for n in back.notes if n.text in (sample.thesis.level, sample.thesis.credits)]
    student = parse_metadata(etree.fromstring(mods.render(student_thesis())), "mods", oai_identifier="oai:x:1",
                             datestamp=None)
    assert student.accepted and [p.code for p in student.problems if p.code == "not_reported"] == ["not_reported"]


MODS = "http://www.loc.gov/mods/v3"


def test_open_access_from_free_full_texts_statements_and_licences() -> None:
    [diva] = read_file("swepub-redux/kth-new-diva.xml").values()  # full-text links with note="free"
    assert diva.open_access is True
    closed = etree.fromstring(
        f'<mods xmlns="{MODS}" xmlns:xlink="http://www.w3.org/1999/xlink"><titleInfo><title>T</title></titleInfo>'
        '<accessCondition type="restriction on access">restricted access</accessCondition>'
        '<location><url displayLabel="fulltext">http://example.org/a.pdf</url></location></mods>')
    assert parse_metadata(closed, "mods", oai_identifier="oai:x:1", datestamp=None).open_access is False
    gratis = etree.fromstring(f'<mods xmlns="{MODS}"><titleInfo><title>T</title></titleInfo>'
                              '<accessCondition>gratis</accessCondition></mods>')
    parsed = parse_metadata(gratis, "mods", oai_identifier="oai:x:1", datestamp=None)
    assert parsed.open_access is True
    assert [n.text for n in parsed.publication.notes] == ["Access condition: gratis"]  # kept, not dropped
    licensed = etree.fromstring(
        f'<mods xmlns="{MODS}" xmlns:xlink="http://www.w3.org/1999/xlink"><titleInfo><title>T</title></titleInfo>'
        '<accessCondition type="use and reproduction" '
        'xlink:href="https://creativecommons.org/licenses/by/4.0/">CC BY</accessCondition></mods>')
    assert parse_metadata(licensed, "mods", oai_identifier="oai:x:1", datestamp=None).open_access is True
    dc = etree.fromstring('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                          'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
                          '<dc:rights>info:eu-repo/semantics/openAccess</dc:rights></oai_dc:dc>')
    assert parse_metadata(dc, "oai_dc", oai_identifier="oai:x:1", datestamp=None).open_access is True


def test_a_source_institution_code_fills_in_for_oai_dc() -> None:
    """oai_dc has no recordContentSource: rule 01 rejects every record unless the source supplies a code."""
    dc = parse_bytes((OAI_DATA / "eur-dspace-2003/oai_dc-payload-hdl-1765-315.xml").read_bytes())
    without = parse_metadata(dc, "oai_dc", oai_identifier="oai:x:1", datestamp=None)
    assert "01" in [p.code for p in without.problems if p.severity == "reject"]
    given = parse_metadata(dc, "oai_dc", oai_identifier="oai:x:1", datestamp=None, institution_code="eur")
    assert given.publication is not None and given.publication.institution_code == "eur"
    assert "01" not in [p.code for p in given.problems]
    assert [p.code for p in given.problems if p.code == "institution_from_source"] == ["institution_from_source"]
    record = parse_bytes((OAI_DATA / "swepub-redux/kth-new-diva.xml").read_bytes()).find(f".//{OAI}metadata")
    own = parse_metadata(record, "swepub_mods", oai_identifier="oai:x:2", datestamp=None, institution_code="uu")
    assert own.publication is not None and own.publication.institution_code == "kth"  # a record's own code wins
    assert "institution_from_source" not in codes(own)
