"""A listing's pages, each fetched, parsed and judged one step ahead in a spawned process while this one stores the last.

Judging a record (parse, MODS schema, SwePub's rules) costs several times more than storing it,
and the two need not wait for each other: while the harvest loop writes page N in its
transaction, a second process already fetches page N+1 and judges its records. Pages arrive in
listing order and the loop checkpoints each one exactly as without the look-ahead, so a run cut
off anywhere resumes at the first page not committed: the pages fetched ahead are simply
fetched again. The process is started with the spawn method (no fork of a process that holds a
database connection) and holds no connection of its own.

The look-ahead judges every live record of a page, since it cannot know which ones the store
already holds unchanged; the loop uses a judged version only for a record that is new or changed.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from harvest.client import BadResumptionToken, ClientSettings, Header, OAIClient, OAIRecord, Page
from harvest.judge import Judges, Recipe
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
    """Stands in for ``Judges`` on a page judged ahead: it hands out the versions already made."""

    def __init__(self, versions: dict[str, RecordVersion]) -> None:
        self.versions = versions

    def __call__(self, items: Sequence[tuple[OAIRecord, str]]) -> list[RecordVersion]:
        # The look-ahead left out the XML (it is here already) and the digest (the loop computes it).
        return [dataclasses.replace(self.versions[rec.header.identifier or ""], content_hash=digest,
                                    raw_xml=rec.raw_xml) for rec, digest in items]


@contextmanager
def judged_ahead(listing: Listing, settings: ClientSettings, recipe: Recipe,
                 workers: int) -> Iterator[Iterator[tuple[Page, Prejudged]]]:
    """Pages with their records judged, from a spawned process; ``workers - 1`` further processes judge for it.

    An error of the listing (a network failure, a bad token) is raised here after the pages before
    it, as the loop without a look-ahead would meet it. Leaving the block stops the process.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_look_ahead, args=(sender, listing, settings, recipe, max(workers - 1, 1)),
                              name=f"harvest-lookahead-{listing.source}")
    process.start()
    sender.close()  # ours is closed, so a worker that dies ends our recv with EOFError

    def pages() -> Iterator[tuple[Page, Prejudged]]:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                process.join(5)
                raise RuntimeError(f"the look-ahead process of source {listing.source} ended without a word "
                                   f"(exit code {process.exitcode})") from None
            if message[0] == "end":
                return
            if message[0] == "error":
                raise message[1]
            _, records, token, complete_list_size, cursor, notes, versions = message
            oai_records = [OAIRecord(header, None, raw) for header, raw in records]
            yield (Page(oai_records, [r.header for r in oai_records], token, complete_list_size, cursor, notes),
                   Prejudged(versions))

    try:
        yield pages()
    finally:
        receiver.close()
        process.join(1)
        if process.is_alive():
            process.terminate()
            process.join()


def _look_ahead(sender: multiprocessing.connection.Connection, listing: Listing, settings: ClientSettings,
                recipe: Recipe, workers: int) -> None:
    """The spawned process: every page with its live records judged, then "end" (or the error that stopped it)."""
    try:
        with Judges(recipe, None, workers) as judges:
            for page in list_pages(OAIClient(listing.base_url, settings), listing):
                live: dict[str, OAIRecord] = {}
                for rec in page.records:
                    if rec.header.identifier is not None and not rec.header.deleted:
                        live[rec.header.identifier] = rec  # a repeated identifier: the later copy wins, as in the loop
                versions = {v.oai_identifier: dataclasses.replace(v, raw_xml=None)
                            for v in judges([(rec, "") for rec in live.values()])}
                records: list[tuple[Header, str]] = [(rec.header, rec.raw_xml) for rec in page.records]
                sender.send(("page", records, page.token, page.complete_list_size, page.cursor, page.notes, versions))
        sender.send(("end",))
    except (BrokenPipeError, EOFError):
        return  # the loop stopped listening: it ended or failed, and says why itself
    except Exception as exc:  # noqa: BLE001 - whatever stopped the listing is the loop's to report
        try:
            sender.send(("error", exc))
        except (BrokenPipeError, OSError):
            return
        except Exception:  # noqa: BLE001 - an exception that does not pickle still says what it was
            sender.send(("error", RuntimeError(f"look-ahead failed: {type(exc).__name__}: {exc}")))
    finally:
        sender.close()
