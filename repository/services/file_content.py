"""What an uploaded file is: a safe version of its name, and its type read from its own bytes.

Neither the name nor the type a client sends can be trusted: a name may carry path parts or
control characters, and a declared ``application/pdf`` may be an HTML page that would run
script on our origin if it were served as what it claims to be.

The type comes from ``puremagic``, a pure-Python signature matcher: ``python-magic`` would
need the libmagic C library, which a fresh machine does not have, and ``filetype`` knows
neither markup (HTML, SVG, XML) nor the old Office formats. puremagic reads only a file's
first and last bytes, so it cannot tell a Word document from any other ZIP archive; ZIP
containers are told apart here by the names inside them.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

import puremagic

from repository.errors import Invalid

MAX_FILENAME_BYTES = 255
SNIFF_BYTES = 64 * 1024
OCTET_STREAM = "application/octet-stream"
MIN_CONFIDENCE = 0.3

# Unicode categories that never belong in a file name: controls, format characters (the
# right-to-left override turns "gpj.exe" into "exe.jpg" on screen), lone surrogates.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_MIME = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]*$")

_ZIP_MIMES = frozenset({
    "application/zip", "application/x-zip-compressed",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.ms-excel.template.macroenabled.12",
})
_OOXML_PARTS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Plain text says nothing about its flavour, so among text types the suffix may choose;
# all of them are served as attachments with nosniff, so a wrong suffix cannot do harm.
_TEXT_SUFFIXES = {
    ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".md": "text/markdown",
    ".bib": "application/x-bibtex", ".ris": "application/x-research-info-systems",
    ".tex": "application/x-tex", ".json": "application/json", ".r": "text/x-r", ".py": "text/x-python",
}
_ALIASES = {"application/x-gzip": "application/gzip", "application/x-zip-compressed": "application/zip",
            "image/jpg": "image/jpeg", "application/x-pdf": "application/pdf"}


def sanitise_filename(name: str) -> str:
    """The name a file is kept and offered under: its last path part, printable, NFC, at most 255 bytes.

    Letters of any script stay (``Ålgräs.pdf`` remains ``Ålgräs.pdf``); path separators, drive
    letters, control and bidirectional-format characters go, and leading dots (hidden files,
    ``..``) are stripped.
    """
    text = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    text = _DRIVE.sub("", text)
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if unicodedata.category(ch) not in _DROPPED_CATEGORIES or ch in "\t\n\r")
    text = " ".join(text.split()).strip(" .")
    if not text:
        raise Invalid({"filename": [f"the file name {name!r} has nothing left once path parts and control "
                                    "characters are removed; rename the file and upload it again"]})
    return _truncate(text)


def _truncate(name: str) -> str:
    """Shorten a long name to 255 UTF-8 bytes, keeping its suffix so the file still opens."""
    if len(name.encode("utf-8")) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 16 or " " in suffix:
        stem, suffix = name, ""
    tail = f".{suffix}" if suffix else ""
    budget = MAX_FILENAME_BYTES - len(tail.encode("utf-8"))
    kept = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return kept + tail


def detect_mime_type(path: Path, filename: str) -> str:
    """The MIME type of the file at ``path``, from its content (``filename`` only flavours plain text)."""
    match = _best_signature(path)
    if match is not None:
        mime = _ALIASES.get(match, match)
        return _zip_type(path) if mime in _ZIP_MIMES else mime
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if _is_text(head):
        return _TEXT_SUFFIXES.get(Path(filename).suffix.lower(), "text/plain")
    return OCTET_STREAM


def _best_signature(path: Path) -> str | None:
    try:
        matches = puremagic.magic_file(str(path))
    except (puremagic.PureError, ValueError):
        return None
    usable = [m for m in matches if m.confidence >= MIN_CONFIDENCE and _MIME.match(m.mime_type or "")]
    if not usable:
        return None
    # A stable choice among equals: puremagic lists the most specific signature first.
    return max(usable, key=lambda m: m.confidence).mime_type


def _zip_type(path: Path) -> str:
    """Tell ZIP containers apart by what they hold: ODF and EPUB name their type, OOXML its parts."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if _MIME.match(declared):
                    return declared
    except (zipfile.BadZipFile, OSError):
        return "application/zip"
    if "[Content_Types].xml" in names:
        for prefix, mime in _OOXML_PARTS.items():
            if any(n.startswith(prefix) for n in names):
                return mime
    return "application/zip"


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL or other control characters (tabs, newlines, form feeds allowed)."""
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # a character cut at the end of the sniffed block is fine
            return False
        text = head[:exc.start].decode("utf-8")
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)
