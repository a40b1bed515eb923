"""A listing's pages, each fetched, parsed and judged one step ahead in a spawned process while this one stores the last.

Judging a record (parse, MODS schema, SwePub's rules) costs several times more than storing it,
and the two need not wait for each other: while the harvest loop writes page N in its
transaction, a second process already fetches page N+1 and judges its records. Pages arrive in
listing order and the loop checkpoints each one exactly as without the look-ahead, so a run cut
off anywhere resumes at the first page not committed: the pages fetched ahead are simply
fetched again. The process is started with the spawn method (no fork of a process that holds a
database connection) and holds no connection of its own.

The look-ahead judges the first ``share`` of a page's live records and the loop judges the rest
itself from their XML while the look-ahead fetches on. The share starts at two thirds (with two
workers) and follows the loop: whenever the loop asks for a page, it moves the share a step up
if the page is there already (the loop is the slower side) and a step down if it has to wait.
What a record costs to judge and to store differs with the machine, the database and its size
(at 200,000 records on SQLite the balance lay near 0.6, and two thirds left the loop idle a third
of the time), so no fixed share keeps both processes busy. Which process judges a record changes
nothing stored (tested). The look-ahead cannot know which records the store already holds
unchanged and judges its share regardless; the loop judges (and uses a judged version) only for a
record that is new or changed.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import pickle
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from exports.jsontext import json_bytes
from harvest import garbage
from harvest.client import BadResumptionToken, ClientSettings, Header, OAIClient, OAIRecord, Page
from harvest.judge import Judges, Recipe, judge_xml
from harvest.store import RecordVersion

log = logging.getLogger(__name__)

Window = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class Listing:
    """Which listing to walk: enough for another process to ask for it."""

    source: str
    base_url: str
    prefix: str
    set_spec: str | None
    window: Window
    token: str | None  # the checkpoint to resume from


def list_pages(client: OAIClient, listing: Listing) -> Iterator[Page]:
    """The listing's pages, from the checkpoint when there is one; an expired token restarts the window."""
    pages = client.list_records(listing.prefix, from_=listing.window[0], until=listing.window[1],
                                set_spec=listing.set_spec, token=listing.token)
    try:
        first = next(pages, None)
    except BadResumptionToken:
        if listing.token is None:
            raise
        log.warning("source=%s checkpoint token expired; listing the window again", listing.source)
        pages = client.list_records(listing.prefix, from_=listing.window[0], until=listing.window[1],
                                    set_spec=listing.set_spec)
        first = next(pages, None)
    if first is not None:
        yield first
        yield from pages


class Prejudged:
    """Stands in for ``Judges`` on a page judged ahead: the versions already made, the rest judged here."""

    def __init__(self, versions: dict[str, RecordVersion], recipe: Recipe) -> None:
        self.versions = versions
        self.recipe = recipe

    def __call__(self, items: Sequence[tuple[OAIRecord, str]]) -> list[RecordVersion]:
        out = []
        for rec, digest in items:
            ahead = self.versions.get(rec.header.identifier or "")
            if ahead is None:  # the loop's share of the page
                out.append(judge_xml(rec.raw_xml, digest, self.recipe))
            else:  # the look-ahead left out the XML (it is here already) and the digest (the loop computes it)
                out.append(_unwire(ahead, digest, rec.raw_xml))
        return out


def _wire(version: RecordVersion) -> RecordVersion:
    """A version as the look-ahead sends it: without its XML, its two large documents already JSON.

    Encoding them here (where the CPU is to spare) rather than pickling the dicts spares the
    storing process both the unpickling and the JSON encoding of each record.
    """
    return dataclasses.replace(version, raw_xml=None,
                               record=None if version.record is None else json_bytes(version.record),
                               match_features=None if version.match_features is None
                               else json_bytes(version.match_features))


def _unwire(version: RecordVersion, digest: str, raw_xml: str | None) -> RecordVersion:
    """The version the store writes: the JSON bytes become fragments the JSON columns take as they are."""
    return dataclasses.replace(version, content_hash=digest, raw_xml=raw_xml,
                               record=None if version.record is None else orjson.Fragment(version.record),
                               match_features=None if version.match_features is None
                               else orjson.Fragment(version.match_features))


@contextmanager
def judged_ahead(listing: Listing, settings: ClientSettings, recipe: Recipe,
                 workers: int) -> Iterator[Iterator[tuple[Page, Prejudged]]]:
    """Pages with most of their records judged, from a spawned process; ``workers - 1`` more processes judge for it.

    The process runs up to ``PAGES_AHEAD`` pages ahead, so a page that is slow to fetch or store
    does not stall the other side. An error of the listing (a network failure, a bad token) is
    raised here after the pages before it, as the loop without a look-ahead would meet it.
    Leaving the block stops the process.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    share = context.Value("d", first_share(workers), lock=False)  # one writer (the loop), one reader: no lock
    process = context.Process(target=_look_ahead, args=(sender, listing, settings, recipe, max(workers - 1, 1), share),
                              name=f"harvest-lookahead-{listing.source}")
    process.start()
    sender.close()  # ours is closed, so a process that dies ends our recv with an error, not a wait
    ended = False

    def pages() -> Iterator[tuple[Page, Prejudged]]:
        nonlocal ended
        while True:
            share.value = next_share(share.value, waits=not receiver.poll())
            try:
                message = receiver.recv()
            except (EOFError, OSError):  # OSError: it died while sending a page
                process.join(5)
                raise RuntimeError(f"the look-ahead process of source {listing.source} ended without a word "
                                   f"(exit code {process.exitcode})") from None
            if message[0] != "page":
                ended = True
                if message[0] == "error":
                    raise message[1]
                return
            _, records, token, complete_list_size, cursor, notes, versions = message
            oai_records = [OAIRecord(header, None, raw) for header, raw in records]
            yield (Page(oai_records, [r.header for r in oai_records], token, complete_list_size, cursor, notes),
                   Prejudged(versions, recipe))

    try:
        yield pages()
    finally:
        if not ended:  # the loop stopped early: what the process holds is not wanted
            process.terminate()
        process.join()
        receiver.close()


PAGES_AHEAD = 3
SHARE_STEP = 0.02  # per page: from two thirds to the balance in a few pages, without swinging past it
MIN_SHARE, MAX_SHARE = 0.25, 1.0


def first_share(workers: int) -> float:
    """What the look-ahead judges of the first page, before it knows how fast the loop goes."""
    return workers / (workers + 1)


def next_share(share: float, *, waits: bool) -> float:
    """The look-ahead's share from now on, given whether the loop has to wait for the page it asks for."""
    if waits:  # the look-ahead is the slower side: the loop has time to judge more itself
        return max(MIN_SHARE, share - SHARE_STEP)
    return min(MAX_SHARE, share + SHARE_STEP)  # the page was there: the loop is the slower side


class _LoopGone(Exception):
    """The harvest loop no longer takes pages: it ended, failed or was killed."""


def _look_ahead(sender: multiprocessing.connection.Connection, listing: Listing, settings: ClientSettings,
                recipe: Recipe, workers: int, share: Any) -> None:
    """The spawned process: every page with a share of its live records judged, then "end" (or what stopped it).

    A thread sends the pages, so judging goes on while the loop is still busy with an earlier one.
    """
    outbox: queue.Queue[tuple[Any, ...]] = queue.Queue(PAGES_AHEAD)
    courier = threading.Thread(target=_send_all, args=(outbox, sender), daemon=True)
    courier.start()

    def post(message: tuple[Any, ...]) -> None:
        while courier.is_alive():  # a loop that is gone (even killed) takes nothing more: stop, not wait forever
            try:
                return outbox.put(message, timeout=1.0)
            except queue.Full:
                continue
        raise _LoopGone

    try:
        with Judges(recipe, None, workers) as judges, garbage.long_run():
            for page in list_pages(OAIClient(listing.base_url, settings), listing):
                live: dict[str, OAIRecord] = {}
                for rec in page.records:
                    if rec.header.identifier is not None and not rec.header.deleted:
                        live[rec.header.identifier] = rec  # a repeated identifier: the later copy wins, as in the loop
                mine = list(live.values())[:round(len(live) * share.value)]  # ``share``: the loop's Value
                versions = {v.oai_identifier: _wire(v) for v in judges([(rec, "") for rec in mine])}
                records: list[tuple[Header, str]] = [(rec.header, rec.raw_xml) for rec in page.records]
                post(("page", records, page.token, page.complete_list_size, page.cursor, page.notes, versions))
        post(("end",))
    except _LoopGone:
        return  # the loop ended or failed, and says why itself
    except Exception as exc:  # noqa: BLE001 - whatever stopped the listing is the loop's to report
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle still says what it was
            exc = RuntimeError(f"look-ahead failed: {type(exc).__name__}: {exc}")
        try:
            post(("error", exc))
        except _LoopGone:
            return
    courier.join()


def _send_all(outbox: queue.Queue[tuple[Any, ...]], sender: multiprocessing.connection.Connection) -> None:
    try:
        while True:
            message = outbox.get()
            sender.send(message)
            if message[0] != "page":
                return
    except OSError:  # the loop stopped listening (BrokenPipeError): it ended or failed, and says why itself
        return
    finally:
        sender.close()
