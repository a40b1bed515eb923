"""Downloads and uploads of stored files: the HTTP side (ranges, caching, names) of services/files.py.

Downloads go through werkzeug's ``send_file`` with ``conditional=True``, which answers
If-None-Match / If-Modified-Since with 304 and single byte ranges with 206, and streams the
file from disk in blocks. Uploads are parsed by werkzeug's multipart parser with a stream
factory that writes the file part straight into the store's incoming area, hashing as it
goes: the body is never held in memory nor copied through /tmp.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from flask import (
    Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for,
)
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestedRangeNotSatisfiable, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from wtforms import ValidationError

from exports import readmodel as rm
from repository.auth import acting_user
from repository.errors import Invalid, PermissionDenied
from repository.models import StoredFile, utcnow
from repository.services import downloads, files
from repository.storage import IncomingBlob, IncompleteUpload, UploadTooLarge, format_size
from repository.web import csrf
from repository.web.context import site

bp = Blueprint("files", __name__)

# Types a browser may show in the page; everything else (HTML, SVG, scripts...) is a download,
# so an uploaded page can never run script on the repository's origin.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"})
FORM_OVERHEAD = 1024 * 1024  # the non-file fields and multipart boundaries of an upload form
MAX_FORM_FIELD_BYTES = 512 * 1024  # also bounds the parser's buffer, which reads 64 KiB at a time
MAX_FORM_PARTS = 32



@bp.app_template_global()
def file_download_counts(pub: rm.Publication) -> dict[int, int]:
    """Counted downloads of each file of a landing page, in one query."""
    return downloads.download_counts(f.id for f in pub.files)


@bp.route("/files/<int:file_id>/<path:filename>", methods=["GET", "HEAD"])
def download(file_id: int, filename: str) -> Any:
    found = files.get_download(acting_user(), file_id)
    stored = found.file
    if unicodedata.normalize("NFC", filename) != stored.original_filename:
        # Old links (before a rename or replacement) keep working and lead to the current name.
        return redirect(url_for("files.download", file_id=file_id, filename=stored.original_filename), 308)
    try:
        response = send_file(
            found.path, mimetype=stored.mime_type, as_attachment=stored.mime_type not in INLINE_TYPES,
            download_name=stored.original_filename, conditional=True, etag=stored.sha256,
            last_modified=stored.created_at)
    except RequestedRangeNotSatisfiable:
        response = Response(f"The requested range is not within the {stored.size} bytes of this file, or asks "
                            "for more than one range.\n", 416, mimetype="text/plain")
        response.headers["Content-Range"] = f"bytes */{stored.size}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.add("Link", f'<{site().landing_url(found.publication.id)}>; rel="collection"; type="text/html"')
    if not found.public:
        response.cache_control.private = True
    if _counts(response):
        downloads.record_download(stored, address=request.remote_addr or "", user_agent=request.user_agent.string,
                                  now=utcnow(), secret=current_app.config["SECRET_KEY"])
    return response


def _counts(response: Response) -> bool:
    """A download is the whole file, or a range from its first byte (PDF viewers fetch in pieces)."""
    if request.method != "GET":
        return False
    if response.status_code == 200:
        return True
    return response.status_code == 206 and request.range is not None and request.range.ranges[0][0] == 0


@bp.post("/publications/<int:publication_id>/files")
@csrf.exempt  # checked in _parse_upload once the form is read: CSRFProtect would spool the body to /tmp
def upload(publication_id: int) -> Any:
    actor = acting_user()
    files.editable_publication(actor, publication_id)  # refuse before reading a single byte
    with _UploadForm() as (form, part_name, part_type, incoming):
        terms = _terms(form)
        row = files.upload(actor, publication_id, incoming, part_name, declared_mime=part_type, role=terms.role,
                           access=terms.access, embargo_until=terms.embargo_until, licence=terms.licence,
                           version=terms.version)
    return _done(row, form, f"Uploaded {row.original_filename} ({row.mime_type}, {format_size(row.size)}).", 201)


@bp.post("/files/<int:file_id>/replace")
@csrf.exempt  # as for upload
def replace(file_id: int) -> Any:
    actor = acting_user()
    files.editable_file(actor, file_id)
    with _UploadForm() as (form, part_name, part_type, incoming):
        row = files.replace(actor, file_id, incoming, part_name, declared_mime=part_type)
    return _done(row, form, f"Replaced the file with {row.original_filename}.", 200)


@bp.post("/files/<int:file_id>/terms")
def terms(file_id: int) -> Any:
    row = files.update_terms(acting_user(), file_id, _terms(request.form))
    return _done(row, request.form, f"Saved the access terms of {row.original_filename}.", 200)


@bp.post("/files/<int:file_id>/delete")
def delete(file_id: int) -> Any:
    row, pub = files.editable_file(acting_user(), file_id)
    name = row.original_filename
    files.delete(acting_user(), file_id)
    if _wants_json():
        return Response(status=204)
    flash(f"Removed {name}.")
    return redirect(_next_url(request.form, pub.id), 303)


class _UploadForm:
    """Parse a multipart upload into the store; the staged file is removed unless a service installed it."""

    def __init__(self) -> None:
        self.staged: list[IncomingBlob] = []

    def _factory(self, total_content_length: int | None, content_type: str | None, filename: str | None,
                 content_length: int | None = None) -> IncomingBlob:
        if self.staged:
            raise Invalid({"file": ["send one file per upload"]})
        incoming = files.file_store().incoming(files.max_upload_bytes())
        self.staged.append(incoming)
        return incoming

    def __enter__(self) -> tuple[MultiDict[str, str], str, str | None, IncomingBlob]:
        limit = files.max_upload_bytes()
        if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
            raise UploadTooLarge(limit)
        if request.mimetype != "multipart/form-data":
            raise Invalid({"file": ["send the file as multipart/form-data"]})
        csrf_header = request.headers.get("X-CSRFToken")
        if csrf_header:
            _check_csrf(csrf_header)  # a script's token: refuse before reading the body
        parser = FormDataParser(stream_factory=self._factory, max_form_memory_size=MAX_FORM_FIELD_BYTES,
                                max_form_parts=MAX_FORM_PARTS, silent=False)
        try:
            _, form, uploaded = parser.parse_from_environ(request.environ)
            if not csrf_header:
                _check_csrf(form.get("csrf_token", ""))
            part = uploaded.get("file")
            if part is None or not self.staged:
                raise Invalid({"file": ["choose a file to upload (the form field is called 'file')"]})
        except (UploadTooLarge, IncompleteUpload):
            self._abort()
            raise
        except (ValueError, ClientDisconnected) as exc:  # werkzeug's words for a body that ended early
            self._abort()
            raise IncompleteUpload(self.staged[0].size if self.staged else 0, request.content_length or 0) from exc
        except BaseException:
            self._abort()
            raise
        return form, part.filename or "", part.content_type, self.staged[0]

    def __exit__(self, *exc: object) -> None:
        self._abort()

    def _abort(self) -> None:
        for incoming in self.staged:
            incoming.abort()


def _check_csrf(token: str) -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise PermissionDenied(f"the form's security token is not valid ({exc}); reload the page and try again") from None


def _terms(form: MultiDict[str, str]) -> files.FileTerms:
    raw = (form.get("embargo_until") or "").strip()
    try:
        until = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        raise Invalid({"embargo_until": [f"write the date as YYYY-MM-DD (not {raw!r})"]}) from None
    return files.FileTerms(role=form.get("role") or "fulltext", access=form.get("access") or "open",
                           embargo_until=until, licence=(form.get("licence") or "").strip() or None,
                           version=form.get("version") or None)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _next_url(form: MultiDict[str, str], publication_id: int) -> str:
    target = form.get("next", "")
    # Only local paths: an open redirect would let a phishing link borrow our forms.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.publication", publication_id=publication_id)
    return target


def _done(row: StoredFile, form: MultiDict[str, str], message: str, status: int) -> Any:
    if _wants_json():
        response = jsonify(file_json(row))
        response.status_code = status
        response.headers["Location"] = file_url(row)
        return response
    flash(message)
    return redirect(_next_url(form, row.publication_id), 303)


def file_url(row: StoredFile) -> str:
    return site().file_url(row.id, row.original_filename)


def file_json(row: StoredFile) -> dict[str, Any]:
    """A stored file as the JSON API and the upload endpoint describe it."""
    return {
        "id": row.id, "publication_id": row.publication_id, "filename": row.original_filename,
        "mime_type": row.mime_type, "size": row.size, "sha256": row.sha256, "md5": row.md5, "role": row.role,
        "access": row.access, "embargo_until": row.embargo_until.isoformat() if row.embargo_until else None,
        "licence": row.licence, "version": row.version, "url": file_url(row),
        "created_at": row.created_at.isoformat(),
    }


@bp.errorhandler(UploadTooLarge)
def _too_large(exc: UploadTooLarge) -> Any:
    return _problem(413, "File too large", f"{exc}; nothing was stored. Ask the library about larger files.")


@bp.errorhandler(RequestEntityTooLarge)
def _form_too_large(exc: RequestEntityTooLarge) -> Any:
    return _problem(413, "Form too large", "the form has too many parts or too long fields; nothing was stored")


@bp.errorhandler(IncompleteUpload)
def _incomplete(exc: IncompleteUpload) -> Any:
    return _problem(400, "Upload incomplete", "the upload did not arrive whole (the connection was cut or the "
                    "form was malformed); nothing was stored, please try again")


@bp.errorhandler(files.MissingBlob)
def _missing(exc: files.MissingBlob) -> Any:
    return _problem(500, "File unavailable", "the stored copy of this file cannot be read; the repository staff "
                    "have been told")


def _problem(status: int, title: str, detail: str) -> Any:
    """An RFC 9457 problem for scripts, an error page for people."""
    if _wants_json():
        response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors/error.html", status=status, title=title, message=detail), status
