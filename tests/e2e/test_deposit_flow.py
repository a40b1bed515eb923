"""The whole path in headless Chromium against a real server: deposit, return, resubmit, publish, download.

A submitter deposits a journal article with a PDF, an editor returns it with a comment, the
submitter fixes and resubmits it, the editor publishes it, and an anonymous visitor finds it on
the home page and downloads the PDF with the same SHA-256. CSRF protection is on, as in production.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from repository import create_app, migrate
from repository.models import Institution, OrgUnit, Person
from repository.services import users
from tests.conftest import backends

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PASSWORD = "correct horse battery"
TITLE = "Ålgräsängar i Östersjön under hundra år"

pytestmark = pytest.mark.e2e


def pdf_bytes() -> bytes:
    """A small valid PDF written by hand (no PDF library on the test's side of the comparison)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def server(fresh_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The application on 127.0.0.1 over a fresh, migrated database with an institution and two accounts."""
    migrate.upgrade(fresh_database_url)
    app = create_app({"DATABASE_URL": fresh_database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "e2e-secret", "FILES_ROOT": str(tmp_path / "files"), "REPOSITORY_NAME": "Hylla E2E",
                      "BASE_URL": "http://127.0.0.1:0", "WTF_CSRF_ENABLED": True})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{http.server_port}"
    app.config["BASE_URL"] = base
    with app.app_context():
        from repository.db import session

        uu = Institution(code="uu", name="Uppsala University", domain="uu.se")
        session.add(uu)
        session.flush()
        session.add(OrgUnit(institution_id=uu.id, code="ieg", path="uu:ieg", name="Department of Ecology and Genetics"))
        session.add(Person(family_name="Öberg", given_name="Åsa", orcid="0000-0002-1825-0097", institution_id=uu.id))
        session.commit()
        users.create_user("submitter@example.org", PASSWORD, "submitter", institution_code="uu")
        users.create_user("editor@example.org", PASSWORD, "editor", institution_code="uu")
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        http.shutdown()
        thread.join(timeout=10)
        database_ = app.extensions.get("hylla.db")
        if database_ is not None:
            database_.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    # Fails (never skips) when the browser is missing: .ci/run installs Debian's chromium.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="My publications")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_deposit_review_publish_download(server: str, browser: Browser, tmp_path: Path) -> None:
    base = server
    pdf = pdf_bytes()
    pdf_path = tmp_path / "Ålgräs manuscript.pdf"
    pdf_path.write_bytes(pdf)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)

    # The submitter deposits a journal article with a PDF.
    log_in(page, base, "submitter@example.org")
    page.get_by_role("link", name="My publications").click()
    page.get_by_role("link", name="Deposit a new publication").click()
    page.get_by_label("Type of publication").select_option("art")
    page.get_by_role("textbox", name="Title (required)").fill(TITLE)
    page.get_by_label("Year of publication").fill("2024")
    page.get_by_role("button", name="Create draft and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_label("Journal").fill("Marine Ecology Progress Series")
    page.get_by_label("ISSN", exact=True).fill("0171-8630")
    page.get_by_label("Volume").fill("712")
    page.get_by_label("First page").fill("1")
    page.get_by_label("Last page").fill("18")
    page.get_by_label("Content type").select_option("ref")
    page.get_by_label("Language of the text").select_option("swe")
    page.get_by_label("Abstract", exact=True).fill("Vi följer ålgräsängarnas utbredning sedan 1920-talet.")
    page.get_by_label("Research subjects (SSIF)").fill("10501")
    page.get_by_role("button", name="Save and continue").click()

    expect(page).to_have_url(re.compile(r"/deposit/\d+/contributors$"))
    # Typing is enough: the small script fetches matches (the Search button serves browsers without it).
    page.get_by_label("Name or ORCID").press_sequentially("öberg", delay=50)
    page.get_by_role("button", name="Add Åsa Öberg").click()
    expect(page.locator(".contributors-edit")).to_contain_text("Åsa Öberg")
    page.get_by_label("Family name").fill("Smith")
    page.get_by_label("Given name").fill("John")
    page.get_by_label("Affiliation", exact=True).fill("University of Oxford")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".contributors-edit")).to_contain_text("John Smith")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/deposit/\d+/files$"))
    page.get_by_label("File (required)").set_input_files(str(pdf_path))
    page.get_by_label("Version").select_option("accepted")
    page.get_by_role("button", name="Upload and continue").click()
    expect(page).to_have_url(re.compile(r"/deposit/\d+/licence$"))
    page.get_by_label("CC BY 4.0: reuse with attribution").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/deposit/\d+/confirm$"))
    expect(page.locator("dl.details")).to_contain_text("Ålgräs manuscript.pdf")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("table.listing")).to_contain_text("Submitted for review")
    log_out(page)

    # The editor returns it with a comment.
    log_in(page, base, "editor@example.org")
    page.get_by_role("link", name="Review").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=re.compile("SwePub preflight"))).to_be_visible()
    page.get_by_label("What should the submitter change?").fill("Lägg till häftets nummer (issue), tack.")
    page.get_by_role("button", name="Return to submitter").click()
    expect(page.get_by_role("status")).to_contain_text("Returned to the submitter")
    log_out(page)

    # The submitter fixes it and submits it again.
    log_in(page, base, "submitter@example.org")
    page.get_by_role("link", name="My publications").click()
    expect(page.locator("table.listing")).to_contain_text("Returned to you")
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator(".returned")).to_contain_text("Lägg till häftets nummer (issue), tack.")
    page.get_by_label("Issue").fill("4")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.get_by_role("link", name="5. Check and submit").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("table.listing")).to_contain_text("Submitted for review")
    log_out(page)

    # The editor publishes it.
    log_in(page, base, "editor@example.org")
    page.get_by_role("link", name="Review").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator(".history")).to_contain_text("Submitted again")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published")
    log_out(page)
    context.close()

    # An anonymous visitor finds it on the home page and downloads the PDF.
    visitor = browser.new_context()
    page = visitor.new_page()
    page.goto(f"{base}/")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    link = page.get_by_role("link", name="Ålgräs manuscript.pdf")
    href = link.get_attribute("href")
    assert href is not None
    response = visitor.request.get(href)
    assert response.status == 200 and response.headers["content-type"].startswith("application/pdf")
    assert hashlib.sha256(response.body()).hexdigest() == hashlib.sha256(pdf).hexdigest()
    visitor.close()
