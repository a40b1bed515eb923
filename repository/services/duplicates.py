"""Possible duplicates of a record being deposited: the same DOI, PMID or ISI id, or a very similar title and year.

Found before a second copy is created (deposit, import) and shown to the editor on review.
Only records the actor may read are named, so the warning never reveals someone else's draft.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_

from repository.db import session
from repository.errors import Conflict
from repository.models import Publication, PublicationIdentifier, PublicationTitle, User
from repository.permissions import visible_filter

MATCHED_SCHEMES = ("doi", "pmid", "isi")
TITLE_SIMILARITY = 0.9  # difflib ratio of normalised titles; 0.9 lets a changed word or a typo through
_NOT_COUNTED = ("deleted", "withdrawn")
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Candidate:
    publication_id: int
    title: str
    year: int | None
    state: str
    reason: str  # "doi 10.1/x", "title 95% similar"


class PossibleDuplicates(Conflict):
    """Raised instead of creating a record that looks like one that exists; the caller may insist."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates
        listed = "; ".join(f"#{c.publication_id} {c.title!r} ({c.reason})" for c in candidates)
        super().__init__(f"this publication may already be in the repository: {listed}")


def normalise_title(title: str) -> str:
    """Case, accents kept apart from letters, punctuation and spacing do not make titles different."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_PUNCT.sub(" ", folded).split())


def similarity(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, normalise_title(a), normalise_title(b), autojunk=False)
    if matcher.real_quick_ratio() < TITLE_SIMILARITY or matcher.quick_ratio() < TITLE_SIMILARITY:
        return 0.0
    return matcher.ratio()


def find(actor: User | None, *, identifiers: Iterable[tuple[str, str]], title: str | None, year: int | None,
         exclude_id: int | None = None) -> list[Candidate]:
    """Records the actor may read that share an identifier with, or nearly the title and year of, the input."""
    pairs = [(scheme, value) for scheme, value in identifiers if scheme in MATCHED_SCHEMES]
    found: dict[int, Candidate] = {}
    base = [visible_filter(actor), Publication.state.not_in(_NOT_COUNTED)]
    if exclude_id is not None:
        base.append(Publication.id != exclude_id)
    if pairs:
        rows = session.execute(
            select(Publication, PublicationIdentifier.scheme, PublicationIdentifier.value)
            .join(PublicationIdentifier, PublicationIdentifier.publication_id == Publication.id)
            .where(tuple_(PublicationIdentifier.scheme, PublicationIdentifier.value).in_(pairs), *base)
            .order_by(Publication.id))
        for pub, scheme, value in rows:
            found.setdefault(pub.id, Candidate(pub.id, pub.main_title, pub.issued_year, pub.state,
                                               f"same {scheme.upper()} {value}"))
    if title and year is not None:
        rows = session.execute(
            select(Publication.id, Publication.state, PublicationTitle.title)
            .join(PublicationTitle, PublicationTitle.publication_id == Publication.id)
            .where(Publication.issued_year == year, PublicationTitle.kind == "main", *base)
            .order_by(Publication.id))
        for pub_id, state, other in rows:
            score = similarity(title, other)
            if score >= TITLE_SIMILARITY and pub_id not in found:
                found[pub_id] = Candidate(pub_id, other, year, state,
                                          f"title {round(score * 100)}% similar, same year {year}")
    return list(found.values())


def find_for_input(actor: User | None, loaded: dict[str, Any], exclude_id: int | None = None) -> list[Candidate]:
    """Candidates for validated publication input (the output of ``load_publication``)."""
    titles = loaded.get("titles") or []
    main = next((t for t in titles if t.get("kind", "main") == "main"), titles[0] if titles else None)
    issued = loaded.get("issued")
    return find(actor, identifiers=[(i["scheme"], i["value"]) for i in loaded.get("identifiers", [])],
                title=main["title"] if main else None, year=issued.year if issued else None, exclude_id=exclude_id)


def find_for_record(actor: User | None, pub: Publication) -> list[Candidate]:
    """Candidates for a stored record (the editor's review page)."""
    return find(actor, identifiers=[(i.scheme, i.value) for i in pub.identifiers], title=pub.main_title,
                year=pub.issued_year, exclude_id=pub.id)


