"""People, records and sample file bytes shared by the file tests."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from repository.db import session
from repository.models import Publication, User
from repository.services import records
from repository.storage import FileStore
from tests import factories

# A small but real PDF: a viewer opens it, and its header is what content sniffing looks for.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class World:
    people: dict[str, User]
    published: Publication
    draft: Publication

    def __getitem__(self, name: str) -> User:
        return self.people[name]


@pytest.fixture
def world(app: Flask) -> World:
    uu = factories.institution()
    kth = factories.institution("kth", "KTH Royal Institute of Technology", "kth.se")
    people = {
        "owner": factories.user("submitter", uu),
        "other": factories.user("submitter", uu),
        "editor": factories.user("editor", uu),
        "kth_editor": factories.user("editor", kth),
        "admin": factories.user("administrator", kth),
    }
    published = records.create_publication(people["owner"], factories.article())
    records.publish_now(people["editor"], published.id, urn_prefix="urn:nbn:se")
    draft = records.create_publication(people["owner"], factories.article(titles=[{"title": "Utkast"}]))
    return World(people, published, draft)


@pytest.fixture
def store(app: Flask) -> FileStore:
    return FileStore(app.config["FILES_ROOT"])


def stored_paths(root: str | Path) -> list[Path]:
    """Every file under the store's root (blobs, temporary files), lock files aside."""
    base = Path(root)
    if not base.exists():
        return []
    return sorted(p for p in base.rglob("*") if p.is_file() and ".locks" not in p.parts)


def log_in(client: FlaskClient, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def multipart(fields: dict[str, str], filename: str, data: bytes, content_type: str = "application/octet-stream",
              boundary: str = "hyllaBoundary7MA4YWxkTrZu0gW") -> tuple[bytes, str]:
    """A multipart/form-data body built by hand, so a test can cut it anywhere."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def row_count(model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0
