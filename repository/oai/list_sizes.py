"""completeListSize for a list's first page: counted exactly, and remembered while no record can have changed.

Counting is the one part of a first page whose cost grows with the repository: the whole list
is a count of every row (``queries.count``), some 20 to 70 ms at 1,000,000 records, and an
organisation's set more. Most harvests count a list of a repository that has not changed since
the previous harvest of it. So each process remembers its counts, by database, list and day,
with a mark of the records as they were counted: the newest datestamp up to that moment and the
highest record id, both one index look-up. Every public change sets the record's datestamp to
its moment (OAI-PMH incremental harvesting relies on the same rule), a record scheduled for later
has the moment it becomes public as its datestamp, and a new record, a draft too, has a higher
id: whatever changes a list's size moves the mark. The day is in the key because embargoes lift
by the day, which moves the ``openaccess`` set with no datestamp moving.

What the mark cannot see: two changes committed in the opposite order of their moments while a
count runs, or rows changed behind the services' back (SQL that moves no datestamp, which would
also hide the change from every harvester). The size is an estimate in the protocol's own terms
(specification 3.5), and the last page of a list gives the number really sent.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from repository.oai import queries
from repository.oai.queries import ListFilter

REMEMBERED = 256  # lists per process; the least recently used is forgotten first


@dataclass(frozen=True, slots=True)
class _Counted:
    size: int
    mark: Hashable


_counted: OrderedDict[Hashable, _Counted] = OrderedDict()
_lock = threading.Lock()


def complete_list_size(session: Session, now: dt.datetime, flt: ListFilter) -> int:
    """The number of records ``flt`` selects now: remembered while the records' mark stands still."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), flt,
           now.astimezone(dt.timezone.utc).date())
    mark = queries.change_mark(session, now)
    with _lock:
        known = _counted.get(key)
        if known is not None and known.mark == mark:
            _counted.move_to_end(key)
            return known.size
    size = queries.count(session, now, flt)
    with _lock:
        _counted[key] = _Counted(size, mark)
        _counted.move_to_end(key)
        while len(_counted) > REMEMBERED:
            _counted.popitem(last=False)
    return size


def forget() -> None:
    """Forget every remembered count (tests that change records behind the services' back)."""
    with _lock:
        _counted.clear()
