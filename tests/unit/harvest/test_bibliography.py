"""What a merged work is searched and faceted by, and how a bibliography search is checked before it runs."""

from __future__ import annotations

import pytest

from harvest import bibliography
from harvest.bibliography import BibliographyQueryError, facet_values, make_query, work_columns

MERGED = {
    "publication_type": "art", "content_type": "ref", "issued": "2021-05-17", "languages": ["eng", "swe"],
    "titles": [{"title": "Ålgräsängar i Östersjön", "subtitle": "en översikt"},
               {"title": "Eelgrass meadows in the Baltic Sea", "kind": "translated"}],
    "subjects": [{"code": "10501"}, {"code": "106"}, {"code": "1x"}],
    "contributors": [{"family": "Öberg", "given": "Åsa"}, {"corporate_name": "SMHI"}],
    "host": {"title": "Marine Ecology Progress Series"},
    "identifiers": [{"scheme": "doi", "value": "10.3354/meps12345"}],
    "keywords": [{"term": "ålgräs"}],
}


def test_facets_of_a_work_count_subjects_at_every_level() -> None:
    pairs = facet_values(MERGED, ["uu", "kth"], open_access=True)
    assert pairs == sorted([
        ("content", "ref"), ("institution", "kth"), ("institution", "uu"), ("language", "eng"), ("language", "swe"),
        ("oa", "true"), ("subject", "1"), ("subject", "105"), ("subject", "10501"), ("subject", "106"),
        ("type", "art"), ("year", "2021")])
    assert ("oa", "false") in facet_values({}, [], open_access=False)


def test_sort_and_match_columns_are_folded() -> None:
    columns = work_columns(MERGED)
    assert columns["year"] == 2021 and columns["publication_type"] == "art"
    assert columns["sort_title"] == "algrasangar i ostersjon en oversikt"
    for word in ("algrasangar", "eelgrass", "oberg", "asa", "smhi", "marine", "10 3354 meps12345", "algras"):
        assert f" {word}" in columns["search_text"], word
    assert work_columns({"titles": []})["year"] == 0  # no year: sorted last, no NULLs in the keyset


def test_queries_are_checked_and_name_the_bad_parameter() -> None:
    query = make_query("  Ålgräs  ÅLGRÄS östersjön ", {"institution": ["uu", "uu", " "], "year": ["2021"]},
                       sort="title", size=5)
    assert query.words == ("algras", "ostersjon") and query.filters == {"institution": ("uu",), "year": ("2021",)}
    for filters, message in ((({"year": ["21"]}), "year='21': a year has four digits"),
                             ({"type": ["article"]}, "type='article': one of art"),
                             ({"subject": ["12"]}, "subject='12'"), ({"oa": ["yes"]}, "oa='yes': true or false"),
                             ({"colour": ["red"]}, "unknown filter 'colour'")):
        with pytest.raises(BibliographyQueryError, match=message):
            make_query("", filters)
    with pytest.raises(BibliographyQueryError, match="unknown sort 'relevance'"):
        make_query("x", sort="relevance")
    with pytest.raises(BibliographyQueryError, match="size must be between 1 and 200"):
        make_query("x", size=500)
    with pytest.raises(BibliographyQueryError, match="at most 10 words"):
        make_query(" ".join(f"w{n}" for n in range(11)))


def test_cursors_belong_to_their_sort() -> None:
    cursor = bibliography.encode_cursor("title", "algrasangar", 17)
    assert make_query(sort="title", cursor=cursor).after == ("algrasangar", 17)
    with pytest.raises(BibliographyQueryError, match="another sort order"):
        make_query(sort="newest", cursor=cursor)
    with pytest.raises(BibliographyQueryError, match="not one this search handed out"):
        make_query(sort="title", cursor="!!not-base64!!")
