"""Checking an OAI-PMH request's arguments: which verb, which arguments it allows, and their syntax.

Everything the specification calls badVerb or badArgument is found here, before any query
runs, so the verbs only ever see legal, well-formed arguments (and the ``request`` element
can echo them without breaking the response schema).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from repository.oai.errors import BAD_ARGUMENT, BAD_VERB, oai_error

UTC = dt.timezone.utc
RESUMPTION_TOKEN = "resumptionToken"


@dataclass(frozen=True, slots=True)
class VerbArguments:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    exclusive: str | None = None

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.required + self.optional + ((self.exclusive,) if self.exclusive else ()))


VERBS: dict[str, VerbArguments] = {
    "Identify": VerbArguments(),
    "ListMetadataFormats": VerbArguments(optional=("identifier",)),
    "ListSets": VerbArguments(exclusive=RESUMPTION_TOKEN),
    "GetRecord": VerbArguments(required=("identifier", "metadataPrefix")),
    "ListIdentifiers": VerbArguments(required=("metadataPrefix",), optional=("from", "until", "set"),
                                     exclusive=RESUMPTION_TOKEN),
    "ListRecords": VerbArguments(required=("metadataPrefix",), optional=("from", "until", "set"),
                                 exclusive=RESUMPTION_TOKEN),
}

# The XML schema's patterns for metadataPrefix and setSpec (URI "unreserved" characters).
_UNRESERVED = r"[A-Za-z0-9\-_.!~*'()]"
METADATA_PREFIX = re.compile(f"{_UNRESERVED}+")
SET_SPEC = re.compile(f"{_UNRESERVED}+(?::{_UNRESERVED}+)*")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True, slots=True)
class ProtocolRequest:
    """A request whose verb and arguments are legal; ``arguments`` excludes ``verb``."""

    verb: str
    arguments: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(pairs: Iterable[tuple[str, str]]) -> ProtocolRequest:
    """The request's verb and arguments, or OAIError(badVerb/badArgument) saying what is wrong.

    ``pairs`` are the key=value pairs as sent, repeats included (a repeated argument is an error,
    which a plain dict would hide).
    """
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    verbs = values.pop("verb", [])
    if not verbs:
        raise oai_error(BAD_VERB, "The verb argument is missing; use one of " + ", ".join(VERBS) + ".")
    if len(verbs) > 1:
        raise oai_error(BAD_VERB, "The verb argument is repeated; give it once.")
    verb = verbs[0]
    if verb not in VERBS:
        raise oai_error(BAD_VERB, f"{verb!r} is not an OAI-PMH verb; use one of " + ", ".join(VERBS) + ".")
    spec = VERBS[verb]
    repeated = sorted(k for k, v in values.items() if len(v) > 1)
    if repeated:
        raise oai_error(BAD_ARGUMENT, f"Repeated argument: {', '.join(repeated)}; give each argument once.")
    illegal = sorted(set(values) - spec.allowed)
    if illegal:
        allowed = ", ".join(sorted(spec.allowed)) or "none"
        raise oai_error(BAD_ARGUMENT, f"{verb} does not take {', '.join(illegal)} (it takes: {allowed}).")
    arguments = {k: v[0] for k, v in values.items()}
    empty = sorted(k for k, v in arguments.items() if not v)
    if empty:
        raise oai_error(BAD_ARGUMENT, f"Empty argument: {', '.join(empty)}; give it a value or leave it out.")
    if spec.exclusive and spec.exclusive in arguments:
        others = sorted(set(arguments) - {spec.exclusive})
        if others:
            raise oai_error(BAD_ARGUMENT, f"{spec.exclusive} is exclusive: send it with the verb only, "
                                          f"not with {', '.join(others)}.")
        return ProtocolRequest(verb, arguments)
    missing = [k for k in spec.required if k not in arguments]
    if missing:
        raise oai_error(BAD_ARGUMENT, f"{verb} needs {', '.join(missing)}.")
    _check_syntax(arguments)
    return ProtocolRequest(verb, arguments)


def _check_syntax(arguments: dict[str, str]) -> None:
    prefix = arguments.get("metadataPrefix")
    if prefix is not None and not METADATA_PREFIX.fullmatch(prefix):
        raise oai_error(BAD_ARGUMENT, f"metadataPrefix {prefix!r} has characters a metadataPrefix cannot have.")
    set_spec = arguments.get("set")
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise oai_error(BAD_ARGUMENT, f"set {set_spec!r} is not a setSpec (tags of letters, digits and -_.!~*'() "
                                      "joined by colons).")
    date_range(arguments.get("from"), arguments.get("until"))


@dataclass(frozen=True, slots=True)
class DateRange:
    """``from``/``until`` as half-open bounds on datestamps: ``start <= datestamp < end``.

    ``until`` is inclusive at its own granularity, so ``until=2024-05-01`` ends at the start
    of May 2nd and ``until=2024-05-01T10:00:00Z`` at 10:00:01 (datestamps keep fractions of a
    second that the protocol does not show).
    """

    start: dt.datetime | None
    end: dt.datetime | None


def parse_utc_datetime(name: str, text: str) -> tuple[dt.datetime, str]:
    """A ``from``/``until`` value as a UTC moment and its granularity (``day`` or ``seconds``)."""
    try:
        if _DAY.fullmatch(text):
            return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC), "day"
        if _SECONDS.fullmatch(text):
            return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), "seconds"
    except ValueError:
        raise oai_error(BAD_ARGUMENT, f"{name}={text!r} is not a real date or time.") from None
    raise oai_error(BAD_ARGUMENT, f"{name}={text!r} is not a UTC datestamp: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.")


def date_range(from_text: str | None, until_text: str | None) -> DateRange:
    """The datestamp bounds of ``from`` and ``until``; OAIError(badArgument) for bad or mismatched values."""
    start = until = end = None
    granularities = set()
    if from_text is not None:
        start, granularity = parse_utc_datetime("from", from_text)
        granularities.add(granularity)
    if until_text is not None:
        until, granularity = parse_utc_datetime("until", until_text)
        granularities.add(granularity)
        try:
            end = until + (dt.timedelta(days=1) if granularity == "day" else dt.timedelta(seconds=1))
        except OverflowError:  # until=9999-12-31: no datestamp can be later
            end = None
    if len(granularities) > 1:
        raise oai_error(BAD_ARGUMENT, "from and until must have the same granularity (both days or both seconds).")
    if start is not None and until is not None and start > until:
        raise oai_error(BAD_ARGUMENT, f"from ({from_text}) is later than until ({until_text}).")
    return DateRange(start, end)
