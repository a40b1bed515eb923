"""The OAI-PMH error conditions as one exception type, raised anywhere in the provider and written as ``<error>``.

The protocol sends errors with HTTP 200 and a machine-readable ``code`` (section 3.6 of the
specification); a response may carry several, so one exception holds a list of them.
"""

from __future__ import annotations

from dataclasses import dataclass

BAD_ARGUMENT = "badArgument"
BAD_RESUMPTION_TOKEN = "badResumptionToken"
BAD_VERB = "badVerb"
CANNOT_DISSEMINATE_FORMAT = "cannotDisseminateFormat"
ID_DOES_NOT_EXIST = "idDoesNotExist"
NO_RECORDS_MATCH = "noRecordsMatch"
NO_METADATA_FORMATS = "noMetadataFormats"
NO_SET_HIERARCHY = "noSetHierarchy"  # never raised: this repository has sets

CODES: tuple[str, ...] = (BAD_ARGUMENT, BAD_RESUMPTION_TOKEN, BAD_VERB, CANNOT_DISSEMINATE_FORMAT,
                          ID_DOES_NOT_EXIST, NO_RECORDS_MATCH, NO_METADATA_FORMATS, NO_SET_HIERARCHY)
# After these the request element must be the bare base URL (specification section 3.2).
_NO_ECHO = frozenset({BAD_VERB, BAD_ARGUMENT})


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"{self.code!r} is not an OAI-PMH error code; known: {', '.join(CODES)}")


class OAIError(Exception):
    """One or more protocol errors; the response lists each as ``<error code=...>message</error>``."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("an OAIError needs at least one problem")
        super().__init__("; ".join(f"{p.code}: {p.message}" for p in problems))
        self.problems = problems

    @property
    def echoes_arguments(self) -> bool:
        """Whether the ``request`` element may carry the request's arguments as attributes."""
        return not any(p.code in _NO_ECHO for p in self.problems)


def oai_error(code: str, message: str) -> OAIError:
    return OAIError(Problem(code, message))
