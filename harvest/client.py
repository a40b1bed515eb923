"""An OAI-PMH 2.0 client on the standard library: Identify, ListRecords, ListIdentifiers, GetRecord.

Plain ``urllib`` is enough for GET requests and keeps every network decision here, in view:
retries with exponential backoff on network errors, timeouts, 408/429/5xx and 503 Retry-After
(capped); a polite pause between requests to one host; gzip and deflate bodies decoded with a size
ceiling (a gzip bomb is a hostile input too); an overall deadline per request, so a server that
trickles bytes ends like one that never answers. Pages are parsed with ``harvest.safexml`` (never
lxml's ``recover=True``), protocol errors become typed exceptions carrying the OAI error code, and a
repeated resumption token stops the listing instead of looping forever.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from harvest import safexml

log = logging.getLogger(__name__)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_OAI = "{" + OAI_NS + "}"
DAY_GRANULARITY = "YYYY-MM-DD"
SECOND_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
GRANULARITIES = (DAY_GRANULARITY, SECOND_GRANULARITY)
DELETED_RECORD_POLICIES = ("no", "persistent", "transient")
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class HarvestError(Exception):
    """Anything that stops a request or a listing; ``code`` is short and machine-readable for the run log."""

    code = "harvest_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TransportError(HarvestError):
    """The server could not be reached or kept failing after every retry."""

    code = "network"


class HarvestTimeout(TransportError):
    """The server did not answer, or did not finish answering, within the deadline."""

    code = "timeout"


class MalformedResponse(HarvestError):
    """The response is not an OAI-PMH document we can read (not XML, unsafe XML, a broken envelope)."""

    code = "malformed_response"


class ResumptionTokenLoop(HarvestError):
    """The server handed out a resumption token it had already given: following it would never end."""

    code = "resumption_token_loop"


class OAIProtocolError(HarvestError):
    """An ``<error code="...">`` response; the subclass and ``code`` name the OAI-PMH error."""

    code = "oai_error"


class BadArgument(OAIProtocolError):
    code = "badArgument"


class BadResumptionToken(OAIProtocolError):
    code = "badResumptionToken"


class BadVerb(OAIProtocolError):
    code = "badVerb"


class CannotDisseminateFormat(OAIProtocolError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIProtocolError):
    code = "idDoesNotExist"


class NoMetadataFormats(OAIProtocolError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIProtocolError):
    code = "noSetHierarchy"


class NoRecordsMatch(OAIProtocolError):
    """Raised only by GetRecord-like calls; a listing turns it into an empty result."""

    code = "noRecordsMatch"


OAI_ERRORS: dict[str, type[OAIProtocolError]] = {
    cls.code: cls for cls in (BadArgument, BadResumptionToken, BadVerb, CannotDisseminateFormat,
                              IdDoesNotExist, NoMetadataFormats, NoSetHierarchy, NoRecordsMatch)
}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Network behaviour; the defaults are SwePub's (90 s timeouts) and polite to small servers."""

    timeout: float = 90.0  # seconds for connecting and for the whole response
    retries: int = 5  # further attempts after the first one fails
    backoff: float = 2.0  # the first pause; it doubles each attempt
    backoff_cap: float = 120.0
    retry_after_cap: float = 300.0  # a longer Retry-After is shortened to this
    min_interval: float = 0.5  # seconds between two requests to one host
    page_retries: int = 2  # a malformed page is fetched again this many times before it is reported
    max_response_bytes: int = safexml.DEFAULT_LIMITS.max_bytes
    user_agent: str = "Hylla-harvester/0.1 (OAI-PMH harvester)"

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.min_interval < 0:
            raise ValueError("timeouts must be positive and retry counts and pauses not negative")


class HostRateLimiter:
    """Spaces request starts to one host by ``min_interval``, across every client of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, min_interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + min_interval
        if slot > now:
            time.sleep(slot - now)


DEFAULT_LIMITER = HostRateLimiter()


@dataclass(frozen=True, slots=True)
class Identify:
    repository_name: str
    base_url: str
    protocol_version: str
    granularity: str
    earliest_datestamp: str
    deleted_record: str


@dataclass(frozen=True, slots=True)
class Header:
    identifier: str | None
    datestamp: str | None
    deleted: bool = False
    set_specs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OAIRecord:
    """One ``<record>`` of a page: its header, its payload element (None if deleted) and its XML."""

    header: Header
    metadata: etree._Element | None
    raw_xml: str


@dataclass(frozen=True, slots=True)
class Page:
    """One response of a listing; ``token`` is None on the last page."""

    records: list[OAIRecord]
    headers: list[Header]
    token: str | None
    complete_list_size: int | None = None
    cursor: int | None = None
    notes: tuple[str, ...] = field(default=())  # envelope oddities we read past, for the run log


_DATESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z)?", re.ASCII)


def parse_datestamp(text: str) -> dt.datetime:
    """An OAI-PMH datestamp (``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ``) as an aware UTC datetime.

    A pattern and the datetime constructor rather than ``strptime``: every harvested header has
    one, and ``strptime`` costs as much as reading a small record's title.
    """
    found = _DATESTAMP.fullmatch(text.strip())
    try:
        if found is None:
            raise ValueError
        return dt.datetime(*(int(part) for part in found.groups() if part is not None), tzinfo=dt.UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not an OAI-PMH datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)") from None


def format_datestamp(moment: dt.datetime, granularity: str) -> str:
    """``moment`` in the repository's granularity, as ``from`` and ``until`` must be sent."""
    utc = moment.astimezone(dt.UTC)
    if granularity == DAY_GRANULARITY:
        return utc.strftime("%Y-%m-%d")
    if granularity == SECOND_GRANULARITY:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ValueError(f"unknown OAI-PMH granularity {granularity!r}; expected one of {', '.join(GRANULARITIES)}")


def _decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo gzip/deflate with a ceiling on the inflated size."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise MalformedResponse(f"the server sent an unsupported Content-Encoding {encoding!r}", code="bad_encoding")
    attempts = (31,) if encoding != "deflate" else (15, -15)  # deflate: zlib-wrapped, or raw as some servers send
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            last = exc
            continue
        if len(data) > limit:
            raise MalformedResponse(f"the {encoding} body inflates to more than {limit} bytes", code="too_large")
        if not inflater.eof:
            raise MalformedResponse(f"the {encoding} body is cut short", code="truncated")
        return data
    raise MalformedResponse(f"the {encoding} body cannot be decoded: {last}", code="bad_encoding")


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), cap)


class OAIClient:
    """Requests to one OAI-PMH base URL; each method returns parsed results or raises a HarvestError."""

    def __init__(self, base_url: str, settings: ClientSettings | None = None,
                 limiter: HostRateLimiter | None = None) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http(s) OAI-PMH base URL")
        self.base_url = base_url
        self.host = parts.netloc.lower()
        self.settings = settings or ClientSettings()
        self.limiter = limiter or DEFAULT_LIMITER

    # -- transport -------------------------------------------------------------------------------

    def fetch(self, params: dict[str, str]) -> bytes:
        """The decoded body of one request, retried on transient failures with backoff."""
        url = f"{self.base_url}{'&' if '?' in self.base_url else '?'}{urllib.parse.urlencode(params)}"
        s = self.settings
        for attempt in range(s.retries + 1):
            try:
                return self._fetch_once(url)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRYABLE_STATUS:
                    raise TransportError(f"HTTP {exc.code} {exc.reason} from {url}", code=f"http_{exc.code}") from None
                failure: HarvestError = TransportError(f"HTTP {exc.code} {exc.reason} from {url} after "
                                                       f"{attempt + 1} attempts", code=f"http_{exc.code}")
                pause = _retry_after(exc.headers.get("Retry-After"), s.retry_after_cap)
            except HarvestTimeout as exc:
                failure, pause = exc, None
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, socket.timeout | TimeoutError):
                    failure = HarvestTimeout(f"no answer from {url} within {s.timeout:g} s")
                else:
                    failure = TransportError(f"cannot read {url}: {reason or type(exc).__name__}")
                pause = None
            if attempt == s.retries:
                raise failure
            pause = pause if pause is not None else min(s.backoff * 2 ** attempt, s.backoff_cap)
            log.warning("retrying host=%s attempt=%d pause=%.2fs reason=%s", self.host, attempt + 1, pause, failure)
            time.sleep(pause)
        raise AssertionError("unreachable: the loop returns or raises")

    def _fetch_once(self, url: str) -> bytes:
        s = self.settings
        self.limiter.wait(self.host, s.min_interval)
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate",
                                                       "User-Agent": s.user_agent})
        deadline = time.monotonic() + s.timeout
        with urllib.request.urlopen(request, timeout=s.timeout) as response:
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read1(1 << 16):  # read1: returns what arrived, so the deadline is checked
                size += len(chunk)
                if size > s.max_response_bytes:
                    raise MalformedResponse(f"the response from {url} is larger than {s.max_response_bytes} bytes",
                                            code="too_large")
                if time.monotonic() > deadline:
                    raise HarvestTimeout(f"{url} did not finish answering within {s.timeout:g} s")
                chunks.append(chunk)
            encoding = response.headers.get("Content-Encoding", "")
            expected = response.headers.get("Content-Length", "")
        if expected.isdigit() and size < int(expected):
            raise http.client.IncompleteRead(b"".join(chunks), int(expected) - size)  # cut mid-page: retried
        return _decode_body(b"".join(chunks), encoding, s.max_response_bytes)

    def _document(self, params: dict[str, str]) -> etree._Element:
        """The response's root element, fetched again when it arrives malformed (a cut-off page)."""
        for attempt in range(self.settings.page_retries + 1):
            body = self.fetch(params)
            try:
                root = safexml.parse_bytes(body, limits=safexml.Limits(max_bytes=self.settings.max_response_bytes))
            except safexml.HarvestXMLError as exc:
                if attempt == self.settings.page_retries:
                    raise MalformedResponse(f"{params.get('verb')} response unreadable after {attempt + 1} "
                                            f"attempts: {exc}", code=exc.reason) from None
                log.warning("malformed page host=%s attempt=%d reason=%s", self.host, attempt + 1, exc.reason)
                continue
            if root.tag != f"{_OAI}OAI-PMH":
                raise MalformedResponse(f"the response is not OAI-PMH: its root element is {root.tag}",
                                        code="not_oai_pmh")
            return root
        raise AssertionError("unreachable: the loop returns or raises")

    # -- verbs -----------------------------------------------------------------------------------

    def identify(self) -> Identify:
        root = self._document({"verb": "Identify"})
        _raise_oai_error(root)
        node = root.find(f"{_OAI}Identify")
        if node is None:
            raise MalformedResponse("the Identify response has no Identify element", code="no_identify")

        def text(name: str) -> str:
            value = node.findtext(f"{_OAI}{name}")
            if value is None or not value.strip():
                raise MalformedResponse(f"the Identify response has no {name}", code="bad_identify")
            return value.strip()

        info = Identify(text("repositoryName"), text("baseURL"), text("protocolVersion"), text("granularity"),
                        text("earliestDatestamp"), text("deletedRecord"))
        if info.granularity not in GRANULARITIES:
            raise MalformedResponse(f"Identify gives granularity {info.granularity!r}; OAI-PMH allows "
                                    f"{' or '.join(GRANULARITIES)}", code="bad_identify")
        if info.deleted_record not in DELETED_RECORD_POLICIES:
            raise MalformedResponse(f"Identify gives deletedRecord {info.deleted_record!r}; OAI-PMH allows "
                                    f"{', '.join(DELETED_RECORD_POLICIES)}", code="bad_identify")
        return info

    def list_records(self, metadata_prefix: str, *, from_: str | None = None, until: str | None = None,
                     set_spec: str | None = None, token: str | None = None) -> Iterator[Page]:
        """Every page of a ListRecords listing, from its start or from a saved resumption token."""
        return self._listing("ListRecords", metadata_prefix, from_, until, set_spec, token)

    def list_identifiers(self, metadata_prefix: str, *, from_: str | None = None, until: str | None = None,
                         set_spec: str | None = None, token: str | None = None) -> Iterator[Page]:
        return self._listing("ListIdentifiers", metadata_prefix, from_, until, set_spec, token)

    def get_record(self, identifier: str, metadata_prefix: str) -> OAIRecord:
        root = self._document({"verb": "GetRecord", "identifier": identifier, "metadataPrefix": metadata_prefix})
        _raise_oai_error(root)
        record = root.find(f"{_OAI}GetRecord/{_OAI}record")
        if record is None:
            raise MalformedResponse("the GetRecord response has no record", code="no_record")
        return record_from_element(record)

    def _listing(self, verb: str, metadata_prefix: str, from_: str | None, until: str | None,
                 set_spec: str | None, token: str | None) -> Iterator[Page]:
        if token is not None:
            params = {"verb": verb, "resumptionToken": token}
        else:
            params = {"verb": verb, "metadataPrefix": metadata_prefix}
            params.update({k: v for k, v in (("from", from_), ("until", until), ("set", set_spec)) if v})
        seen = {token} if token else set()
        while True:
            page = _page(self._document(params), verb)
            if page.token is not None and page.token in seen:
                raise ResumptionTokenLoop(f"the server sent resumption token {page.token!r} a second time; "
                                          f"stopping after {len(seen)} pages instead of looping")
            yield page
            if page.token is None:
                return
            seen.add(page.token)
            params = {"verb": verb, "resumptionToken": page.token}


def _raise_oai_error(root: etree._Element) -> None:
    errors = root.findall(f"{_OAI}error")
    if not errors:
        return
    first = errors[0]
    code = first.get("code", "")
    message = "; ".join(f"{e.get('code')}: {(e.text or '').strip()}" for e in errors)
    raise OAI_ERRORS.get(code, OAIProtocolError)(f"OAI-PMH error {message}", code=code or "oai_error")


def _page(root: etree._Element, verb: str) -> Page:
    try:
        _raise_oai_error(root)
    except NoRecordsMatch:
        return Page(records=[], headers=[], token=None)
    notes: tuple[str, ...] = ()
    container = root.find(f"{_OAI}{verb}")
    if container is None:
        item = "record" if verb == "ListRecords" else "header"
        if root.find(f"{_OAI}{item}") is None:
            raise MalformedResponse(f"the {verb} response has no {verb} element and no {item}s",
                                    code="bad_envelope")
        container = root
        notes = (f"envelope: {item}s directly under OAI-PMH without a {verb} element; read anyway",)
    if verb == "ListRecords":
        records = [record_from_element(r) for r in container.iterchildren(f"{_OAI}record")]
        headers = [r.header for r in records]
    else:
        records = []
        headers = [_header(h) for h in container.iterchildren(f"{_OAI}header")]
    token_el = container.find(f"{_OAI}resumptionToken")
    token = None
    if token_el is not None:
        token = (token_el.text or "").strip() or None  # an empty token marks the last page
    return Page(records=records, headers=headers, token=token,
                complete_list_size=_int_attr(token_el, "completeListSize"), cursor=_int_attr(token_el, "cursor"),
                notes=notes)


def _int_attr(el: etree._Element | None, name: str) -> int | None:
    value = el.get(name) if el is not None else None
    return int(value) if value is not None and value.strip().isdigit() else None


_HEADER_IDENTIFIER, _HEADER_DATESTAMP, _HEADER_SET_SPEC = f"{_OAI}identifier", f"{_OAI}datestamp", f"{_OAI}setSpec"


def _header(el: etree._Element | None) -> Header:
    """A record's header, its children read in one pass (two ``findtext`` and an ``iterchildren`` took
    three times as long, for every record of every page); the first identifier and datestamp count."""
    if el is None:
        return Header(identifier=None, datestamp=None)
    identifier = datestamp = None
    specs: list[str] = []
    for child in el:
        if child.tag == _HEADER_IDENTIFIER:
            identifier = (child.text or "").strip() if identifier is None else identifier
        elif child.tag == _HEADER_DATESTAMP:
            datestamp = (child.text or "").strip() if datestamp is None else datestamp
        elif child.tag == _HEADER_SET_SPEC:
            specs.append((child.text or "").strip())
    return Header(identifier or None, datestamp or None, el.get("status") == "deleted", tuple(specs))


def record_from_element(el: etree._Element, raw_xml: str | None = None) -> OAIRecord:
    """An OAI ``<record>`` element as an OAIRecord; a worker that rebuilt ``el`` from its XML passes that XML along."""
    header = _header(next(el.iterchildren(f"{_OAI}header"), None))
    metadata = None
    container = next(el.iterchildren(f"{_OAI}metadata"), None)
    if container is not None:
        metadata = next(container.iterchildren(etree.Element), None)
    if raw_xml is None:
        raw_xml = etree.tostring(el, encoding="unicode", with_tail=False)
    return OAIRecord(header, metadata, raw_xml)
