"""A real OAI-PMH test server on 127.0.0.1 that serves recorded responses keyed by request arguments.

Tests route an exact set of query arguments to a file or to bytes, and can make the server
misbehave on demand for the next requests: an HTTP status with Retry-After, a slow or silent
answer, a body cut off mid-page, gzip or deflate encoding. Every request is recorded, so a test can
assert what the harvester asked for. It speaks HTTP over a socket, so the client is tested end to
end and not through a mock.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent / "data" / "oai"

Params = dict[str, str]


@dataclass(frozen=True)
class Reply:
    """How to answer one request: the body, the status and what can go wrong on the way."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    encoding: str | None = None  # gzip | deflate, applied when the client accepts it
    delay: float = 0.0  # seconds before the status line
    trickle: float = 0.0  # seconds between 1 KiB pieces of the body
    hang: bool = False  # accept the request and never answer
    cut_at: int | None = None  # close the connection after this many body bytes (Content-Length stays full)


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def _key(params: Params) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(params.items()))


@dataclass
class OAITestServer:
    """Routes, one-off misbehaviours and the request log of one listening socket."""

    port: int = 0
    routes: dict[tuple[tuple[str, str], ...], Reply | Callable[[Params], Reply]] = field(default_factory=dict)
    fallback: Callable[[Params], Reply] | None = None
    requests: list[Params] = field(default_factory=list)
    _once: deque[Reply] = field(default_factory=deque)
    _stop: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oai"

    def route(self, params: Params, reply: Reply | bytes | str | Callable[[Params], Reply]) -> None:
        """Answer exactly ``params`` with ``reply`` (bytes, a fixture path under tests/data/oai, or a Reply)."""
        if isinstance(reply, str):
            reply = Reply(fixture(reply))
        elif isinstance(reply, bytes):
            reply = Reply(reply)
        self.routes[_key(params)] = reply

    def misbehave(self, reply: Reply, times: int = 1) -> None:
        """Answer the next ``times`` requests, whatever they ask, with ``reply``."""
        self._once.extend([reply] * times)

    def reply_for(self, params: Params) -> Reply:
        if self._once:
            return self._once.popleft()
        found = self.routes.get(_key(params))
        if found is None and self.fallback is not None:
            return self.fallback(params)
        if found is None:
            return Reply(f"no route for {sorted(params.items())}".encode(), status=404)
        return found(params) if callable(found) else found

    def start(self) -> OAITestServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                server.requests.append(params)
                server._answer(self, server.reply_for(params))

        self._stop.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the socket: later requests are refused, like a killed server's."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def _answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.hang:
            self._stop.wait()
            handler.close_connection = True
            return
        if reply.delay:
            self._stop.wait(reply.delay)
        body = reply.body
        accepted = handler.headers.get("Accept-Encoding", "")
        headers = dict(reply.headers)
        if reply.encoding == "gzip" and "gzip" in accepted:
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        elif reply.encoding == "deflate" and "deflate" in accepted:
            body, headers["Content-Encoding"] = zlib.compress(body), "deflate"
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        if reply.cut_at is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            self._write(handler, body if reply.cut_at is None else body[:reply.cut_at], reply.trickle)
        except (BrokenPipeError, ConnectionResetError):
            return
        if reply.cut_at is not None:
            handler.close_connection = True

    def _write(self, handler: BaseHTTPRequestHandler, body: bytes, trickle: float) -> None:
        if not trickle:
            handler.wfile.write(body)
            return
        for start in range(0, len(body), 1024):
            if self._stop.wait(trickle):
                return
            handler.wfile.write(body[start:start + 1024])
            handler.wfile.flush()


@contextmanager
def running(server: OAITestServer | None = None) -> Iterator[OAITestServer]:
    server = (server or OAITestServer()).start()
    try:
        yield server
    finally:
        server.stop()


def oai_error(code: str, message: str = "") -> bytes:
    """An OAI-PMH error response, for routes the recorded fixtures do not cover."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f'<responseDate>2024-01-01T00:00:00Z</responseDate><request>http://127.0.0.1/oai</request>'
            f'<error code="{code}">{message}</error></OAI-PMH>').encode()


def identify(granularity: str = "YYYY-MM-DDThh:mm:ssZ", deleted_record: str = "persistent",
             earliest: str = "2000-01-01T00:00:00Z") -> bytes:
    """An Identify response with the facts a test needs."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f'<responseDate>2024-01-01T00:00:00Z</responseDate><request verb="Identify">http://127.0.0.1/oai'
            f'</request><Identify><repositoryName>Test repository</repositoryName>'
            f'<baseURL>http://127.0.0.1/oai</baseURL><protocolVersion>2.0</protocolVersion>'
            f'<adminEmail>admin@example.org</adminEmail><earliestDatestamp>{earliest}</earliestDatestamp>'
            f'<deletedRecord>{deleted_record}</deletedRecord><granularity>{granularity}</granularity>'
            f'</Identify></OAI-PMH>').encode()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
