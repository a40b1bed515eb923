"""Request checking: verbs, allowed, required, exclusive and repeated arguments, and datestamp syntax."""

from __future__ import annotations

import datetime as dt

import pytest

from repository.oai.arguments import DateRange, date_range, parse_request
from repository.oai.errors import OAIError

UTC = dt.timezone.utc


def codes_of(pairs: list[tuple[str, str]]) -> list[str]:
    with pytest.raises(OAIError) as caught:
        parse_request(pairs)
    return [p.code for p in caught.value.problems]


@pytest.mark.parametrize("pairs", [[], [("verb", "Nonsense")], [("verb", "Identify"), ("verb", "Identify")],
                                   [("Verb", "Identify")], [("metadataPrefix", "oai_dc")], [("verb", "")]])
def test_bad_verbs(pairs: list[tuple[str, str]]) -> None:
    assert codes_of(pairs) == ["badVerb"]


@pytest.mark.parametrize("pairs", [
    [("verb", "Identify"), ("set", "x")],
    [("verb", "GetRecord"), ("identifier", "oai:a.b:1")],
    [("verb", "GetRecord"), ("metadataPrefix", "oai_dc")],
    [("verb", "ListRecords")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("resumptionToken", "t")],
    [("verb", "ListIdentifiers"), ("resumptionToken", "t"), ("from", "2020-01-01")],
    [("verb", "ListSets"), ("resumptionToken", "t"), ("set", "a")],
    [("verb", "ListMetadataFormats"), ("metadataPrefix", "oai_dc")],
    [("verb", "ListRecords"), ("metadataPrefix", "")],
    [("verb", "ListRecords"), ("resumptionToken", "")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2020-01-01"), ("until", "2020-01-02T00:00:00Z")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", ":type")],
    [("verb", "ListRecords"), ("metadataPrefix", "mods<>")],
])
def test_bad_arguments(pairs: list[tuple[str, str]]) -> None:
    assert codes_of(pairs) == ["badArgument"]


def test_legal_requests_keep_their_arguments() -> None:
    request = parse_request([("verb", "ListRecords"), ("metadataPrefix", "swepub_mods"), ("set", "org:uu:teknat"),
                             ("from", "2020-01-01"), ("until", "2020-12-31")])
    assert request.verb == "ListRecords"
    assert request.arguments == {"metadataPrefix": "swepub_mods", "set": "org:uu:teknat", "from": "2020-01-01",
                                 "until": "2020-12-31"}
    resumed = parse_request([("verb", "ListIdentifiers"), ("resumptionToken", "abc.def")])
    assert resumed.arguments == {"resumptionToken": "abc.def"}
    assert parse_request([("verb", "ListSets")]).arguments == {}


def test_date_ranges_are_half_open_at_their_granularity() -> None:
    assert date_range("2020-01-01", "2020-01-31") == DateRange(dt.datetime(2020, 1, 1, tzinfo=UTC),
                                                               dt.datetime(2020, 2, 1, tzinfo=UTC))
    assert date_range("2020-01-01T10:00:00Z", "2020-01-01T10:00:00Z") == DateRange(
        dt.datetime(2020, 1, 1, 10, tzinfo=UTC), dt.datetime(2020, 1, 1, 10, 0, 1, tzinfo=UTC))
    assert date_range(None, None) == DateRange(None, None)
    assert date_range(None, "1999-12-31").end == dt.datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end"), [("2020-13-01", None), (None, "2020-02-30"), ("2020-1-1", None),
                                            ("2020-01-01T24:00:00Z", None), ("2020-01-02", "2020-01-01"),
                                            ("2020-01-01T10:00:01Z", "2020-01-01T10:00:00Z")])
def test_bad_date_ranges(start: str | None, end: str | None) -> None:
    with pytest.raises(OAIError) as caught:
        date_range(start, end)
    assert caught.value.problems[0].code == "badArgument"
    assert not caught.value.echoes_arguments
