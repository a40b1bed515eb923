"""Writing OAI-PMH responses as a stream of bytes with ``lxml.etree.xmlfile``.

A response is the envelope (declaration, stylesheet instruction, ``OAI-PMH`` root with
``responseDate`` and ``request``) around one body. The caller runs its queries first; this module
only writes. Each body is a generator that writes into the open ``xmlfile`` and yields after a
few records, and ``document`` drains the buffer at every yield, so a page goes out a few records
at a time and the response's bytes never pile up, whatever the page size. Namespaces are declared once
on the root; record payloads carry their own declarations and ``schemaLocation``, as the
specification requires of the ``metadata`` part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from exports.xml import XSI_NS, XSI_SCHEMA_LOCATION, clean
from repository.oai.errors import Problem

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA_LOCATION = f"{OAI_IDENTIFIER_NS} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

# Puts bytes that are already XML (a kept payload, see ``payloads``) into the open document as they are.
Splice = Callable[[bytes], None]
# A body writes into the open document and yields where the bytes so far may be sent.
Body = Callable[[etree.xmlfile, Splice], Iterator[None]]


def oai(local: str) -> str:
    return f"{{{OAI_NS}}}{local}"


def utc_datestamp(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ``: the repository's granularity (fractions of a second are not shown)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Envelope:
    response_date: dt.datetime
    base_url: str
    request: dict[str, str]  # the request element's attributes: verb and arguments, or none at all
    stylesheet: str | None = None


class _Chunks:
    """The file ``xmlfile`` writes into: it keeps what was written since the last ``take``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def document(envelope: Envelope, body: Body) -> Iterator[bytes]:
    """The whole response, in chunks: the envelope's opening, then one chunk per record, then the end."""
    out = _Chunks()
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        if envelope.stylesheet:
            href = envelope.stylesheet.replace('"', "%22")
            xf.write(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"'))
        with xf.element(oai("OAI-PMH"), {XSI_SCHEMA_LOCATION: OAI_SCHEMA_LOCATION}, nsmap={None: OAI_NS, "xsi": XSI_NS}):
            _text(xf, "responseDate", utc_datestamp(envelope.response_date))
            _text(xf, "request", envelope.base_url, envelope.request)
            xf.flush()
            yield out.take()

            def splice(data: bytes) -> None:
                xf.flush()  # what xmlfile holds (the open tags) goes first
                out.write(data)

            for _ in body(xf, splice):
                xf.flush()
                yield out.take()
    tail = out.take()
    if tail:
        yield tail


_TAGS: dict[str, str] = {}


def _text(xf: etree.xmlfile, local: str, text: str, attrs: dict[str, str] | None = None) -> None:
    tag = _TAGS.get(local) or _TAGS.setdefault(local, oai(local))
    with xf.element(tag, {k: clean(v) for k, v in attrs.items()} if attrs else {}):
        xf.write(clean(text))


def errors(problems: Sequence[Problem]) -> Body:
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        for problem in problems:
            _text(xf, "error", problem.message, {"code": problem.code})
        yield

    return write


@dataclass(frozen=True, slots=True)
class IdentifyInfo:
    repository_name: str
    base_url: str
    admin_emails: tuple[str, ...]
    earliest_datestamp: dt.datetime
    compression: tuple[str, ...]
    repository_identifier: str | None  # None: the namespace is not a domain name, so no oai-identifier description
    sample_identifier: str


def identify(info: IdentifyInfo) -> Body:
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        with xf.element(oai("Identify")):
            _text(xf, "repositoryName", info.repository_name)
            _text(xf, "baseURL", info.base_url)
            _text(xf, "protocolVersion", "2.0")
            for email in info.admin_emails:
                _text(xf, "adminEmail", email)
            _text(xf, "earliestDatestamp", utc_datestamp(info.earliest_datestamp))
            _text(xf, "deletedRecord", "persistent")
            _text(xf, "granularity", GRANULARITY)
            for encoding in info.compression:
                _text(xf, "compression", encoding)
            if info.repository_identifier:
                with xf.element(oai("description")):
                    xf.write(_oai_identifier(info.repository_identifier, info.sample_identifier))
        yield

    return write


def _oai_identifier(repository_identifier: str, sample: str) -> etree._Element:
    """The ``oai-identifier`` description (OAI identifier guidelines), telling harvesters the scheme."""
    root = etree.Element(f"{{{OAI_IDENTIFIER_NS}}}oai-identifier", nsmap={None: OAI_IDENTIFIER_NS, "xsi": XSI_NS})
    root.set(XSI_SCHEMA_LOCATION, OAI_IDENTIFIER_SCHEMA_LOCATION)
    for local, text in (("scheme", "oai"), ("repositoryIdentifier", repository_identifier), ("delimiter", ":"),
                        ("sampleIdentifier", sample)):
        etree.SubElement(root, f"{{{OAI_IDENTIFIER_NS}}}{local}").text = text
    return root


def metadata_formats(formats: Iterable[tuple[str, str, str]]) -> Body:
    """``ListMetadataFormats`` from (metadataPrefix, schema URL, namespace) triples."""
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        with xf.element(oai("ListMetadataFormats")):
            for prefix, schema, namespace in formats:
                with xf.element(oai("metadataFormat")):
                    _text(xf, "metadataPrefix", prefix)
                    _text(xf, "schema", schema)
                    _text(xf, "metadataNamespace", namespace)
        yield

    return write


def sets(found: Iterable[tuple[str, str]]) -> Body:
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        with xf.element(oai("ListSets")):
            for spec, name in found:
                with xf.element(oai("set")):
                    _text(xf, "setSpec", spec)
                    _text(xf, "setName", name)
        yield

    return write


@dataclass(frozen=True, slots=True)
class Header:
    identifier: str
    datestamp: dt.datetime
    set_specs: Sequence[str]
    deleted: bool


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a record list: its header, and for a record that is not deleted its payload.

    The payload is the ``<metadata>`` content as lxml wrote it (UTF-8, no declaration, its own
    namespace declarations and schemaLocation): spliced in as it is, never built from strings.
    """

    header: Header
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class Resumption:
    token: str  # empty on the last page of a list request sequence
    cursor: int
    complete_list_size: int


_HEADER, _IDENTIFIER, _DATESTAMP, _SET_SPEC = oai("header"), oai("identifier"), oai("datestamp"), oai("setSpec")
_DELETED = {"status": "deleted"}


def _header(xf: etree.xmlfile, header: Header) -> None:
    # Written without _text's general handling: a ListIdentifiers page is 250 of these (7 -> 4.5 ms).
    with xf.element(_HEADER, _DELETED) if header.deleted else xf.element(_HEADER):
        with xf.element(_IDENTIFIER):
            xf.write(clean(header.identifier))
        with xf.element(_DATESTAMP):
            xf.write(utc_datestamp(header.datestamp))
        for spec in header.set_specs:
            with xf.element(_SET_SPEC):
                xf.write(clean(spec))


def _record(xf: etree.xmlfile, splice: Splice, item: Item) -> None:
    with xf.element(oai("record")):
        _header(xf, item.header)
        if item.payload is not None and not item.header.deleted:
            with xf.element(oai("metadata")):
                splice(item.payload)


def _resumption(xf: etree.xmlfile, resumption: Resumption | None) -> None:
    if resumption is not None:
        _text(xf, "resumptionToken", resumption.token, {"completeListSize": str(resumption.complete_list_size),
                                                        "cursor": str(resumption.cursor)})


HEADERS_PER_CHUNK = 50
RECORDS_PER_CHUNK = 10


def record_list(verb: str, items: Iterable[Item], resumption: Resumption | None) -> Body:
    """``ListRecords`` (records with payloads), one chunk per RECORDS_PER_CHUNK records, or
    ``ListIdentifiers`` (headers only), one chunk per HEADERS_PER_CHUNK headers: a record is some
    1.5 to 5 KB and a header 200 bytes, and a chunk per record cost more in the WSGI layer than
    splicing its kept payload."""
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        with xf.element(oai(verb)):
            for n, item in enumerate(items, 1):
                if verb == "ListIdentifiers":
                    _header(xf, item.header)
                    if n % HEADERS_PER_CHUNK == 0:
                        yield
                else:
                    _record(xf, splice, item)
                    if n % RECORDS_PER_CHUNK == 0:
                        yield
            _resumption(xf, resumption)

    return write


def get_record(item: Item) -> Body:
    def write(xf: etree.xmlfile, splice: Splice) -> Iterator[None]:
        with xf.element(oai("GetRecord")):
            _record(xf, splice, item)
        yield

    return write
