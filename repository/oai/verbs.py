"""The six OAI-PMH verbs: each checks its arguments, runs its queries and returns the body to stream.

``respond`` is the provider's one entry point. Every query runs inside it, before the first
byte is written; what it returns is a generator that only writes (records' payloads are ready
before it starts, see ``payloads``). Protocol errors are ``OAIError`` from anywhere below and
become ``<error>`` responses here, sent with HTTP 200 like every other response.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from repository.models import utcnow
from repository.oai import list_sizes, queries, tokens, writer
from repository.oai.arguments import RESUMPTION_TOKEN, ProtocolRequest, date_range, parse_request
from repository.oai.errors import (
    BAD_RESUMPTION_TOKEN, CANNOT_DISSEMINATE_FORMAT, ID_DOES_NOT_EXIST, NO_METADATA_FORMATS, NO_RECORDS_MATCH,
    OAIError, Problem, oai_error,
)
from repository.oai.formats import FORMATS, MetadataFormat
from repository.oai.listing import Entry, PageBuilder
from repository.oai.queries import ListFilter, Row
from repository.oai.settings import ProviderSettings
from repository.oai.tokens import ResumptionState
from repository.services.readmodels_bulk import read_models

log = logging.getLogger(__name__)

COMPRESSION: tuple[str, ...] = ("gzip", "deflate")
# The oai-identifier scheme's repositoryIdentifier: a domain name (OAI identifier guidelines).
_DOMAIN_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")


@dataclass(frozen=True, slots=True)
class Context:
    session: Session
    settings: ProviderSettings
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(dt.timezone.utc).date()


def respond(session: Session, settings: ProviderSettings, pairs: Iterable[tuple[str, str]],
            now: dt.datetime | None = None) -> Iterator[bytes]:
    """The response to one request, as chunks of UTF-8 XML; all queries have run when this returns.

    ``now`` is the responseDate: the moment the request started, before any query, so that a
    harvester using it as the next ``from`` misses nothing that changed while it was answered.
    """
    ctx = Context(session, settings, now or utcnow())
    request: ProtocolRequest | None = None
    try:
        request = parse_request(pairs)
        body = VERBS[request.verb](ctx, request)
    except OAIError as exc:
        log.info("oai error verb=%s codes=%s", request.verb if request else None,
                 ",".join(p.code for p in exc.problems))
        attributes = _echo(request) if request is not None and exc.echoes_arguments else {}
        return writer.document(_envelope(ctx, attributes), writer.errors(exc.problems))
    return writer.document(_envelope(ctx, _echo(request)), body)


def _echo(request: ProtocolRequest) -> dict[str, str]:
    return {"verb": request.verb, **request.arguments}


def _envelope(ctx: Context, attributes: dict[str, str]) -> writer.Envelope:
    return writer.Envelope(ctx.now, ctx.settings.base_url, attributes, ctx.settings.stylesheet)


# -- Identify, ListMetadataFormats, ListSets ------------------------------------------------------

def identify(ctx: Context, _request: ProtocolRequest) -> writer.Body:
    earliest = queries.earliest_datestamp(ctx.session, ctx.now) or ctx.now
    namespace = ctx.settings.namespace
    return writer.identify(writer.IdentifyInfo(
        repository_name=ctx.settings.repository_name,
        base_url=ctx.settings.base_url,
        admin_emails=ctx.settings.admin_emails,
        earliest_datestamp=earliest,
        compression=COMPRESSION,
        repository_identifier=namespace if _DOMAIN_NAME.fullmatch(namespace) else None,
        sample_identifier=ctx.settings.site.oai_identifier(1),
    ))


def list_metadata_formats(ctx: Context, request: ProtocolRequest) -> writer.Body:
    formats = list(FORMATS.values())
    identifier = request.get("identifier")
    if identifier is not None:
        row = _find(ctx, identifier)
        if not row.deleted:
            # A deleted record is deleted in every format; a live one lists what it can be written in.
            model = read_models(ctx.session, [row.id], ctx.settings.site)[row.id]
            formats = [f for f in formats if f.available_for(model)]
        if not formats:
            raise oai_error(NO_METADATA_FORMATS, f"{identifier} cannot be written in any metadata format.")
    return writer.metadata_formats((f.prefix, f.schema, f.namespace) for f in formats)


def list_sets(ctx: Context, request: ProtocolRequest) -> writer.Body:
    if request.get(RESUMPTION_TOKEN) is not None:
        # ListSets is always answered in one response, so no token of ours can continue it.
        raise oai_error(BAD_RESUMPTION_TOKEN, "ListSets is always complete in one response; this repository "
                                              "never issued a resumptionToken for it.")
    return writer.sets(queries.catalogue(ctx.session).sets())


# -- GetRecord ----------------------------------------------------------------------------------

def _local_id(ctx: Context, identifier: str) -> int | None:
    prefix = f"oai:{ctx.settings.namespace}:"
    local = identifier[len(prefix):] if identifier.startswith(prefix) else ""
    # Only the canonical form names a record: "oai:ns:007" is not "oai:ns:7".
    if local.isascii() and local.isdigit() and str(int(local)) == local:
        return int(local)
    return None


def _find(ctx: Context, identifier: str) -> Row:
    local = _local_id(ctx, identifier)
    row = queries.find(ctx.session, ctx.now, local) if local is not None else None
    if row is None:
        raise oai_error(ID_DOES_NOT_EXIST, f"No record {identifier} in this repository (identifiers look like "
                                           f"{ctx.settings.site.oai_identifier(1)}).")
    return row


def _format(prefix: str) -> MetadataFormat:
    found = FORMATS.get(prefix)
    if found is None:
        raise oai_error(CANNOT_DISSEMINATE_FORMAT, f"This repository does not disseminate {prefix!r}; "
                                                   f"it offers {', '.join(FORMATS)}.")
    return found


def get_record(ctx: Context, request: ProtocolRequest) -> writer.Body:
    identifier, prefix = request.arguments["identifier"], request.arguments["metadataPrefix"]
    problems: list[Problem] = []
    metadata_format = row = None
    try:
        metadata_format = _format(prefix)
    except OAIError as exc:
        problems += exc.problems
    try:
        row = _find(ctx, identifier)
    except OAIError as exc:
        problems += exc.problems
    if problems or metadata_format is None or row is None:
        raise OAIError(*problems)
    builder = PageBuilder(ctx.session, ctx.settings.site, ctx.now, queries.catalogue(ctx.session),
                          metadata_format, with_metadata=True)
    entry = builder.judge([row], ListFilter(date_range(None, None), None))[0]
    builder.save()
    if entry is None:
        raise oai_error(CANNOT_DISSEMINATE_FORMAT, f"{identifier} cannot be written as {prefix} "
                                                   f"(swepub_mods needs the record's URI, e.g. its URN:NBN).")
    return writer.get_record(_item(ctx, entry))


def _item(ctx: Context, entry: Entry) -> writer.Item:
    header = writer.Header(ctx.settings.site.oai_identifier(entry.row.id), entry.row.datestamp, entry.set_specs,
                           entry.row.deleted)
    return writer.Item(header, None if entry.row.deleted else entry.payload)


# -- ListIdentifiers, ListRecords ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ListArguments:
    metadata_prefix: str
    set_spec: str | None
    from_text: str | None
    until_text: str | None


def _list_arguments(ctx: Context, request: ProtocolRequest) -> tuple[ListArguments, ResumptionState | None]:
    token = request.get(RESUMPTION_TOKEN)
    if token is None:
        a = request.arguments
        return ListArguments(a["metadataPrefix"], a.get("set"), a.get("from"), a.get("until")), None
    state = tokens.decode(token, ctx.settings.secret_key, request.verb)
    return ListArguments(state.metadata_prefix, state.set_spec, state.from_text, state.until_text), state


def _records(ctx: Context, request: ProtocolRequest, *, with_metadata: bool) -> writer.Body:
    args, state = _list_arguments(ctx, request)
    metadata_format = _format(args.metadata_prefix)
    dates = date_range(args.from_text, args.until_text)
    catalogue = queries.catalogue(ctx.session)
    selector = None
    if args.set_spec is not None:
        selector = catalogue.selector(args.set_spec)
        if selector is None:
            raise oai_error(NO_RECORDS_MATCH, f"There is no set {args.set_spec!r} here; ListSets names them all.")
    flt = ListFilter(dates, selector)
    size = ctx.settings.records_page_size if with_metadata else ctx.settings.identifiers_page_size
    builder = PageBuilder(ctx.session, ctx.settings.site, ctx.now, catalogue, metadata_format,
                          with_metadata=with_metadata)
    page = builder.collect(flt, (state.after_datestamp, state.after_id) if state else None, size)
    builder.save()
    if not page.entries:
        raise oai_error(NO_RECORDS_MATCH, _no_records_message(args, state is not None))
    resumption = _resumption(ctx, request.verb, args, state, page.entries, page.more,
                             lambda: list_sizes.complete_list_size(ctx.session, ctx.now, flt))
    items = [_item(ctx, entry) for entry in page.entries]
    return writer.record_list(request.verb, items, resumption)


def _no_records_message(args: ListArguments, resumed: bool) -> str:
    if resumed:
        return "No records are left after this resumptionToken's position (they were deleted meanwhile)."
    criteria = [f"{name}={value}" for name, value in (("set", args.set_spec), ("from", args.from_text),
                                                       ("until", args.until_text)) if value is not None]
    return (f"No {args.metadata_prefix} records match" + (f" {', '.join(criteria)}" if criteria else "") + ".")


def _resumption(ctx: Context, verb: str, args: ListArguments, state: ResumptionState | None,
                entries: list[Entry], more: bool, count: Callable[[], int]) -> writer.Resumption | None:
    """The page's resumptionToken element: a token while more follows, an empty one ending a sequence.

    completeListSize is counted on the first page (or remembered, see ``list_sizes``) and carried
    in the token (specification 3.5: an estimate, which may be revised): records added or re-dated
    during the harvest and the SwePub quality rule make the true size known only at the end, where
    it is set to what was sent.
    """
    if state is None and not more:
        return None  # the whole list in one response: no token at all
    cursor = state.cursor if state else 0
    sent = cursor + len(entries)
    estimate = state.complete_list_size if state else count()
    if not more:
        return writer.Resumption("", cursor, sent)
    size = max(estimate, sent + 1)
    last = entries[-1].row
    token = tokens.encode(ResumptionState(verb, args.metadata_prefix, args.set_spec, args.from_text, args.until_text,
                                          last.position, last.id, sent, size), ctx.settings.secret_key)
    return writer.Resumption(token, cursor, size)


def list_identifiers(ctx: Context, request: ProtocolRequest) -> writer.Body:
    return _records(ctx, request, with_metadata=False)


def list_records(ctx: Context, request: ProtocolRequest) -> writer.Body:
    return _records(ctx, request, with_metadata=True)


VERBS: dict[str, Callable[[Context, ProtocolRequest], writer.Body]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
