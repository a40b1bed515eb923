"""Download counts: which requests count, and how many each file has had.

The rules follow the COUNTER Code of Practice that libraries report usage by: a click counts
once however often it is repeated within 30 seconds by the same client (a double click, a PDF
viewer fetching its first range again), and obvious robots never count. The same client is
recognised by a keyed hash of its address and user agent, so no address is kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import func, select

from repository.db import session
from repository.models import DownloadEvent, StoredFile

DOUBLE_CLICK_WINDOW = dt.timedelta(seconds=30)
ROBOT_LIST = Path(__file__).with_name("robot_agents.json")


@functools.cache
def _robot_pattern() -> re.Pattern[str]:
    patterns = json.loads(ROBOT_LIST.read_text(encoding="utf-8"))["patterns"]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def is_robot(user_agent: str | None) -> bool:
    """Whether a user agent is an obvious robot; a request with none at all is a script."""
    if not user_agent or not user_agent.strip():
        return True
    return _robot_pattern().search(user_agent) is not None


def client_key(secret: str, address: str, user_agent: str) -> str:
    """A stable, non-reversible name for one client (address + user agent) within this installation."""
    mac = hmac.new(secret.encode("utf-8"), f"{address}\n{user_agent}".encode("utf-8", "replace"), hashlib.sha256)
    return mac.hexdigest()[:32]


def record_download(file: StoredFile, *, address: str, user_agent: str | None, now: dt.datetime,
                    secret: str) -> bool:
    """Count a download of ``file`` unless it is a robot's or a repeat within the window; True if counted.

    The window runs from the last counted download of the same client, so a click at 0 s and
    one at 20 s count once, and one at 40 s counts again.
    """
    if is_robot(user_agent):
        return False
    key = client_key(secret, address, user_agent or "")
    repeated = session.scalar(
        select(DownloadEvent.id)
        .where(DownloadEvent.file_id == file.id, DownloadEvent.client_key == key,
               DownloadEvent.at > now - DOUBLE_CLICK_WINDOW)
        .limit(1))
    if repeated is not None:
        return False
    session.add(DownloadEvent(file_id=file.id, publication_id=file.publication_id, at=now, client_key=key))
    session.commit()
    return True


def download_counts(file_ids: Iterable[int]) -> dict[int, int]:
    """Counted downloads per file (files never downloaded are 0), in one query."""
    ids = list(file_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = session.execute(select(DownloadEvent.file_id, func.count())
                               .where(DownloadEvent.file_id.in_(ids)).group_by(DownloadEvent.file_id))
        counts.update({file_id: count for file_id, count in rows})
    return counts
