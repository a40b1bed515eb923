"""Read-model records survive the trip to a JSON dict and back, and bad dicts are refused by path."""

from __future__ import annotations

import json

import pytest

from harvest.records import RecordDecodeError, publication_from_dict, publication_to_dict
from tests.samples import all_samples, journal_article


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_round_trip_through_json(pub) -> None:  # type: ignore[no-untyped-def]
    stored = json.loads(json.dumps(publication_to_dict(pub), ensure_ascii=False))
    assert publication_from_dict(stored) == pub


def test_defaults_are_left_out() -> None:
    data = publication_to_dict(journal_article())
    assert "state" not in data and "thesis" not in data
    assert data["issued"] == "2021-05-17" and data["titles"][0]["title"] == "Ålgräsängar i Östersjön"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(issued="17 May 2021"), r"record\.issued: not a date"),
    (lambda d: d["contributors"][0].update(shoe_size=42), r"record\.contributors\[0\]: Contributor has no field shoe_size"),
    (lambda d: d.update(creator_count=True), r"record\.creator_count: expected int"),
    (lambda d: d.pop("titles"), r"record: Publication needs titles"),
    (lambda d: d.update(host="Nature"), r"record\.host: expected an object for HostItem"),
])
def test_bad_dicts_name_the_field(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(publication_to_dict(journal_article())))
    mutate(data)
    with pytest.raises(RecordDecodeError, match=message):
        publication_from_dict(data)
