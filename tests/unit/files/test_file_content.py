"""File names made safe, and types read from the bytes whatever the client claims."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from repository.errors import Invalid
from repository.services.file_content import detect_mime_type, sanitise_filename
from tests.unit.files.conftest import PDF, PNG, zip_bytes


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    ("C:\\Users\\åsa\\Avhandling.pdf", "Avhandling.pdf"),
    ("C:thesis.pdf", "thesis.pdf"),
    ("/absolute/path/report.pdf", "report.pdf"),
    ("..", None),
    ("bad\x00name\x1b[31m.pdf", "badname[31m.pdf"),
    ("line\nbreak\ttab.pdf", "line break tab.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),  # the right-to-left override that hides ".exe"
    ("  .hidden.pdf  ", "hidden.pdf"),
    ("Ålgräs och öar \"utkast\".pdf", "Ålgräs och öar \"utkast\".pdf"),
    ("論文.pdf", "論文.pdf"),
])
def test_sanitised_names(given: str, kept: str | None) -> None:
    if kept is None:
        with pytest.raises(Invalid) as caught:
            sanitise_filename(given)
        assert "filename" in caught.value.errors
    else:
        assert sanitise_filename(given) == kept


def test_names_are_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Ålgräs.pdf")
    assert len(decomposed) > len("Ålgräs.pdf")
    assert sanitise_filename(decomposed) == "Ålgräs.pdf"


def test_long_names_keep_their_suffix_and_whole_characters() -> None:
    name = sanitise_filename("ö" * 300 + ".pdf")
    assert name.endswith("ö.pdf") and len(name.encode("utf-8")) <= 255
    assert len(sanitise_filename("a" * 400).encode()) == 255


def test_names_of_only_controls_are_refused() -> None:
    with pytest.raises(Invalid):
        sanitise_filename("\x00\x01\x02")


def write(tmp_path: Path, data: bytes, name: str = "blob") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "claimed_name", "expected"), [
    (PDF, "innocent.docx", "application/pdf"),
    (PNG, "photo.pdf", "image/png"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "paper.pdf", "text/html"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "figure.png", "image/svg+xml"),
    (zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "thesis.zip",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}), "data.docx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "a.pdf",
     "application/vnd.oasis.opendocument.text"),
    (zip_bytes({"data/measurements.csv": b"a,b\n1,2\n"}), "supplement.docx", "application/zip"),
    ("år;värde\n2021;3\n".encode(), "data.csv", "text/csv"),
    ("år;värde\n2021;3\n".encode(), "data.pdf", "text/plain"),
    (bytes(range(256)) * 4, "data.txt", "application/octet-stream"),
])
def test_types_come_from_the_content(tmp_path: Path, data: bytes, claimed_name: str, expected: str) -> None:
    assert detect_mime_type(write(tmp_path, data), claimed_name) == expected


def test_a_character_cut_at_the_end_of_the_sniffed_block_is_still_text(tmp_path: Path) -> None:
    text = b"a" + ("å" * 40_000).encode()  # byte 65,536 is the first half of an "å"
    assert detect_mime_type(write(tmp_path, text), "notes.txt") == "text/plain"
    assert detect_mime_type(write(tmp_path, text[:1000] + b"\xff\xfe" + text[1000:]), "notes.txt") == \
        "application/octet-stream"
