"""Institutions (the tops of their organisation trees) and their organisation units."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.models.base import Base


class Institution(Base):
    """A university or agency served by this installation, with its own portal, OAI set and branding."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # KB organisation code, e.g. "uu"
    name: Mapped[str] = mapped_column(String(255))
    name_sv: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255))  # e.g. "uu.se": SwePub's affiliation valueURI
    logo_url: Mapped[str | None] = mapped_column(String(500))
    ror: Mapped[str | None] = mapped_column(String(64))

    units: Mapped[list[OrgUnit]] = relationship(back_populates="institution", lazy="raise_on_sql",
                                                order_by="OrgUnit.path")


class OrgUnit(Base):
    """A faculty, department or group; ``path`` is the chain of codes from the institution down."""

    __tablename__ = "org_units"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500), unique=True)  # "uu:teknat:kemi"
    name: Mapped[str] = mapped_column(String(255))
    name_sv: Mapped[str | None] = mapped_column(String(255))

    institution: Mapped[Institution] = relationship(back_populates="units", lazy="joined")
    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], lazy="raise_on_sql")
