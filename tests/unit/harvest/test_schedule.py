"""Source schedules: cron expressions checked when a source is added, and matched minute by minute for beat."""

from __future__ import annotations

import datetime as dt

import pytest

from harvest.schedule import parse_cron


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(("expression", "fires", "quiet"), [
    ("30 2 * * *", "2024-05-06T02:30", "2024-05-06T02:31"),
    ("*/15 * * * 1-5", "2024-05-06T13:45", "2024-05-05T13:45"),  # Monday yes, Sunday no
    ("5/20 * * * *", "2024-05-06T13:45", "2024-05-06T13:40"),
    ("0 3 1 * 0", "2024-05-05T03:00", "2024-05-02T03:00"),  # the 1st or a Sunday: cron's "either" rule
    ("0 3 1 * 0", "2024-05-01T03:00", "2024-05-01T04:00"),
    ("0 0 * * 7", "2024-05-05T00:00", "2024-05-06T00:00"),  # 7 is Sunday too
    ("0 12 * 6,7 *", "2024-07-01T12:00", "2024-08-01T12:00"),
    ("@daily", "2024-05-06T03:00", "2024-05-06T00:00"),
    ("@hourly", "2024-05-06T17:00", "2024-05-06T17:01"),
])
def test_schedules_fire_in_their_minutes(expression: str, fires: str, quiet: str) -> None:
    cron = parse_cron(expression)
    assert cron.matches(at(fires)) and not cron.matches(at(quiet))


def test_a_schedule_is_read_in_utc() -> None:
    stockholm = dt.timezone(dt.timedelta(hours=2))
    assert parse_cron("30 2 * * *").matches(dt.datetime(2024, 5, 6, 4, 30, tzinfo=stockholm))


@pytest.mark.parametrize(("expression", "message"), [
    ("30 2 * *", "write five cron fields"),
    ("61 * * * *", "the minute field '61' has 61, outside 0-59"),
    ("0 24 * * *", "outside 0-23"),
    ("0 0 0 * *", "the day of month field '0' has 0, outside 1-31"),
    ("0 0 * 13 *", "outside 1-12"),
    ("0 0 * * 8", "outside 0-7"),
    ("0 5-3 * * *", "runs backwards"),
    ("*/0 * * * *", "a step of 0"),
    ("0 9 * * mon", "the day of week field .mon. is not a cron field"),
    ("@yearly", "write five cron fields"),
])
def test_bad_schedules_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(expression)
