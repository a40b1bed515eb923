"""The JSON API's output shapes and its problem documents (RFC 9457); input is ``PublicationSchema``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from repository.schemas.record import PublicationData
from repository.services.readmodel import Site


class _Out(Schema):
    class Meta:
        ordered = True


class FileOut(_Out):
    id = fields.Integer()
    filename = fields.String(attribute="original_filename")
    mime_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    md5 = fields.String()
    role = fields.String()
    access = fields.String()
    embargo_until = fields.Date(allow_none=True)
    licence = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    url = fields.String(dump_default=None, metadata={"description": "Where the file is downloaded"})


class RecordOut(_Out):
    """A record as the API returns it: its state, the version to send back in If-Match, and its metadata."""

    id = fields.Integer()
    state = fields.String()
    version = fields.Integer()
    urn_nbn = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime(allow_none=True)
    public_from = fields.AwareDateTime(allow_none=True)
    url = fields.String(dump_default=None, metadata={"description": "The landing page"})
    metadata = fields.Nested(PublicationData, attribute="metadata_view")
    files = fields.List(fields.Nested(FileOut))

    def __init__(self, *, site: Site | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site = site

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "metadata_view":
            return obj  # the metadata is dumped from the record itself
        return super().get_attribute(obj, attr, default)

    @post_dump(pass_original=True)
    def _urls(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        """URLs depend on the site's base URL, which the caller passes in."""
        if self.site is not None:
            data["url"] = self.site.landing_url(original.id)
            for out, row in zip(data.get("files", []), original.files):
                out["url"] = self.site.file_url(row.id, row.original_filename)
        return data


class RecordList(_Out):
    items = fields.List(fields.Nested(RecordOut))
    total = fields.Integer()


class SubmitIn(Schema):
    comment = fields.String(allow_none=True, load_default=None)


class FieldProblem(_Out):
    path = fields.String(metadata={"description": "Field path, e.g. contributors[0].orcid"})
    pointer = fields.String(metadata={"description": "The same as a JSON Pointer into the request body"})
    detail = fields.String()


class DuplicateOut(_Out):
    publication_id = fields.Integer()
    title = fields.String()
    year = fields.Integer(allow_none=True)
    state = fields.String()
    reason = fields.String()


class Problem(_Out):
    """RFC 9457 problem details, with the invalid fields and possible duplicates as extension members."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldProblem))
    duplicates = fields.List(fields.Nested(DuplicateOut))


class TokenIssued(_Out):
    id = fields.Integer()
    token = fields.String()
