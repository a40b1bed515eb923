"""Stateless resumption tokens: the list request's arguments and its position, signed with the app's secret.

A token carries everything the next page needs (verb, metadataPrefix, set, from, until, the
(datestamp, id) of the last record sent, the cursor and completeListSize), so any worker can
answer it, after any restart, with nothing stored on the server. An HMAC-SHA256 over the
content, keyed with SECRET_KEY, makes a token whose arguments or position were changed a
badResumptionToken instead of a different harvest. Tokens do not expire (the keyset position
stays meaningful for ever), so no ``expirationDate`` is sent.

Wire form: ``<base64url(JSON)>.<base64url(first 16 bytes of the HMAC)>`` - only URI unreserved
characters, so harvesters that forget to escape it still send it intact.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

from repository.oai.errors import BAD_RESUMPTION_TOKEN, OAIError, oai_error

VERSION = 1
_DOMAIN = b"hylla-oai-pmh-resumption-token\x00"
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class ResumptionState:
    """Where a list request sequence stands; ``after_datestamp`` is the database's own value, as text.

    ``cursor`` counts the records already sent before the next page (the next response's
    ``cursor`` attribute); ``complete_list_size`` is the estimate made on the first page.
    """

    verb: str
    metadata_prefix: str
    set_spec: str | None
    from_text: str | None
    until_text: str | None
    after_datestamp: str
    after_id: int
    cursor: int
    complete_list_size: int


_FIELDS: dict[str, tuple[type, ...]] = {
    "verb": (str,), "metadata_prefix": (str,), "set_spec": (str, type(None)), "from_text": (str, type(None)),
    "until_text": (str, type(None)), "after_datestamp": (str,), "after_id": (int,), "cursor": (int,),
    "complete_list_size": (int,),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _DOMAIN + body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def encode(state: ResumptionState, secret: str) -> str:
    if not secret:
        raise ValueError("resumption tokens need the application's SECRET_KEY")
    payload = {"v": VERSION, **asdict(state)}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_b64(_mac(secret, body))}"


def decode(token: str, secret: str, verb: str) -> ResumptionState:
    """The state inside ``token``, or OAIError(badResumptionToken) if it is malformed, altered or not ``verb``'s."""
    body, dot, mac = token.partition(".")
    if not dot or not body or not mac or not body.isascii() or not mac.isascii():
        raise _bad("it is not a token this repository issued")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        raise _bad("it is not a token this repository issued") from None
    if not hmac.compare_digest(given, _mac(secret, body)):
        raise _bad("its signature does not match: it was altered, or issued by another repository")
    try:
        payload: Any = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        raise _bad("its content cannot be read") from None
    if not isinstance(payload, dict) or payload.pop("v", None) != VERSION or set(payload) != set(_FIELDS):
        raise _bad("it was issued by another version of this repository; start the list request again")
    for name, types in _FIELDS.items():
        value = payload[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise _bad("its content cannot be read")
    state = ResumptionState(**payload)
    if state.verb != verb:
        raise _bad(f"it continues a {state.verb} request, not {verb}")
    return state


def _bad(reason: str) -> OAIError:
    return oai_error(BAD_RESUMPTION_TOKEN, f"The resumptionToken is not valid: {reason}.")
