"""BibTeX: read back by bibtexparser v2 and pylatexenc (independent parsers) to the record's values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from hypothesis import given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from exports import _bibfields as bib
from exports import bibtex
from exports.readmodel import Contributor, PartialDate, Publication, ThesisInfo, Title
from exports.registry import get_format
from tests.samples import (
    all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report, student_thesis,
)


def _decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, taught three LaTeX2e text commands its table lacks.

    ``\\textbraceleft`` and ``\\textbraceright`` are standard LaTeX (BibTeX needs them, see
    exports/_latex.py); pylatexenc decodes ``\\textasciicircum`` as U+02C6 instead of "^".
    """
    context = get_default_latex_context_db()
    context.add_context_category("hylla-test", prepend=True, macros=[
        MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"),
        MacroTextSpec("textasciicircum", "^"),
    ])
    return LatexNodes2Text(latex_context=context)


DECODER = _decoder()
HOSTILE = st.lists(
    st.sampled_from(list("{}\\%&#$_~^\"'`@=,-?!\n\r\t ")
                    + ["\u202e", "\u05e9", "\u0301", "😀", "Ö", "a", "Z", " and ", "others"]),
    min_size=1, max_size=30,
).map("".join)


def _parse(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text, append_middleware=[
        SeparateCoAuthors(), LatexDecodingMiddleware(decoder=DECODER)])
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def _fields(text: str) -> list[dict[str, object]]:
    """Each entry's fields, LaTeX decoded (name lists too, which the middleware leaves alone)."""
    return [{"ENTRYTYPE": e.entry_type, "ID": e.key}
            | {f.key: [DECODER.latex_to_text(v) for v in f.value] if isinstance(f.value, list) else f.value
               for f in e.fields}
            for e in _parse(text).entries]


def _bib(pubs: list[Publication], **options: bool) -> str:
    return b"".join(bibtex.render_many(pubs, **options)).decode("utf-8")


def test_every_sample_parses_back_to_its_values() -> None:
    entries = _fields(_bib(all_samples()))
    assert len(entries) == len(all_samples())
    for entry, pub in zip(entries, all_samples(), strict=True):
        assert entry["title"] == pub.title.full()
        assert entry["year"] == str(pub.year)
        assert entry["author"] == [p.inverted_name() for p in pub.authors]
        if pub.doi:
            assert entry["doi"] == pub.doi
        if pub.host and pub.host.page_start:
            assert entry["pages"] == f"{pub.host.page_start}–{pub.host.page_end}"  # -- is an en dash


def test_entry_types_and_keys() -> None:
    entries = _fields(_bib(all_samples()))
    assert [(e["ENTRYTYPE"], e["ID"]) for e in entries] == [
        ("article", "oberg2021algrasangar"),
        ("incollection", "nguyen2019open"),
        ("inproceedings", "author12022fast"),
        ("phdthesis", "karlsson2023proteinveckning"),
        ("mastersthesis", "svensson2024anvandarupplevelse"),
        ("techreport", "naturvardsverket2020miljotillstandet"),
    ]


def test_journal_article_fields() -> None:
    entry = _fields(_bib([journal_article()]))[0]
    assert entry["journal"] == "Marine Ecology Progress Series"
    assert (entry["volume"], entry["number"], entry["month"]) == ("12", "3", "may")
    assert entry["issn"] == "0171-8630, 1616-1599"
    assert entry["urn"] == "urn:nbn:se:uu:hylla-101"
    assert entry["url"] == "https://hylla.example.org/publications/101"
    assert entry["abstract"] == "Vi studerar ålgräs & dess utbredning."
    assert entry["keywords"] == "ålgräs, eelgrass, Baltic Sea"
    assert entry["language"] == "Swedish"
    assert entry["note"] == "Open access funded by the library."


def test_chapter_fields() -> None:
    entry = _fields(_bib([book_chapter()]))[0]
    assert entry["booktitle"] == "Handbook of Research Infrastructures"
    assert entry["editor"] == ["Berg, Anna", "Kim, Lee"]
    assert (entry["publisher"], entry["address"], entry["isbn"]) == ("Springer", "Cham", "978-3-16-148410-0")
    assert (entry["series"], entry["number"]) == ("Lecture Notes in Science", "112")
    assert entry["doi"] == "10.1007/978-3-16-148410-0_3"  # verbatim: biblatex would print a \_


def test_conference_paper_has_place_and_article_number() -> None:
    entry = _fields(_bib([conference_paper()]))[0]
    assert len(entry["author"]) == 24
    assert (entry["address"], entry["eid"], entry["month"]) == ("Göteborg", "7", "sep")


def test_theses_name_school_and_type() -> None:
    doctoral, student = _fields(_bib([doctoral_thesis(), student_thesis()]))
    assert doctoral["school"] == "Uppsala universitet"
    assert "type" not in doctoral
    assert (doctoral["series"], doctoral["number"], doctoral["pagetotal"]) == (
        "Digital Comprehensive Summaries of Uppsala Dissertations", "2231", "84")
    assert student["type"] == "Master's thesis (two years)"


def test_licentiate_is_a_phdthesis_of_type_licentiate() -> None:
    lic = dataclasses.replace(doctoral_thesis(), publication_type="lic",
                              thesis=ThesisInfo(level="licentiate", granting_institution="KTH"))
    entry = _fields(_bib([lic]))[0]
    assert (entry["ENTRYTYPE"], entry["type"], entry["school"]) == ("phdthesis", "Licentiate thesis", "KTH")


def test_bachelor_thesis_is_a_mastersthesis_of_its_type() -> None:
    thesis = dataclasses.replace(student_thesis(), thesis=ThesisInfo(level="bachelor"))
    entry = _fields(_bib([thesis]))[0]
    assert (entry["ENTRYTYPE"], entry["type"]) == ("mastersthesis", "Bachelor's thesis")


def test_other_kinds_are_misc() -> None:
    patent = dataclasses.replace(journal_article(), publication_type="pat", output_type=None, host=None)
    assert _fields(_bib([patent]))[0]["ENTRYTYPE"] == "misc"


def test_corporate_author_is_double_braced() -> None:
    text = _bib([report()])
    assert "  author = {{Naturvårdsverket}}," in text
    assert _fields(text)[0]["institution"] == "Naturvårdsverket"


def test_capitals_are_protected_but_not_the_first_letter() -> None:
    text = _bib([conference_paper(), journal_article()])
    assert "title = {Fast {OAI-PMH} harvesting at scale}" in text
    assert "title = {Ålgräsängar i {Östersjön}: en översikt" in text


def test_latex_specials_are_escaped_and_decode_back() -> None:
    hostile = "100% R&D #1 costs $5_000 ~ 2^10 \\ {braces} -- ``quoted''"
    pub = dataclasses.replace(journal_article(), titles=(Title(hostile),))
    text = _bib([pub])
    assert r"100\% {R\&D} \#1 costs \$5\_000 \textasciitilde{} 2\textasciicircum{}10 \textbackslash{}" in text
    assert r"\textbraceleft{}braces\textbraceright{} -{}- `{}`quoted'{}'" in text
    assert _fields(text)[0]["title"] == hostile


def test_names_that_bibtex_would_split_are_braced() -> None:
    pub = dataclasses.replace(journal_article(), contributors=(
        Contributor(family="Smith and Sons", given="J."), Contributor(family="Ek, Jr.", given="Lars")))
    text = _bib([pub])
    assert "author = {{Smith and Sons}, J. and {Ek, Jr.}, Lars}" in text
    assert _fields(text)[0]["author"] == ["Smith and Sons, J.", "Ek, Jr., Lars"]


def test_keys_are_made_unique_within_a_list() -> None:
    pubs = [journal_article()] * 3 + [dataclasses.replace(journal_article(), id="x", issued=PartialDate(1999))]
    keys = [e["ID"] for e in _fields(_bib(pubs))]
    assert keys == ["oberg2021algrasangar", "oberg2021algrasangara", "oberg2021algrasangarb",
                    "oberg1999algrasangar"]


def test_key_skips_stop_words_and_falls_back_without_author_or_year() -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title("The Øresund bridge"),), contributors=(),
                              issued=None)
    assert bibtex.citation_key(pub) == "anonndoresund"
    assert bibtex.citation_key(dataclasses.replace(pub, contributors=(Contributor(family="Łukasiewicz"),))) == (
        "lukasiewiczndoresund")
    swedish = dataclasses.replace(pub, titles=(Title("På väg mot öppen vetenskap"),))
    assert bibtex.citation_key(swedish) == "anonndvag"


def test_equal_keys_run_from_z_to_aa() -> None:
    keys = [e["ID"] for e in _fields(_bib([book_chapter()] * 29))]  # the first keeps the plain key
    assert keys[-3:] == ["nguyen2019openz", "nguyen2019openaa", "nguyen2019openab"]
    assert len(set(keys)) == 29


def test_ascii_variant_is_ascii_and_decodes_to_the_same_text() -> None:
    utf8 = _fields(_bib(all_samples()))
    text = _bib(all_samples(), ascii=True)
    assert text.isascii()
    assert r"author = {{\"O}berg, {\AA}sa and" in text
    assert _fields(text) == utf8


def test_ascii_variant_writes_unknown_characters_visibly() -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title("Emoji 😀 and שלום"),))
    text = _bib([pub], ascii=True)
    assert r"\texttt{U+1F600}" in text and r"\texttt{U+05E9}" in text
    assert text.isascii()


def test_render_is_one_entry_with_its_own_key() -> None:
    text = bibtex.render(journal_article()).decode("utf-8")
    assert text.startswith("@article{oberg2021algrasangar,\n")
    assert len(_fields(text)) == 1


def test_render_many_streams_an_entry_per_chunk() -> None:
    assert len(list(bibtex.render_many(all_samples()))) == len(all_samples())


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@settings(max_examples=100, deadline=None)
@given(title=HOSTILE, family=HOSTILE, given_name=HOSTILE)
def test_hostile_text_keeps_one_entry_balanced_braces_and_the_title(title: str, family: str,
                                                                     given_name: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title),),
                              contributors=(Contributor(family=family, given=given_name),))
    for ascii_only in (False, True):
        text = _bib([pub, pub], ascii=ascii_only)
        assert _balanced(text)  # BibTeX counts every brace, escaped or not
        entries = _fields(text)
        assert len(entries) == 2
        if bib.one_line(family):
            assert len(entries[0]["author"]) == 1  # no "and" or "others" split the name
        if not ascii_only:
            expected = re.sub(r"\s+", " ", bib.one_line(title))
            assert re.sub(r"\s+", " ", str(entries[0]["title"])).strip() == expected.strip()


@pytest.mark.parametrize("name", ["bibtex", "ris", "csl-json", "csv"])
def test_text_formats_take_the_registry_arguments(name: str) -> None:
    """The web layer and OAI-PMH call every format alike; one record is a list of one."""
    fmt = get_format(name)
    day = dt.date(2024, 1, 1)
    for pub in all_samples():
        assert fmt.render(pub, today=day) == b"".join(fmt.render_many([pub], today=day))
