"""Issue 3's file targets: upload and download of a 1 GB file through a real server process.

Run: ``.venv/bin/python -m benchmarks.bench_files [--size-mb 1024] [--runs 3] [--server gunicorn|werkzeug]``.

A gunicorn (or werkzeug) process serves the app on 127.0.0.1 with a SQLite database and a file
store in a temporary folder. The benchmark logs in as an editor (with the CSRF token, as a
browser would), uploads the file as multipart/form-data, downloads it as an anonymous visitor,
checks the SHA-256, and measures side by side a plain ``cp`` of the same file to the same
folder, a bare sendfile(2) socket serving the same file (what loopback TCP itself allows), and
a download and a cp into /dev/null (the reading side alone). Printed: the peak
RSS growth of the server's worker (VmHWM after the transfers minus VmRSS before, with the peak
reset through /proc/<pid>/clear_refs; target < 64 MB) and download throughput against ``cp``
(medians of the runs, taken in alternating order; target >= 80%).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

from repository import PROJECT_ROOT, create_app, migrate
from repository.auth import hash_password
from repository.db import session
from repository.models import Institution, User
from repository.services import records

MB = 1024 * 1024
PASSWORD = "benchmark password"
BOUNDARY = "hyllaBenchBoundary"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url: str, tmp: Path) -> int:
    """A migrated database with an editor and one published record; returns the record's id."""
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench",
                      "FILES_ROOT": str(tmp / "files")})
    with app.app_context():
        inst = Institution(code="uu", name="Uppsala University", domain="uu.se")
        session.add(inst)
        session.flush()
        editor = User(email="editor@example.org", password_hash=hash_password(PASSWORD), role="editor",
                      institution_id=inst.id, active=True)
        session.add(editor)
        session.commit()
        pub = records.create_publication(editor, {"publication_type": "art", "titles": [{"title": "Benchmark"}]})
        records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se")
        return pub.id


def make_file(path: Path, size: int) -> None:
    """A PDF-headed file of ``size`` bytes from a repeated random block (fast to write, not compressible)."""
    block = os.urandom(MB)
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        written = 9
        while written < size:
            chunk = block[:min(MB, size - written)]
            fh.write(chunk)
            written += len(chunk)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def start_server(kind: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    if kind == "gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync", "--timeout", "900",
               "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    else:
        cmd = [sys.executable, "-c", "from werkzeug.serving import run_simple; from wsgi import app; "
               f"run_simple('127.0.0.1', {port}, app, threaded=False)"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the server stopped: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def worker_pid(proc: subprocess.Popen[bytes], kind: str) -> int:
    """gunicorn's worker (the master's child) does the work; werkzeug serves in its own process."""
    if kind != "gunicorn":
        return proc.pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Client:
    """A browser-like session: cookies and the CSRF token of the login form."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | Iterator[bytes] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        all_headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) hylla-bench", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, dict(response.headers), data

    def csrf_token(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if found is None:
            raise SystemExit(f"no CSRF token on {path}")
        return found.group(1).decode()

    def log_in(self) -> str:
        token = self.csrf_token("/login")
        body = f"email=editor%40example.org&password={PASSWORD.replace(' ', '+')}&csrf_token={token}".encode()
        status, _, _ = self.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"login failed with {status}")
        return self.csrf_token("/")


def upload(client: Client, token: str, pub_id: int, path: Path) -> tuple[float, dict[str, object]]:
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = path.stat().st_size

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as fh:
            while chunk := fh.read(MB):
                yield chunk
        yield tail

    started = time.perf_counter()
    status, _, data = client.request("POST", f"/publications/{pub_id}/files", body(), {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(len(head) + size + len(tail)),
        "Accept": "application/json", "X-CSRFToken": token})
    seconds = time.perf_counter() - started
    if status != 201:
        raise SystemExit(f"upload failed with {status}: {data[:500]!r}")
    return seconds, json.loads(data)


def download(port: int, url_path: str, target: str) -> float:
    """Fetch as an anonymous visitor into ``target`` (a file, or /dev/null), moving the body in the kernel.

    The body goes socket -> pipe -> file with splice(2), so the client costs what ``cp``'s
    copy_file_range costs and the figure measures the server (which answers with sendfile).
    """
    os.sync()  # start both contenders with no dirty pages of the previous run to write back
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.settimeout(None)  # splice needs a blocking socket (a timeout makes it non-blocking)
        sock.sendall(f"GET {url_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) hylla-bench\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("the server closed the connection before its headers ended")
            received += chunk
        head, _, body_start = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        if status_line.split()[1] != "200":
            raise SystemExit(f"download failed: {status_line}")
        length = next(int(line.split(":", 1)[1]) for line in header_lines if line.lower().startswith("content-length:"))
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        pipe_out, pipe_in = os.pipe()
        try:
            fcntl.fcntl(pipe_in, fcntl.F_SETPIPE_SZ, MB)
            os.write(out, body_start)
            remaining = length - len(body_start)
            while remaining > 0:
                moved = os.splice(sock.fileno(), pipe_in, min(remaining, MB))
                if moved == 0:
                    raise SystemExit(f"the download stopped {remaining} bytes short")
                remaining -= moved
                while moved:
                    moved -= os.splice(pipe_out, out, moved)
        finally:
            os.close(out)
            os.close(pipe_out)
            os.close(pipe_in)
    return time.perf_counter() - started


def reference_server(source: Path) -> int:
    """The fastest HTTP answer possible here: a bare socket that sends the file with sendfile(2).

    Not Hylla: a yardstick for what loopback TCP itself costs on this machine, so that the gap
    between a download and ``cp`` (which copies inside the kernel) can be read fairly.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    size = source.stat().st_size

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with conn, source.open("rb") as fh:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
                sent = 0
                while sent < size:
                    sent += os.sendfile(conn.fileno(), fh.fileno(), sent, size - sent)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def copy_with_cp(source: Path, target: str) -> float:
    os.sync()
    started = time.perf_counter()
    subprocess.run(["cp", str(source), target], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", "--size", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--tmp", help="folder for the file, the store and the database (default: a new one)")
    parser.add_argument("--target-dir", help="where downloads and copies are written (default: beside the source; "
                                             "/dev/shm takes the disk's write-back out of both)")
    args = parser.parse_args()
    size = args.size_mb * MB

    tmp = Path(tempfile.mkdtemp(prefix="hylla-bench-files-", dir=args.tmp))
    targets = Path(tempfile.mkdtemp(prefix="hylla-bench-targets-", dir=args.target_dir)) if args.target_dir else tmp
    try:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        pub_id = prepare_database(url, tmp)
        source = tmp / "thesis.pdf"
        make_file(source, size)
        expected = file_sha256(source)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "FILES_ROOT": str(tmp / "files"), "SECRET_KEY": "bench",
               "MAX_UPLOAD_BYTES": str(size + MB), "BASE_URL": f"http://127.0.0.1:{port}"}
        proc = start_server(args.server, port, env, tmp / "server.log")
        try:
            pid = worker_pid(proc, args.server)
            client = Client(port)
            token = client.log_in()
            client.request("GET", f"/publications/{pub_id}")  # warm: templates, first queries
            baseline_kb = status_kb(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS

            reference_port = reference_server(source)
            timings: dict[str, list[float]] = {name: [] for name in (
                "upload", "download", "cp", "raw-sendfile", "download-null", "cp-null")}
            for run in range(args.runs):
                seconds, stored = upload(client, token, pub_id, source)
                timings["upload"].append(seconds)
                if stored["sha256"] != expected:
                    raise SystemExit("the stored SHA-256 differs from the file's")
                file_path = str(stored["url"]).removeprefix(f"http://127.0.0.1:{port}")
                saved, copied = targets / "downloaded.pdf", targets / "copied.pdf"
                contenders = [("download", lambda: download(port, file_path, str(saved))),
                              ("cp", lambda: copy_with_cp(source, str(copied))),
                              ("raw-sendfile", lambda: download(reference_port, "/", str(copied) + ".raw")),
                              ("download-null", lambda: download(port, file_path, os.devnull)),
                              ("cp-null", lambda: copy_with_cp(source, os.devnull))]
                for name, measure in contenders if run % 2 == 0 else contenders[::-1]:  # alternate who goes first
                    timings[name].append(measure())
                if file_sha256(saved) != expected:  # checked outside the timed part
                    raise SystemExit(f"run {run}: the downloaded file's SHA-256 differs from the upload's")
                for leftover in (saved, copied, Path(str(copied) + ".raw")):
                    leftover.unlink()
                client.request("POST", f"/files/{stored['id']}/delete", b"",
                               {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded",
                                "Accept": "application/json"})
            peak_kb = status_kb(pid, "VmHWM")
        finally:
            proc.terminate()
            proc.wait(timeout=30)

        mb = size / MB
        medians = {name: statistics.median(values) for name, values in timings.items()}
        growth_mb = (peak_kb - baseline_kb) / 1024
        print(f"server: {args.server} (1 sync worker), file: {mb:.0f} MiB, runs: {args.runs}, "
              f"written to: {targets}, medians:")
        for name, values in timings.items():
            runs = ", ".join(f"{v:.2f}" for v in values)
            print(f"  {name:14} {medians[name]:6.2f} s = {mb / medians[name]:6.0f} MiB/s   (runs: {runs})")
        print(f"download to a file vs cp to a file: {medians['cp'] / medians['download']:.0%} (target >= 80%)")
        print(f"download to a file vs a bare sendfile server to a file (loopback TCP's own cost): "
              f"{medians['raw-sendfile'] / medians['download']:.0%}")
        print(f"download to /dev/null vs cp to /dev/null (reading only): "
              f"{medians['cp-null'] / medians['download-null']:.0%}")
        print(f"server worker RSS: {baseline_kb / 1024:.1f} MiB before, peak {peak_kb / 1024:.1f} MiB, "
              f"growth {growth_mb:.1f} MiB over {args.runs} uploads and {2 * args.runs} downloads (target < 64 MiB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.target_dir:
            shutil.rmtree(targets, ignore_errors=True)


if __name__ == "__main__":
    main()
