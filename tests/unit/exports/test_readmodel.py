"""The read model's own helpers: names, titles, partial dates, open access."""

from __future__ import annotations

import datetime as dt

import pytest

from exports.readmodel import Contributor, FileInfo, PartialDate, Publication, Title


def test_names_of_people_with_one_name_part() -> None:
    assert Contributor(family="Öberg", given="Åsa").inverted_name() == "Öberg, Åsa"
    assert Contributor(given="Madonna").inverted_name() == "Madonna"
    assert Contributor(family="Plato").display_name() == "Plato"
    assert Contributor(corporate_name="Naturvårdsverket").inverted_name() == "Naturvårdsverket"


def test_partial_dates() -> None:
    assert PartialDate.parse("2021").iso() == "2021"
    assert PartialDate.parse("2021-05").as_date() == dt.date(2021, 5, 1)
    assert PartialDate.parse("2021-05-17").iso() == "2021-05-17"
    for bad in ("21", "2021-13", "2021-02-30", "2021/05/17", "year"):
        with pytest.raises(ValueError):
            PartialDate.parse(bad)


def test_title_with_subtitle() -> None:
    assert Title("Ålgräs", "en översikt").full() == "Ålgräs: en översikt"
    assert Title("Why eelgrass?", "A review").full() == "Why eelgrass? A review"


def test_embargo_lifts_by_itself() -> None:
    f = FileInfo(1, "a.pdf", "application/pdf", 1, "0" * 64, "0" * 32, access="embargoed", embargo_until=dt.date(2030, 1, 1))
    assert not f.is_open_on(dt.date(2029, 12, 31)) and f.is_open_on(dt.date(2030, 1, 1))
    restricted = FileInfo(2, "b.pdf", "application/pdf", 1, "0" * 64, "0" * 32, access="restricted")
    assert not restricted.is_open_on(dt.date(2100, 1, 1))


def test_the_embargo_window_is_bounded_by_the_lifts_around_the_day() -> None:
    def embargoed(i: int, until: dt.date | None, access: str = "embargoed") -> FileInfo:
        return FileInfo(i, f"{i}.pdf", "application/pdf", 1, "0" * 64, "0" * 32, access=access, embargo_until=until)

    pub = Publication("1", "art", (Title("Ålgräs"),), files=(
        embargoed(1, dt.date(2030, 1, 1)), embargoed(2, dt.date(2028, 6, 1)), embargoed(3, dt.date(2035, 1, 1)),
        embargoed(4, None), embargoed(5, dt.date(2029, 1, 1), access="restricted")))
    assert pub.embargo_window(dt.date(2027, 1, 1)) == (None, dt.date(2028, 6, 1))
    assert pub.embargo_window(dt.date(2028, 6, 1)) == (dt.date(2028, 6, 1), dt.date(2030, 1, 1))
    assert pub.embargo_window(dt.date(2031, 1, 1)) == (dt.date(2030, 1, 1), dt.date(2035, 1, 1))
    assert pub.embargo_window(dt.date(2040, 1, 1)) == (dt.date(2035, 1, 1), None)
    assert Publication("2", "art", (Title("Öppen"),)).embargo_window(dt.date(2027, 1, 1)) == (None, None)
