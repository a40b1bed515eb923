"""Stored files of a publication: what the content-addressed store holds and who may download it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from exports.readmodel import FILE_ACCESS, FILE_ROLES
from repository.models.base import Base, UTCDateTime, utcnow


class StoredFile(Base):
    __tablename__ = "files"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    original_filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # also the key in the store
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(Enum(*FILE_ROLES, native_enum=False, length=16, name="file_role"), default="fulltext")
    access: Mapped[str] = mapped_column(Enum(*FILE_ACCESS, native_enum=False, length=16, name="file_access"), default="open")
    embargo_until: Mapped[dt.date | None] = mapped_column(Date)
    licence: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(32))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_open_on(self, day: dt.date) -> bool:
        """Embargoes lift by themselves: no job flips a flag on the day."""
        if self.access == "open":
            return True
        return self.access == "embargoed" and self.embargo_until is not None and day >= self.embargo_until
