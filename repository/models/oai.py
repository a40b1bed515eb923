"""Records as written for OAI-PMH, kept between harvests.

A harvest reads every record of a repository in every format it wants, again and again, and
building a record (its read model, then its crosswalk) is nearly all of a list page's time. So
the provider keeps what it wrote (``repository.oai.payloads``), as DSpace's XOAI keeps compiled
records, and a copy is used only while it is still exactly what the record would give now:
same datestamp, same crosswalk code and site settings (``generation``), and a day within the
window in which no embargo lifts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import Base, UTCDateTime


class OaiPayload(Base):
    """One record's ``<metadata>`` content in one format, and what its header needs besides its row."""

    __tablename__ = "oai_payloads"
    # What a header needs, readable without the payloads (ListIdentifiers reads only this).
    __table_args__ = (Index("ix_oai_payloads_facts", "publication_id", "metadata_prefix", "generation", "datestamp",
                            "valid_from", "valid_until", "available", "swepub", "open_access", "unit_ids"),)

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    metadata_prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[str] = mapped_column(String(32))  # the crosswalk code and site it was written with
    datestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the record's, when it was written
    valid_from: Mapped[dt.date | None] = mapped_column(Date)  # the embargo window it holds in
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    available: Mapped[bool] = mapped_column(Boolean)  # whether the record can be written in this format at all
    swepub: Mapped[bool] = mapped_column(Boolean)  # passes SwePub's minimum level
    open_access: Mapped[bool] = mapped_column(Boolean)
    unit_ids: Mapped[str] = mapped_column(Text, default="")  # its work contributors' units, space-separated
    xml: Mapped[bytes] = mapped_column(LargeBinary)  # UTF-8, no XML declaration; empty when not available
