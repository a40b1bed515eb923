"""The Cite pages: a style picker that works without JavaScript, references in HTML or text, errors that list the choices."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from lxml import html

from exports import citations
from exports.registry import FORMATS
from tests.unit.web_exports.conftest import HOSTILE_TITLE, World


def page(client: FlaskClient, url: str, status: int = 200) -> html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return html.fromstring(response.get_data(as_text=True))


def entries(doc: html.HtmlElement) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.cssselect(".csl-bib-body .csl-entry")]


def test_cite_page_defaults_to_apa_with_a_get_form_to_choose_again(client: FlaskClient, world: World) -> None:
    doc = page(client, f"/publications/{world.article.id}/cite")
    assert entries(doc) == ["Öberg, Å., & Smith, J. (2021). Ålgräsängar i Östersjön: en översikt. "
                            "Marine Ecology Progress Series, 12(3), 101–118. https://doi.org/10.3354/meps12345"]
    form = doc.cssselect("form.cite-picker")[0]
    assert form.get("method") == "get" and form.get("action") == f"/publications/{world.article.id}/cite"
    assert [o.get("value") for o in form.cssselect("select[name=style] option")] == list(citations.STYLES)
    assert form.cssselect("select[name=style] option[selected]")[0].get("value") == "apa"
    assert [o.get("value") for o in form.cssselect("select[name=locale] option")] == list(citations.LOCALES)
    for field in form.cssselect("select"):
        assert doc.cssselect(f"label[for={field.get('id')}]")
    assert doc.cssselect("a[download]")[0].get("href") == f"/publications/{world.article.id}/export/bibtex"


def test_the_form_submitted_as_a_browser_would_gives_the_chosen_style(client: FlaskClient, world: World) -> None:
    doc = page(client, f"/publications/{world.article.id}/cite")
    form = doc.cssselect("form.cite-picker")[0]
    fields = dict(form.form_values())
    fields.update(style="ieee", locale="sv-SE")
    response = client.get(form.get("action"), query_string=fields)
    chosen = html.fromstring(response.get_data(as_text=True))
    assert entries(chosen)[0].startswith("[1] Å. Öberg och J. Smith, ”Ålgräsängar i Östersjön: en översikt”")
    assert chosen.cssselect("select[name=locale] option[selected]")[0].get("value") == "sv-SE"


def test_text_output_is_plain_text(client: FlaskClient, world: World) -> None:
    response = client.get(f"/publications/{world.article.id}/cite?style=apa&locale=en-US&format=text")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.mimetype_params == {"charset": "utf-8"}
    assert response.get_data(as_text=True) == (
        "Öberg, Å., & Smith, J. (2021). Ålgräsängar i Östersjön: en översikt. Marine Ecology Progress Series, "
        "12(3), 101–118. https://doi.org/10.3354/meps12345\n")


def test_a_style_alias_selects_its_style_in_the_picker(client: FlaskClient, world: World) -> None:
    doc = page(client, f"/publications/{world.article.id}/cite?style=mla")
    assert doc.cssselect("select[name=style] option[selected]")[0].get("value") == "modern-language-association"
    assert entries(doc)[0].startswith("Öberg, Åsa, and John Smith.")


def test_plain_text_link_keeps_the_choice(client: FlaskClient, world: World) -> None:
    doc = page(client, f"/publications/{world.article.id}/cite?style=vancouver&locale=en-GB")
    link = [a for a in doc.cssselect("a") if a.text_content() == "As plain text"][0].get("href")
    assert parse_qs(urlsplit(link).query) == {"style": ["vancouver"], "locale": ["en-GB"], "format": ["text"]}
    assert client.get(link).get_data(as_text=True).startswith("1. Öberg Å, Smith J.")


@pytest.mark.parametrize("query, listed", [
    ("style=harvard1", list(citations.STYLES)),
    ("locale=fr-FR", list(citations.LOCALES)),
    ("format=pdf", ["html", "text"]),
])
def test_unknown_choices_are_400_listing_the_known_ones(client: FlaskClient, world: World, query: str,
                                                         listed: list[str]) -> None:
    doc = page(client, f"/publications/{world.article.id}/cite?{query}", 400)
    message = doc.cssselect("[role=alert]")[0].text_content()
    assert query.split("=")[1] in message and all(name in message for name in listed), message
    assert doc.cssselect("form.cite-picker") and not entries(doc)
    if not query.startswith("format"):
        text = client.get(f"/publications/{world.article.id}/cite?{query}&format=text")
        assert text.status_code == 400 and text.mimetype == "text/plain"
        assert all(name in text.get_data(as_text=True) for name in listed)


def test_a_script_in_a_title_is_shown_never_run(client: FlaskClient, world: World) -> None:
    for style in citations.STYLES:
        doc = page(client, f"/publications/{world.hostile.id}/cite?style={style}")
        assert not doc.cssselect("script") and not doc.cssselect(".csl-entry b"), style
        assert HOSTILE_TITLE in entries(doc)[0], (style, entries(doc))
        assert HOSTILE_TITLE in doc.cssselect("h1")[0].text_content()


def test_person_bibliography_is_one_numbered_list(client: FlaskClient, world: World) -> None:
    doc = page(client, f"/persons/{world.author.id}/cite?style=ieee")
    found = entries(doc)
    assert [e[:4] for e in found] == ["[1] ", "[2] "]
    assert "Proteinveckning" in found[0] and "Ålgräsängar" in found[1] and "Secret draft" not in doc.text_content()
    links = [a.get("href") for a in doc.cssselect("a[download]")]
    assert links == [f"/persons/{world.author.id}/export/{name}" for name in FORMATS]
    text = client.get(f"/persons/{world.author.id}/cite?style=ieee&format=text").get_data(as_text=True)
    assert text.splitlines() == found


def test_unit_institution_and_selection_bibliographies(client: FlaskClient, world: World) -> None:
    assert len(entries(page(client, f"/units/{world.fac.id}/cite?style=chicago-author-date"))) == 1
    assert len(entries(page(client, "/institutions/uu/cite?style=modern-language-association"))) == 4
    doc = page(client, f"/cite?ids={world.minimal.id},{world.article.id}&style=vancouver")
    found = entries(doc)
    assert found[0].startswith("1. Minimal") and found[1].startswith("2. Öberg Å, Smith J.")
    assert doc.cssselect("form.cite-picker input[type=hidden][name=ids]")[0].get("value") == (
        f"{world.minimal.id},{world.article.id}")
    assert doc.cssselect("a[download]")[0].get("href") == (
        f"/export/bibtex?ids={world.minimal.id},{world.article.id}")
    page(client, f"/cite?ids={world.draft.id}", 404)


def test_a_list_too_long_to_format_is_refused_with_the_way_out(
        client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("repository.web.exports.CITE_LIST_LIMIT", 3)
    body = page(client, "/institutions/uu/cite", 400).text_content()
    assert "4 records are more than the 3" in body and "BibTeX, RIS or CSL-JSON" in body


def test_drafts_and_withdrawn_records_have_no_cite_page(client: FlaskClient, world: World) -> None:
    from repository.services import records

    page(client, f"/publications/{world.draft.id}/cite", 404)
    records.withdraw(world.editor, world.minimal.id, "Duplicate")
    assert client.get(f"/publications/{world.minimal.id}/cite").status_code == 410
