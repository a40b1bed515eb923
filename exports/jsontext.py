"""JSON as Hylla's JSON columns store it, for every process that encodes documents for them.

The database engine (``repository.db``), the harvest look-ahead that encodes judged records in
another process and the dedup builder that encodes merged works all write the same text: orjson,
non-string keys written as strings (as the standard library does). Here, in a module without
Flask, because the harvester's core imports nothing from ``repository``.
"""

from __future__ import annotations

from typing import Any

import orjson


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON; an ``orjson.Fragment`` (JSON encoded elsewhere) is written as it is."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def json_text(value: Any) -> str:
    return json_bytes(value).decode()
