"""Security a university system is expected to have: headers, cookies, CSRF, login throttling, password reset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from repository import create_app
from repository.auth import verify_password
from repository.db import session
from repository.models import OutboxMessage
from repository.services import deposit, records
from repository.web import security
from tests import factories
from tests.unit.repository.web_support import parse, text_of


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    return {"submitter": factories.user("submitter", uu, "sub@example.org"),
            "editor": factories.user("editor", uu, "ed@example.org")}


@pytest.fixture
def csrf_on(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_every_page_carries_the_security_headers(client: FlaskClient, people: dict[str, Any]) -> None:
    for url in ("/", "/login", "/no/such/page", "/account/reset"):
        headers = client.get(url).headers
        assert headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY, url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in headers["Permissions-Policy"]
    headers = client.get("/api/openapi.json").headers
    assert headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in headers


def test_session_cookie_is_secure_httponly_and_samesite_on_https(database_url: str, tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "k", "BASE_URL": "https://hylla.example.org"})
    cookie = app.test_client().get("/login").headers["Set-Cookie"]
    assert re.search(r"; Secure", cookie) and re.search(r"; HttpOnly", cookie) and "SameSite=Lax" in cookie


def test_plain_http_development_keeps_the_cookie_usable(client: FlaskClient) -> None:
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_a_forged_csrf_token_is_rejected_and_nothing_changes(app: Flask, client: FlaskClient,
                                                             people: dict[str, Any], csrf_on: None) -> None:
    doc = parse(client.get("/login"))
    token = doc.xpath("//input[@name='csrf_token']/@value")[0]
    response = client.post("/login", data={"email": "sub@example.org", "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    pub = deposit.create_draft(people["submitter"], factories.article())
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for data in ({"csrf_token": forged}, {}):
        response = client.post(f"/deposit/{pub.id}/confirm", data=data)
        assert response.status_code == 400
        assert "CSRF" in text_of(parse(response))
    assert records.get_publication(people["submitter"], pub.id).state == "draft"
    response = client.post("/login", data={"email": "sub@example.org", "password": factories.PASSWORD,
                                           "csrf_token": "not-a-token"})
    assert response.status_code == 400


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 makes each failed attempt take a good fraction of a second: test the rule with small limits."""
    from repository.services import throttle

    monkeypatch.setattr(throttle, "MAX_PER_ACCOUNT", 3)
    monkeypatch.setattr(throttle, "MAX_PER_ADDRESS", 5)


def attempt(client: FlaskClient, email: str, password: str, ip: str = "192.0.2.1") -> Any:
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def test_login_is_throttled_per_account_without_revealing_accounts(client: FlaskClient, people: dict[str, Any],
                                                                  low_limits: None) -> None:
    answers = {}
    for n, email in enumerate(("sub@example.org", "nobody@example.org")):
        for _ in range(3):
            assert attempt(client, email, "wrong password!", ip=f"192.0.2.{n}").status_code == 401
        locked = attempt(client, email, factories.PASSWORD, ip=f"192.0.2.{n}")
        assert locked.status_code == 429
        answers[email] = parse(locked).xpath("//p[@role='alert']")[0].text_content()
    assert answers["sub@example.org"] == answers["nobody@example.org"] == security.LOCKED_MESSAGE
    # Another account from another address is not affected.
    assert attempt(client, "ed@example.org", factories.PASSWORD, ip="192.0.2.99").status_code == 302


def test_login_is_throttled_per_address(client: FlaskClient, people: dict[str, Any], low_limits: None) -> None:
    from repository.services import throttle

    for n in range(throttle.MAX_PER_ADDRESS):
        assert attempt(client, f"guess{n}@example.org", "wrong password!", ip="198.51.100.7").status_code == 401
    assert attempt(client, "ed@example.org", factories.PASSWORD, ip="198.51.100.7").status_code == 429
    assert attempt(client, "ed@example.org", factories.PASSWORD, ip="198.51.100.8").status_code == 302


def test_a_successful_login_clears_the_failures(client: FlaskClient, people: dict[str, Any], low_limits: None) -> None:
    for _ in range(2):
        attempt(client, "sub@example.org", "wrong password!")
    assert attempt(client, "sub@example.org", factories.PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(2):
        assert attempt(client, "sub@example.org", "wrong password!").status_code == 401


def mails() -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "password-reset")))


def test_password_reset_without_account_enumeration(client: FlaskClient, people: dict[str, Any]) -> None:
    known = client.post("/account/reset", data={"email": "sub@example.org"})
    unknown = client.post("/account/reset", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert text_of(parse(known)) == text_of(parse(unknown))
    [mail] = mails()
    assert mail.to_address == "sub@example.org"
    token = re.search(r"/account/reset/(\S+)", mail.body).group(1)

    assert client.get(f"/account/reset/{token}").status_code == 200
    response = client.post(f"/account/reset/{token}", data={"password": "short", "confirmation": "short"})
    assert response.status_code == 400 and "10 characters" in text_of(parse(response))
    response = client.post(f"/account/reset/{token}", data={"password": "a new long password", "confirmation": "another"})
    assert response.status_code == 400
    response = client.post(f"/account/reset/{token}", data={"password": "a new long password",
                                                            "confirmation": "a new long password"})
    assert response.status_code == 302
    assert verify_password(people["submitter"].password_hash, "a new long password")
    assert client.get(f"/account/reset/{token}").status_code == 404  # used once, never again
    assert client.get("/account/reset/made-up-token").status_code == 404
    assert attempt(client, "sub@example.org", "a new long password").status_code == 302


def test_reset_links_are_limited_per_hour(client: FlaskClient, people: dict[str, Any]) -> None:
    for _ in range(5):
        assert client.post("/account/reset", data={"email": "ed@example.org"}).status_code == 200
    assert len(mails()) == 3
