"""People as authority records: one person, many name forms, ORCID and the institution's local id."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.models.base import Base


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("institution_id", "local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"), index=True)
    family_name: Mapped[str] = mapped_column(String(255), index=True)
    given_name: Mapped[str | None] = mapped_column(String(255))
    orcid: Mapped[str | None] = mapped_column(String(19), unique=True)
    local_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))

    name_forms: Mapped[list[PersonNameForm]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin", order_by="PersonNameForm.id")

    def display_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class PersonNameForm(Base):
    """Another form of a person's name (maiden name, transliteration) that should find the same person."""

    __tablename__ = "person_name_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    family_name: Mapped[str] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))

    person: Mapped[Person] = relationship(back_populates="name_forms")
