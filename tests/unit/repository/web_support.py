"""Helpers for tests of the HTML pages: log in, parse a page, read a form's fields."""

from __future__ import annotations

from flask.testing import FlaskClient
from lxml import html

from tests import factories


def login(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": factories.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def logout(client: FlaskClient) -> None:
    client.post("/logout")


def parse(response) -> html.HtmlElement:  # type: ignore[no-untyped-def]
    return html.fromstring(response.get_data(as_text=True))


def text_of(doc: html.HtmlElement) -> str:
    return " ".join(doc.text_content().split())


def field_error(doc: html.HtmlElement, name: str, element_id: str | None = None) -> str:
    """The error shown next to the input ``name`` (or the one with ``element_id``), tied to it for screen readers."""
    if element_id:
        [element] = doc.xpath(f"//*[@id='{element_id}']")
    else:
        [element] = doc.xpath(f"//*[@name='{name}' and not(@type='hidden')]")
    assert element.get("aria-invalid") == "true", name
    described = element.get("aria-describedby", "").split()
    error_id = next(i for i in described if i.endswith("-error"))
    [error] = doc.xpath(f"//*[@id='{error_id}']")
    label = doc.xpath(f"//label[@for='{element.get('id')}']")
    assert label, f"no label for {name}"
    return " ".join(error.text_content().split())


def version_of(doc: html.HtmlElement) -> str:
    return doc.xpath("//input[@name='version']/@value")[0]
