"""The bundled XML schemas: all local, all compile, safely parsed, and they really reject bad documents."""

from __future__ import annotations

import datetime as dt
import importlib
from importlib import resources

import pytest
from lxml import etree

from exports.schemas import available, safe_parser, schema, validation_errors
from tests.unit.exports.xml_support import everything

XS = "{http://www.w3.org/2001/XMLSchema}"
EXPECTED = {
    "mods-3-7", "mods-3-8", "oai_dc", "simpledc20021212", "OAI-PMH", "OAI-PMH.official", "oai-pmh-full",
    "oai-identifier", "xml", "xlink", "datacite-metadata-v4.6", "hylla-dc-records", "hylla-datacite-resources",
    "MARC21slim",
}


def test_the_schemas_the_writers_need_are_bundled() -> None:
    assert EXPECTED <= set(available())


@pytest.mark.parametrize("name", available())
def test_every_schema_compiles(name: str) -> None:
    assert isinstance(schema(name), etree.XMLSchema)


@pytest.mark.parametrize("name", available())
def test_every_import_and_include_names_a_bundled_file(name: str) -> None:
    """No schemaLocation points at the web, so loading never needs (or tries) the network."""
    folder = resources.files("exports.schemas")
    tree = etree.parse(str(folder.joinpath(f"{name}.xsd")), safe_parser())
    locations = [el.get("schemaLocation") for el in tree.iter(f"{XS}import", f"{XS}include")]
    for location in locations:
        assert "://" not in location, f"{name}.xsd loads {location} from the network"
        assert folder.joinpath(location).is_file(), f"{name}.xsd needs {location}, which is not bundled"


def test_schemas_are_compiled_once() -> None:
    assert schema("mods-3-7") is schema("mods-3-7")


def test_an_unknown_schema_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no bundled XML schema named 'mods-9'.*mods-3-7"):
        schema("mods-9")


def test_the_parser_expands_no_entities_and_reads_no_files(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    hostile = (f'<!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]><x>&e;</x>').encode()
    root = etree.fromstring(hostile, safe_parser())
    assert "top secret" not in etree.tostring(root, encoding="unicode")


MODS = b'<mods xmlns="http://www.loc.gov/mods/v3" version="%s"><titleInfo><title>T</title></titleInfo></mods>'


def test_mods_schema_accepts_a_minimal_record_and_rejects_an_unknown_version() -> None:
    assert validation_errors(MODS % b"3.7", "mods-3-7") == []
    errors = validation_errors(MODS % b"9.9", "mods-3-7")
    assert errors and "version" in errors[0]


def test_mods_schema_accepts_swepubs_affiliation_attributes_only_with_xsi_type() -> None:
    """DiVA's machine-readable affiliation is valid MODS 3.7 only through the derived type."""
    template = ('<mods xmlns="http://www.loc.gov/mods/v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                '<name type="personal"><namePart>X</namePart>'
                '<affiliation {} authority="kb.se" valueURI="uu.se">Uppsala universitet</affiliation>'
                '</name></mods>')
    assert validation_errors(template.format('xsi:type="stringPlusLanguagePlusAuthority"').encode(), "mods-3-7") == []
    assert validation_errors(template.format("").encode(), "mods-3-7")


DATACITE = """<resource xmlns="http://datacite.org/schema/kernel-4">
  <identifier identifierType="DOI">10.1234/abc</identifier>
  <creators><creator><creatorName>Doe, Jane</creatorName></creator></creators>
  <titles><title>T</title></titles><publisher>P</publisher><publicationYear>2024</publicationYear>
  <resourceType resourceTypeGeneral="{general}">Article</resourceType>
</resource>"""


def test_datacite_schema_knows_the_46_vocabulary_and_rejects_others() -> None:
    assert validation_errors(DATACITE.format(general="JournalArticle").encode(), "datacite-metadata-v4.6") == []
    assert validation_errors(DATACITE.format(general="Project").encode(), "datacite-metadata-v4.6") == []  # new in 4.6
    assert validation_errors(DATACITE.format(general="Blogpost").encode(), "datacite-metadata-v4.6")


def test_datacite_schema_requires_the_mandatory_properties() -> None:
    without_publisher = DATACITE.format(general="Text").replace("<publisher>P</publisher>", "")
    errors = validation_errors(without_publisher.encode(), "datacite-metadata-v4.6")
    assert errors and "publisher" in " ".join(errors)


def test_oai_dc_schema_rejects_unknown_elements() -> None:
    doc = (b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title><dc:author>X</dc:author></oai_dc:dc>')
    errors = validation_errors(doc, "oai_dc")
    assert errors and "author" in errors[0]


def test_hylla_list_schemas_hold_only_their_records() -> None:
    assert validation_errors(b"<records/>", "hylla-dc-records") == []
    assert validation_errors(b"<records><mods/></records>", "hylla-dc-records")
    assert validation_errors(b"<resources/>", "hylla-datacite-resources") == []
    assert validation_errors(b"<resources><resource/></resources>", "hylla-datacite-resources")


def test_validation_errors_checks_an_element_inside_a_larger_tree_as_its_own_document() -> None:
    outer = etree.fromstring(b'<wrapper>' + (MODS % b"3.7") + b'</wrapper>')
    assert validation_errors(outer[0], "mods-3-7") == []


def test_pyproject_ships_the_schemas_as_package_data() -> None:
    """setuptools takes package data per package folder, so the schemas folder must be a package."""
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.xsd" in pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert resources.files("exports.schemas").joinpath("__init__.py").is_file()


@pytest.mark.parametrize(("writer", "single", "many"), [
    ("exports.mods", "mods-3-7", "mods-3-7"), ("exports.swepub", "mods-3-7", "mods-3-7"),
    ("exports.dc", "oai_dc", "hylla-dc-records"), ("exports.dc_simple", "hylla-dc-records", "hylla-dc-records"),
    ("exports.datacite", "datacite-metadata-v4.6", "hylla-datacite-resources"),
    ("exports.marcxml", "MARC21slim", "MARC21slim"),
])
def test_a_record_with_every_field_filled_is_valid_in_every_xml_format(writer: str, single: str, many: str) -> None:
    module = importlib.import_module(writer)
    pub = everything()
    for day in (dt.date(2024, 3, 1), dt.date(2030, 1, 1)):  # an embargo in force, then lifted
        assert validation_errors(module.render(pub, today=day), single) == []
        assert validation_errors(b"".join(module.render_many([pub, pub], today=day)), many) == []
