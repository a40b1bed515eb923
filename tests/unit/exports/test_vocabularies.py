"""Bundled vocabularies: SSIF 2011 -> 2025 mapping, output types, ISO 639 languages."""

from __future__ import annotations

import pytest

from exports import vocabularies as v
from exports.readmodel import SVEP_TYPES


def test_ssif_2025_is_complete() -> None:
    current = [c for c, t in v.ssif_2025().items() if not t.deprecated]
    assert len(current) == 345
    assert {len(c) for c in current} == {1, 3, 5}
    assert v.subject_labels("10101") == ("Mathematical Analysis", "Matematisk analys")


@pytest.mark.parametrize(("code", "mapped"), [
    ("10101", "10101"),  # current code: itself
    ("10209", "102"),  # two replacements under one parent: the parent
    ("20401", "204"),
    ("10306", "10301"),  # single replacement
])
def test_deprecated_codes_map_like_swepub(code: str, mapped: str) -> None:
    assert v.map_subject_code(code) == mapped


@pytest.mark.parametrize(("code", "words"), [("99999", "not an SSIF"), ("10602", "no single SSIF 2025 replacement")])
def test_unmappable_subjects_are_explained(code: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        v.map_subject_code(code)


def test_every_svep_type_has_an_output_type_that_maps_back() -> None:
    for svep in SVEP_TYPES:
        output = v.default_output_type(svep, "ref")
        assert output in v.output_types()
        assert svep in v.output_types()[output].svep
    assert v.default_output_type("stud", None) is None
    assert v.default_output_type("art", "pop") == "publication/newspaper-article"
    assert "artistic-work/curated-exhibition-or-event" in v.output_types()


def test_languages() -> None:
    assert v.is_language_code("swe") and v.is_language_code("ger") and v.is_language_code("deu")
    assert not v.is_language_code("sv") and not v.is_language_code("xx1")
    assert v.to_bibliographic("deu") == "ger"
    assert v.iso639_1("ger") == "de" and v.iso639_1("swe") == "sv"
    assert v.language_name("swe") == "Swedish"

