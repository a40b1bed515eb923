"""Formatted references, checked against each style guide's rules for a handful of records.

The expected strings were written from the rules (APA 7, IEEE Reference Guide, Cite Them Right,
Chicago 18 author-date, MLA 9, NLM Citing Medicine) and the CSL files that encode them.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from exports import citations
from exports.readmodel import Contributor, PartialDate, Publication, Title
from tests.samples import book_chapter, conference_paper, doctoral_thesis, journal_article, report


def _authors(pub: Publication, count: int) -> Publication:
    """The record with ``count`` authors Author1, A. ... AuthorN, A."""
    return dataclasses.replace(pub, contributors=tuple(
        Contributor(family=f"Author{i}", given="A.") for i in range(1, count + 1)))


def _two_authors(pub: Publication) -> Publication:
    return dataclasses.replace(pub, contributors=pub.contributors[:2])


def _text(pubs: list[Publication], style: str, locale: str = "en-US") -> list[str]:
    return citations.format_bibliography(pubs, style, locale, "text")


ARTICLE = journal_article()


# --- APA 7 ----------------------------------------------------------------------------------

def test_apa_journal_article() -> None:
    assert _text([ARTICLE], "apa") == [
        "Öberg, Å., Smith, J. R., & Lindström, P.-E. (2021). Ålgräsängar i Östersjön: en översikt över "
        "förändringar 1990–2020. Marine Ecology Progress Series, 12(3), 101–118. "
        "https://doi.org/10.3354/meps12345"]


def test_apa_html_italicises_journal_and_volume() -> None:
    html = citations.format_bibliography([ARTICLE], "apa", output="html")[0]
    assert "<i>Marine Ecology Progress Series</i>, <i>12</i>(3), 101–118." in html


def test_apa_chapter_in_edited_book() -> None:
    assert _text([book_chapter()], "apa") == [
        "Nguyen, T. (2019). Open science and its discontents. In A. Berg & L. Kim (eds.), Handbook of "
        "Research Infrastructures (pp. 45–67). Springer. https://doi.org/10.1007/978-3-16-148410-0_3"]


def test_apa_lists_twenty_authors_in_full() -> None:
    entry = _text([_authors(ARTICLE, 20)], "apa")[0]
    names = ", ".join(f"Author{i}, A." for i in range(1, 20))
    assert entry.startswith(f"{names}, & Author20, A. (2021). ")


def test_apa_more_than_twenty_authors_first_nineteen_ellipsis_last() -> None:
    entry = _text([conference_paper()], "apa")[0]  # 24 authors
    names = ", ".join(f"Author{i}, A." for i in range(1, 20))
    assert entry.startswith(f"{names}, … Author24, A. (2022). Fast OAI-PMH harvesting at scale.")
    assert "Author20" not in entry and "&" not in entry


def test_apa_thesis_without_number_has_no_empty_publication_label() -> None:
    assert _text([doctoral_thesis()], "apa") == [
        "Karlsson, M. (2023). Proteinveckning i cellmembran: experiment och simuleringar [Doctoral thesis]. "
        "Uppsala universitet."]


def test_apa_corporate_author() -> None:
    assert _text([report()], "apa")[0].startswith("Naturvårdsverket. (2020). Miljötillståndet 2020 ")


def test_apa_in_swedish_keeps_the_ampersand() -> None:
    assert _text([_two_authors(ARTICLE)], "apa", "sv-SE")[0].startswith("Öberg, Å., & Smith, J. R. (2021). ")


# --- IEEE -----------------------------------------------------------------------------------

def test_ieee_numbers_in_list_order_with_a_space_after_the_number() -> None:
    first, second = _text([ARTICLE, book_chapter()], "ieee")
    assert first == (
        "[1] Å. Öberg, J. R. Smith, and P.-E. Lindström, “Ålgräsängar i Östersjön: en översikt över "
        "förändringar 1990–2020,” Marine Ecology Progress Series, vol. 12, no. 3, pp. 101–118, May 2021, "
        "doi: 10.3354/meps12345.")
    assert second.startswith("[2] T. Nguyen, “Open science and its discontents,” in Handbook of Research "
                             "Infrastructures, A. Berg and L. Kim, Eds., in Lecture Notes in Science, no. 112. "
                             "Cham: Springer, 2019, pp. 45–67.")


def test_ieee_et_al_from_seven_authors() -> None:
    six, seven = _text([_authors(ARTICLE, 6), _authors(ARTICLE, 7)], "ieee")
    assert six.startswith("[1] A. Author1, A. Author2, A. Author3, A. Author4, A. Author5, and A. Author6, “")
    assert seven.startswith("[2] A. Author1 et al., “")


def test_ieee_in_swedish_says_m_fl() -> None:
    assert _text([_authors(ARTICLE, 7)], "ieee", "sv-SE")[0].startswith("[1] A. Author1 m.fl., ")


# --- Harvard (Cite Them Right) ---------------------------------------------------------------

def test_harvard_journal_article_in_british_english() -> None:
    assert _text([ARTICLE], "harvard-cite-them-right", "en-GB") == [
        "Öberg, Å., Smith, J.R. and Lindström, P.-E. (2021) ‘Ålgräsängar i Östersjön: en översikt över "
        "förändringar 1990–2020’, Marine Ecology Progress Series, 12(3), pp. 101–118. "
        "Available at: https://doi.org/10.3354/meps12345."]


def test_harvard_et_al_from_four_authors() -> None:
    three, four = _text([_authors(ARTICLE, 3), _authors(ARTICLE, 4)], "harvard-cite-them-right", "en-GB")
    assert three.startswith("Author1, A., Author2, A. and Author3, A. (2021) ")
    assert four.startswith("Author1, A. et al. (2021) ")


def test_harvard_in_swedish_says_och_and_m_fl() -> None:
    two, four = _text([_two_authors(ARTICLE), _authors(ARTICLE, 4)], "harvard-cite-them-right", "sv-SE")
    assert two.startswith("Öberg, Å. och Smith, J.R. (2021) ")
    assert four.startswith("Author1, A. m.fl. (2021) ")


# --- Chicago author-date ---------------------------------------------------------------------

def test_chicago_full_given_names_and_abbreviated_page_range() -> None:
    assert _text([ARTICLE], "chicago-author-date") == [
        "Öberg, Åsa, John R. Smith, and Per-Erik Lindström. 2021. “Ålgräsängar i Östersjön: en översikt över "
        "förändringar 1990–2020.” Marine Ecology Progress Series 12 (3): 101–18. "
        "https://doi.org/10.3354/meps12345."]


def test_chicago_headline_case_for_english_titles() -> None:
    assert _text([book_chapter()], "chicago-author-date")[0].startswith(
        "Nguyen, Thi. 2019. “Open Science and Its Discontents.” In Handbook of Research Infrastructures, "
        "edited by Anna Berg and Lee Kim.")


def test_chicago_more_than_six_authors_first_three_et_al() -> None:
    six, seven = _text([_authors(ARTICLE, 6), _authors(ARTICLE, 7)], "chicago-author-date")
    assert six.startswith("Author1, A., A. Author2, A. Author3, A. Author4, A. Author5, and A. Author6. 2021.")
    assert seven.startswith("Author1, A., A. Author2, A. Author3, et al. 2021.")


def test_chicago_in_swedish_says_och() -> None:
    assert _text([_two_authors(ARTICLE)], "chicago-author-date", "sv-SE")[0].startswith(
        "Öberg, Åsa, och John R. Smith. 2021. ")


# --- MLA 9 ----------------------------------------------------------------------------------

def test_mla_journal_article() -> None:
    assert _text([ARTICLE], "mla") == [
        "Öberg, Åsa, et al. “Ålgräsängar i Östersjön: en översikt över förändringar 1990–2020.” "
        "Marine Ecology Progress Series, vol. 12, no. 3, May 2021, pp. 101–18, "
        "https://doi.org/10.3354/meps12345."]


def test_mla_two_authors_and_short_page_ranges() -> None:
    two = _text([_two_authors(ARTICLE)], "modern-language-association")[0]
    assert two.startswith("Öberg, Åsa, and John R. Smith. “")
    paper = _text([conference_paper()], "mla")[0]
    assert "pp. 1–10." in paper  # citeproc-py cut it to 1–0


def test_mla_alias_is_the_same_style() -> None:
    assert _text([ARTICLE], "mla") == _text([ARTICLE], "modern-language-association")


# --- Vancouver (NLM) -------------------------------------------------------------------------

def test_vancouver_journal_article() -> None:
    assert _text([ARTICLE], "vancouver") == [
        "1. Öberg Å, Smith JR, Lindström PE. Ålgräsängar i Östersjön: en översikt över förändringar "
        "1990–2020. Marine Ecology Progress Series. 2021 May 17;12(3):101–18. doi:10.3354/meps12345 "
        "PubMed PMID: 31234567."]


def test_vancouver_first_six_authors_then_et_al() -> None:
    entry = _text([_authors(ARTICLE, 7)], "vancouver")[0]
    assert entry.startswith("1. Author1 A, Author2 A, Author3 A, Author4 A, Author5 A, Author6 A, et al. ")


# --- behaviour common to all styles ----------------------------------------------------------

@pytest.mark.parametrize("style", sorted(citations.STYLES))
@pytest.mark.parametrize("record", [ARTICLE, book_chapter()], ids=["swedish", "english-title-cased"])
def test_html_output_escapes_markup_in_field_values(style: str, record: Publication) -> None:
    pub = dataclasses.replace(record, titles=(Title("<script>alert(1)</script> & <b>co</b>"),),
                              contributors=(Contributor(family="<img src=x onerror=alert(1)>", given="Eve"),))
    html = citations.format_citation(pub, style, output="html")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in html
    text = citations.format_citation(pub, style, output="text")
    assert "<script>alert(1)</script> & <b>co</b>" in text


def test_one_entry_per_record_in_input_order_even_for_repeats() -> None:
    pubs = [report(), ARTICLE, report()]
    entries = _text(pubs, "ieee")
    assert [e[:4] for e in entries] == ["[1] ", "[2] ", "[3] "]
    assert entries[0][4:] == entries[2][4:]
    assert _text(pubs, "apa")[1].startswith("Öberg, Å.")  # not re-sorted by author


def test_format_citation_is_the_entry_of_one_record() -> None:
    assert citations.format_citation(ARTICLE, "apa", "en-US", "text") == _text([ARTICLE], "apa")[0]


def test_empty_list_gives_no_entries() -> None:
    assert citations.format_bibliography([], "apa") == []


def test_unknown_style_lists_the_available_ones() -> None:
    with pytest.raises(citations.UnknownStyle, match=r"'harvard1'.*apa, chicago-author-date.*mla") as error:
        citations.format_bibliography([ARTICLE], "harvard1")
    assert isinstance(error.value, ValueError)


def test_unknown_locale_lists_the_available_ones() -> None:
    with pytest.raises(citations.UnknownLocale, match=r"'de-DE'.*en-US, en-GB, sv-SE"):
        citations.format_citation(ARTICLE, "apa", "de-DE")


def test_unknown_output_is_refused() -> None:
    with pytest.raises(citations.UnknownOutput, match=r"'rtf'.*html, text"):
        citations.format_citation(ARTICLE, "apa", output="rtf")  # type: ignore[arg-type]


def test_offered_styles_and_locales() -> None:
    assert {"apa", "ieee", "harvard-cite-them-right", "chicago-author-date", "vancouver",
            "modern-language-association"} <= set(citations.STYLES)
    assert citations.style_id("mla") == "modern-language-association"
    assert set(citations.LOCALES) == {"en-US", "en-GB", "sv-SE"}


def test_a_style_is_parsed_once_per_locale() -> None:
    citations.format_bibliography([ARTICLE], "ieee", "en-GB")
    before = citations._load.cache_info()
    citations.format_bibliography([ARTICLE, report()], "ieee", "en-GB")
    after = citations._load.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 1)


def test_parallel_lists_in_one_style_do_not_mix() -> None:
    lists = [[ARTICLE] * 20, [report()] * 20, [book_chapter()] * 20]
    expected = [_text(pubs, "apa") for pubs in lists]
    results: dict[int, list[str]] = {}

    def work(index: int) -> None:
        results[index] = _text(lists[index], "apa")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(3)] == expected


def test_undated_record_renders_without_a_year() -> None:
    entry = _text([dataclasses.replace(ARTICLE, issued=None, online=None)], "apa")[0]
    assert entry.startswith("Öberg, Å., Smith, J. R., & Lindström, P.-E. (n.d.). ")


def test_year_only_and_year_month_dates() -> None:
    may = _text([dataclasses.replace(ARTICLE, issued=PartialDate(2021, 5))], "ieee")[0]
    year = _text([dataclasses.replace(ARTICLE, issued=PartialDate(2021))], "ieee")[0]
    assert ", May 2021, doi:" in may and ", 2021, doi:" in year
