"""The OAI-PMH endpoint ``/oai``: GET and POST, the provider's streamed response, gzip or deflate on request.

Parse the request, call the provider, stream what it returns. Harvesters POST without CSRF
tokens (the blueprint is exempt) and every protocol error is an OAI-PMH ``<error>`` with HTTP 200.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request, url_for

from repository.db import session
from repository.oai import verbs
from repository.oai.settings import ProviderSettings

bp = Blueprint("oai", __name__)

# zlib's wbits: 16 + 15 writes a gzip member, 15 a zlib stream (HTTP's "deflate", RFC 9110 8.4.1.2).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    pairs = list((request.values if request.method == "POST" else request.args).items(multi=True))
    settings = ProviderSettings.from_config(current_app.config,
                                            stylesheet=url_for("static", filename="oai2.xsl"))
    chunks = verbs.respond(session, settings, pairs)
    encoding = _encoding()
    response = Response(_compressed(chunks, encoding) if encoding else chunks,
                        content_type="text/xml; charset=utf-8")
    response.vary.add("Accept-Encoding")
    if encoding:
        response.content_encoding = encoding
    return response


def _encoding() -> str | None:
    """gzip or deflate when the client prefers one to identity; no Accept-Encoding header means identity."""
    if "Accept-Encoding" not in request.headers:
        return None
    accepted = request.accept_encodings
    identity = accepted.quality("identity") if "identity" in accepted.values() else 1
    best = max(_WBITS, key=lambda name: accepted.quality(name))
    quality = accepted.quality(best)
    return best if quality > 0 and quality >= identity else None


def _compressed(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, _WBITS[encoding])
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
