"""Resumption tokens: stateless round trips, and every kind of tampering refused as badResumptionToken."""

from __future__ import annotations

import base64
import json

import pytest

from repository.oai import tokens
from repository.oai.errors import OAIError
from repository.oai.tokens import ResumptionState

STATE = ResumptionState("ListRecords", "oai_dc", "org:uu:teknat", "2020-01-01", None, "2021-03-04 05:06:07.123456",
                        4711, 100, 2500)
SECRET = "a secret key"


def refused(token: str, secret: str = SECRET, verb: str = "ListRecords") -> str:
    with pytest.raises(OAIError) as caught:
        tokens.decode(token, secret, verb)
    assert [p.code for p in caught.value.problems] == ["badResumptionToken"]
    return caught.value.problems[0].message


def test_round_trip_needs_nothing_but_the_secret() -> None:
    token = tokens.encode(STATE, SECRET)
    assert tokens.decode(token, SECRET, "ListRecords") == STATE  # another worker, after a restart: same answer
    assert tokens.encode(STATE, SECRET) == token  # deterministic
    assert all(c.isalnum() or c in "-_." for c in token)  # URI unreserved: safe unescaped in a URL


def test_changed_arguments_are_refused() -> None:
    body, _, mac = tokens.encode(STATE, SECRET).partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for field, value in (("set_spec", "org:kth"), ("after_id", 1), ("metadata_prefix", "mods"), ("until_text", "2030-01-01"),
                         ("cursor", 0)):
        forged = dict(payload, **{field: value})
        forged_body = base64.urlsafe_b64encode(json.dumps(forged, separators=(",", ":")).encode()).rstrip(b"=").decode()
        assert "signature" in refused(f"{forged_body}.{mac}")


def test_other_secrets_verbs_and_garbage_are_refused() -> None:
    token = tokens.encode(STATE, SECRET)
    assert "signature" in refused(token, secret="another key")
    assert "ListRecords" in refused(token, verb="ListIdentifiers")
    for garbage in ("", ".", "abc", "abc.", ".abc", "é.é", "a.b.c", token[:-2], token + "A", token.replace(".", "")):
        refused(garbage)


def test_a_token_from_another_version_is_refused() -> None:
    body = base64.urlsafe_b64encode(b'{"v":0}').rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(tokens._mac(SECRET, body)).rstrip(b"=").decode()
    assert "version" in refused(f"{body}.{mac}")


def test_a_signed_token_with_wrong_types_is_refused() -> None:
    payload = {"v": tokens.VERSION, "verb": "ListRecords", "metadata_prefix": "oai_dc", "set_spec": None, "from_text": None,
               "until_text": None, "after_datestamp": "2020-01-01", "after_id": "7", "cursor": 0, "complete_list_size": 1}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(tokens._mac(SECRET, body)).rstrip(b"=").decode()
    assert "cannot be read" in refused(f"{body}.{mac}")


def test_no_secret_no_tokens() -> None:
    with pytest.raises(ValueError):
        tokens.encode(STATE, "")
