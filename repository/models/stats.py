"""Usage statistics: one row per counted download of a stored file."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import Base, UTCDateTime, utcnow


class DownloadEvent(Base):
    """A counted download; double clicks and robots never get a row.

    ``client_key`` is a keyed hash of the client's address and user agent: enough to recognise
    the same client within the double-click window, not enough to tell who it was.
    """

    __tablename__ = "download_events"
    __table_args__ = (Index("ix_download_events_file_client_at", "file_id", "client_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    client_key: Mapped[str] = mapped_column(String(32))
