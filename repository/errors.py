"""Domain errors raised by services; each web surface turns them into its own kind of answer."""

from __future__ import annotations


class HyllaError(Exception):
    """Base of the errors a service raises on purpose."""


class NotFound(HyllaError):
    pass


class PermissionDenied(HyllaError):
    pass


class Conflict(HyllaError):
    """The record changed since the caller read it (optimistic locking), or a state does not allow the step."""


class Gone(HyllaError):
    """The record was public once and has been withdrawn or deleted: a tombstone answers."""

    def __init__(self, message: str, publication_id: int) -> None:
        super().__init__(message)
        self.publication_id = publication_id


class Invalid(HyllaError):
    """Input failed validation; ``errors`` maps field paths (``contributors[0].orcid``) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
