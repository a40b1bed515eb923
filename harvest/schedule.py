"""A source's harvest schedule: a five-field cron expression (or @hourly, @daily, @weekly, @monthly), checked.

The schedule is stored with the source and read twice: by people writing a crontab line, and by
Celery beat (``harvest.tasks``), which turns it into a ``crontab``. Checking it here, when the
source is added, means a typo is refused with its reason instead of silently never running.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ALIASES = {"@hourly": "0 * * * *", "@daily": "0 3 * * *", "@weekly": "0 3 * * 1", "@monthly": "0 3 1 * *"}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_ITEM = re.compile(r"^(?:\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


@dataclass(frozen=True, slots=True)
class Cron:
    """The five fields, each as written (Celery's ``crontab`` takes them as they are)."""

    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    def __str__(self) -> str:
        return " ".join((self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week))

    def matches(self, moment: dt.datetime) -> bool:
        """Whether the schedule fires in ``moment``'s minute (UTC), with cron's rule that a restricted
        day of month and a restricted day of week are alternatives, not both required."""
        utc = moment.astimezone(dt.UTC)
        minute, hour, mday, month, wday = (_expand(value, low, high) for value, (_, low, high)
                                           in zip(str(self).split(), _FIELDS, strict=True))
        if utc.minute not in minute or utc.hour not in hour or utc.month not in month:
            return False
        weekday = (utc.weekday() + 1) % 7  # cron counts from Sunday = 0 (and 7)
        day_ok, week_ok = utc.day in mday, weekday in wday or (weekday == 0 and 7 in wday)
        if self.day_of_month != "*" and self.day_of_week != "*":
            return day_ok or week_ok
        return day_ok and week_ok


def _check_field(text: str, name: str, low: int, high: int) -> None:
    for item in text.split(","):
        found = _ITEM.match(item)
        if found is None:
            raise ValueError(f"the {name} field {text!r} is not a cron field (numbers, ranges a-b, lists a,b, "
                             "* and steps /n)")
        start, end, step = found.groups()
        for value in (start, end):
            if value is not None and not low <= int(value) <= high:
                raise ValueError(f"the {name} field {text!r} has {value}, outside {low}-{high}")
        if start is not None and end is not None and int(start) > int(end):
            raise ValueError(f"the {name} field {text!r} has the range {start}-{end}, which runs backwards")
        if step is not None and int(step) == 0:
            raise ValueError(f"the {name} field {text!r} has a step of 0")


def _expand(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        found = _ITEM.match(item)
        assert found is not None, "checked by parse_cron"
        start, end, step = found.groups()
        first = int(start) if start is not None else low
        last = int(end) if end is not None else (high if start is None or step is not None else first)
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def parse_cron(text: str) -> Cron:
    """The schedule ``text`` as five checked fields; ValueError says which field is wrong and why."""
    expression = ALIASES.get(text.strip().lower(), text.strip())
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{text!r} is not a schedule: write five cron fields (minute hour day-of-month month "
                         "day-of-week, e.g. '30 2 * * *') or @hourly, @daily, @weekly, @monthly")
    for value, (name, low, high) in zip(fields, _FIELDS, strict=True):
        _check_field(value, name, low, high)
    return Cron(*fields)
