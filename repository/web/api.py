"""The JSON REST API under /api/: deposit by script with the same services as the web forms.

Scripts authenticate with ``Authorization: Bearer <token>`` (``flask users token EMAIL``); such
requests carry no cookie a third-party page could ride on, so they are exempt from CSRF. A
browser session may use the API too, and then sends its CSRF token in ``X-CSRFToken``.
Errors are RFC 9457 problem documents; invalid fields are listed with their paths.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from repository.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from repository.models import Publication, User
from repository.schemas import api as schemas
from repository.schemas.publication import PublicationSchema
from repository.services import deposit, duplicates, files, records, tokens
from repository.storage import IncompleteUpload, UploadTooLarge
from repository.web import csrf
from repository.web.context import site

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # token requests need none; session requests are checked in _authenticate

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://hylla.example.org/problems/"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _actor() -> User:
    return g.api_user  # type: ignore[no-any-return]


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = tokens.user_for(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return problem(401, "Not authenticated", "the token is unknown, revoked or malformed; "
                           "send Authorization: Bearer <token>", headers={"WWW-Authenticate": 'Bearer realm="hylla"'})
        g.api_user = user
        return None
    if current_user.is_authenticated:
        if request.method in UNSAFE:
            csrf.protect()  # a browser session: a forged cross-site request must not pass
        g.api_user = current_user._get_current_object()  # type: ignore[attr-defined]
        return None
    return problem(401, "Not authenticated", "send Authorization: Bearer <token>; an administrator issues tokens "
                   "with `flask users token EMAIL`", headers={"WWW-Authenticate": 'Bearer realm="hylla"'})


def problem(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    body = {"type": PROBLEM_TYPES + title.lower().replace(" ", "-"), "title": title, "status": status,
            "detail": detail, "instance": request.path, **extra}
    response = current_app.response_class(schemas.Problem().dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _pointer(path: str) -> str:
    """``contributors[0].orcid`` as the JSON Pointer ``/contributors/0/orcid``."""
    return "/" + path.replace("[", ".").replace("]", "").replace(".", "/") if path != "_schema" else ""


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid) -> Response:
    errors = [{"path": path, "pointer": _pointer(path), "detail": message}
              for path, messages in exc.errors.items() for message in messages]
    return problem(422, "Invalid input", f"{len(errors)} field(s) are not valid", errors=errors)


@bp.errorhandler(duplicates.PossibleDuplicates)
def _duplicates(exc: duplicates.PossibleDuplicates) -> Response:
    return problem(409, "Possible duplicate", "a record like this exists; repeat the request with "
                   "?allow_duplicate=true if yours is a different publication",
                   duplicates=[schemas.DuplicateOut().dump(c) for c in exc.candidates])


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return problem(404, "Not found", str(exc))


@bp.errorhandler(PermissionDenied)
def _forbidden(exc: PermissionDenied) -> Response:
    return problem(403, "Forbidden", str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Response:
    return problem(409, "Conflict", str(exc))


@bp.errorhandler(Gone)
def _gone(exc: Gone) -> Response:
    return problem(410, "Gone", str(exc))


@bp.errorhandler(UploadTooLarge)
def _too_large(exc: UploadTooLarge) -> Response:
    return problem(413, "File too large", f"{exc}; nothing was stored")


@bp.errorhandler(IncompleteUpload)
def _incomplete(exc: IncompleteUpload) -> Response:
    return problem(400, "Upload incomplete", "the body ended before Content-Length bytes arrived; nothing was stored")


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    return problem(exc.code or 500, exc.name, exc.description or exc.name)


def _json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid({"_schema": ["send the publication as a JSON object with Content-Type: application/json"]})
    return data


def _record(pub: Publication, status: int = 200) -> Response:
    response = jsonify(schemas.RecordOut(site=site()).dump(pub))
    response.status_code = status
    response.set_etag(str(pub.version))
    return response


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


@bp.get("/publications")
def list_own() -> Response:
    state = request.args.get("state") or None
    pubs = deposit.my_publications(_actor(), state=state)
    return jsonify({"items": schemas.RecordOut(site=site(), many=True).dump(pubs), "total": len(pubs)})


@bp.post("/publications")
def create() -> Response:
    pub = deposit.create_draft(_actor(), _json_body(), allow_duplicates=_flag("allow_duplicate"))
    response = _record(pub, 201)
    response.headers["Location"] = url_for("api.get", publication_id=pub.id)
    return response


@bp.get("/publications/<int:publication_id>")
def get(publication_id: int) -> Response:
    return _record(records.get_publication(_actor(), publication_id))


@bp.patch("/publications/<int:publication_id>")
def update(publication_id: int) -> Response:
    """Replace the top-level parts given in the body (the others stay as they are).

    If-Match must carry the ETag (the version) the change was made from, so that a newer save by
    someone else is refused instead of overwritten.
    """
    if not request.if_match or request.if_match.star_tag:
        return problem(428, "Precondition required", "send If-Match with the ETag of the record you changed, "
                       "so that a newer save by someone else is not overwritten")
    versions = [tag for tag in request.if_match.as_set() if tag.isdigit()]
    if len(versions) != 1:
        return problem(412, "Precondition failed", "If-Match must carry exactly one ETag of this record")
    data = _json_body()
    if not isinstance(data, dict):
        raise Invalid({"_schema": ["send a JSON object with the parts of the publication to change"]})
    return _record(deposit.update_draft(_actor(), publication_id, data, int(versions[0])))


@bp.post("/publications/<int:publication_id>/files")
def upload(publication_id: int) -> Response:
    """The request body is the file itself (streamed into the store); its name comes in ?filename=."""
    filename = request.args.get("filename", "")
    if not filename:
        raise Invalid({"filename": ["give the file's name as ?filename=..."]})
    embargo = request.args.get("embargo_until") or None
    try:
        until = dt.date.fromisoformat(embargo) if embargo else None
    except ValueError:
        raise Invalid({"embargo_until": [f"write the date as YYYY-MM-DD (not {embargo!r})"]}) from None
    row = files.upload(_actor(), publication_id, request.stream, filename, declared_mime=request.mimetype or None,
                       role=request.args.get("role") or "fulltext", access=request.args.get("access") or "open",
                       embargo_until=until, licence=request.args.get("licence") or None,
                       version=request.args.get("version") or None, expected_size=request.content_length)
    body = schemas.FileOut().dump(row)
    body["url"] = site().file_url(row.id, row.original_filename)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["url"]
    return response


@bp.post("/publications/<int:publication_id>/submit")
def submit(publication_id: int) -> Response:
    data = request.get_json(silent=True) or {}
    try:
        loaded = schemas.SubmitIn().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise Invalid({k: [str(m) for m in v] for k, v in exc.messages.items()}) from None  # type: ignore[union-attr]
    pub = deposit.submit(_actor(), publication_id, site(), current_app.config["URN_NBN_PREFIX"],
                         comment=loaded.get("comment"))
    return _record(pub)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(current_app.config["REPOSITORY_NAME"], current_app.config["BASE_URL"]))


def openapi_document(name: str, base_url: str) -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, built from the same marshmallow schemas the API uses.

    apispec writes the schema objects from the marshmallow classes, so the description cannot
    drift from the validation; it is a small, long-maintained library of the marshmallow project.
    """
    spec = APISpec(title=f"{name} deposit API", version="1.0.0", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()], servers=[{"url": base_url}],
                   info={"description": "Deposit publications by script: create a draft, change it, upload its "
                                        "files and submit it for review."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "Issued by `flask users token EMAIL`."})
    spec.components.schema("PublicationInput", schema=PublicationSchema)
    spec.components.schema("File", schema=schemas.FileOut)  # before Record, which nests it
    spec.components.schema("Record", schema=schemas.RecordOut)
    spec.components.schema("RecordList", schema=schemas.RecordList)
    spec.components.schema("Submit", schema=schemas.SubmitIn)
    spec.components.schema("Problem", schema=schemas.Problem)
    problem_ref = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}

    def answers(ok: int, schema: str, *errors: int) -> dict[str, Any]:
        result: dict[str, Any] = {str(ok): {"description": "Success", "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}
        for code in (401, *errors):
            result[str(code)] = {"description": _STATUS_TEXT[code], **problem_ref}
        return result

    record_id = {"name": "publication_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    json_body = {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/PublicationInput"}}}}
    spec.path(path="/api/publications", operations={
        "get": {"summary": "List your own publications", "operationId": "listOwn",
                "parameters": [{"name": "state", "in": "query", "schema": {"type": "string"}}],
                "responses": answers(200, "RecordList")},
        "post": {"summary": "Create a draft", "operationId": "createDraft", "requestBody": json_body,
                 "parameters": [{"name": "allow_duplicate", "in": "query", "schema": {"type": "boolean"}}],
                 "responses": answers(201, "Record", 409, 422)}})
    spec.path(path="/api/publications/{publication_id}", operations={
        "get": {"summary": "Get a publication you may read", "operationId": "getPublication",
                "parameters": [record_id], "responses": answers(200, "Record", 404, 410)},
        "patch": {"summary": "Change parts of a draft (top-level keys of PublicationInput)",
                  "operationId": "updatePublication",
                "parameters": [record_id, {"name": "If-Match", "in": "header", "required": True,
                                           "schema": {"type": "string"}}],
                "requestBody": json_body, "responses": answers(200, "Record", 403, 404, 409, 412, 422, 428)}})
    spec.path(path="/api/publications/{publication_id}/files", operations={
        "post": {"summary": "Upload a file (the body is the file)", "operationId": "uploadFile",
                 "parameters": [record_id] + [{"name": n, "in": "query", "required": n == "filename",
                                               "schema": {"type": "string"}}
                                              for n in ("filename", "role", "access", "embargo_until", "licence",
                                                        "version")],
                 "requestBody": {"required": True, "content": {"application/octet-stream": {
                     "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
                 "responses": answers(201, "File", 400, 403, 404, 413, 422)}})
    spec.path(path="/api/publications/{publication_id}/submit", operations={
        "post": {"summary": "Submit a draft for review", "operationId": "submit", "parameters": [record_id],
                 "requestBody": {"required": False, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/Submit"}}}},
                 "responses": answers(200, "Record", 403, 404, 409, 422)}})
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document


_STATUS_TEXT = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
                410: "Gone", 412: "Precondition failed", 413: "File too large", 422: "Invalid input",
                428: "Precondition required"}

