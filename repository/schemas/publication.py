"""The publication's JSON form: the one place where publication input is validated and shaped.

Loading returns plain dicts with normalised values (DOI lower-case, ISSN hyphenated, SSIF 2011
codes mapped to 2025) that services write as they are. Every error names its field path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from marshmallow import (
    EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema,
)

from exports import identifiers, vocabularies
from exports.readmodel import (
    CONTENT_TYPES, PUBLICATION_STATUSES, PUBLICATION_TYPES, THESIS_LEVELS, PartialDate,
)
from repository.errors import Invalid

ROLE_CODES = ("aut", "cre", "edt", "ths", "exm", "opn", "trl", "ctb", "pbl", "ill", "cmp", "prf", "org")
ROLE_LABELS = {
    "aut": "Author", "cre": "Creator", "edt": "Editor", "ths": "Supervisor", "exm": "Examiner",
    "opn": "Opponent", "trl": "Translator", "ctb": "Contributor", "pbl": "Publisher", "ill": "Illustrator",
    "cmp": "Composer", "prf": "Performer", "org": "Originator",
}
HOST_KINDS = ("journal", "book", "proceedings", "other")
EARLIEST_YEAR = 1000


def _text(max_len: int, required: bool = False) -> fields.String:
    """A trimmed text field; blank input counts as missing."""
    return fields.String(required=required, allow_none=not required,
                         validate=validate.Length(min=1, max=max_len),
                         error_messages={"null": "must not be empty", "required": "is required"})


def _normalised(scheme: str) -> Callable[[str], str]:
    def rule(value: str) -> str:
        try:
            return identifiers.normalise_identifier(scheme, value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    return rule


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        """Trim strings and turn blank ones into None, so "  " never passes as a title."""
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip() or None
            cleaned[key] = value
        return cleaned


class _NormalisedField(fields.String):
    """A string normalised by an identifier rule (ISSN, ORCID...) while loading."""

    def __init__(self, scheme: str, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)
        self._rule = _normalised(scheme)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        return self._rule(text) if text else None


class LanguageCode(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not vocabularies.is_language_code(code):
            raise ValidationError(f"{code!r} is not an ISO 639-2 language code (e.g. swe, eng)")
        return vocabularies.to_bibliographic(code)


class SubjectCode(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return vocabularies.map_subject_code(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class IssuedDate(fields.String):
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, not before 1000 nor after next year."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> PartialDate:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            date = PartialDate.parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        latest = dt.date.today().year + 1
        if not EARLIEST_YEAR <= date.year <= latest:
            raise ValidationError(f"year {date.year} is not plausible: it must lie between {EARLIEST_YEAR} and {latest}")
        return date


class TitleSchema(_Base):
    title = _text(4000, required=True)
    subtitle = _text(4000)
    lang = LanguageCode(allow_none=True)
    kind = fields.String(load_default="main", validate=validate.OneOf(("main", "translated", "alternative")))


class LangTextSchema(_Base):
    text = _text(100_000, required=True)
    lang = LanguageCode(allow_none=True)


class KeywordSchema(_Base):
    term = _text(500, required=True)
    lang = LanguageCode(allow_none=True)
    scheme = _text(32)


class IdentifierSchema(_Base):
    scheme = fields.String(required=True, validate=validate.OneOf(identifiers.IDENTIFIER_SCHEMES))
    value = _text(500, required=True)
    qualifier = _text(32)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        try:
            data["value"] = identifiers.normalise_identifier(data["scheme"], data["value"])
        except ValueError as exc:
            raise ValidationError({"value": [str(exc)]}) from None
        return data


class AffiliationSchema(_Base):
    org_unit_id = fields.Integer(allow_none=True, strict=True)
    name = _text(500)
    country = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="use an ISO 3166 two-letter country code"))

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("org_unit_id") and not data.get("name"):
            raise ValidationError("give an organisation unit or the affiliation as text", "name")


class ContributorSchema(_Base):
    family = _text(255)
    given = _text(255)
    corporate_name = _text(500)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_CODES)), load_default=lambda: ["aut"],
                        validate=validate.Length(min=1, error="a contributor needs at least one role"))
    orcid = _NormalisedField("orcid")
    local_id = _text(64)
    person_id = fields.Integer(allow_none=True, strict=True)
    scope = fields.String(load_default="work", validate=validate.OneOf(("work", "host")))
    affiliations = fields.List(fields.Nested(AffiliationSchema), load_default=list)

    @validates_schema
    def _named(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("corporate_name") and (data.get("family") or data.get("given")):
            raise ValidationError("a contributor is either a person (family and given name) or a corporate body, not both", "corporate_name")
        if not data.get("corporate_name") and not data.get("family") and not data.get("person_id"):
            raise ValidationError("a person needs a family name", "family")


class HostSchema(_Base):
    kind = fields.String(load_default="journal", validate=validate.OneOf(HOST_KINDS))
    title = _text(1000, required=True)
    subtitle = _text(1000)
    issn = _NormalisedField("issn")
    eissn = _NormalisedField("eissn")
    isbn = _NormalisedField("isbn")
    volume = _text(64)
    issue = _text(64)
    article_number = _text(64)
    page_start = _text(32)
    page_end = _text(32)
    publisher = _text(500)
    place = _text(255)


class ConferenceSchema(_Base):
    name = _text(1000, required=True)
    place = _text(255)
    start = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("the conference cannot end before it starts", "end")


class SeriesSchema(_Base):
    title = _text(1000, required=True)
    issn = _NormalisedField("issn")
    eissn = _NormalisedField("eissn")
    number = _text(64)


class FundingSchema(_Base):
    funder = _text(500, required=True)
    funder_id = _text(255)
    project_title = _text(1000)
    project_id = _text(255)
    grant_id = _text(255)


class LinkSchema(_Base):
    url = fields.Url(required=True, schemes={"http", "https"})
    label = _text(500)


class RelationSchema(_Base):
    relation = fields.String(load_default="constituent", validate=validate.OneOf(("constituent", "isVersionOf", "references")))
    title = _text(4000, required=True)
    related_id = fields.Integer(allow_none=True, strict=True)
    url = fields.Url(allow_none=True, schemes={"http", "https"})


class ThesisSchema(_Base):
    level = fields.String(required=True, validate=validate.OneOf(THESIS_LEVELS))
    credits = _text(64)
    degree_name = _text(255)
    programme = _text(255)
    defence_at = fields.AwareDateTime(allow_none=True, default_timezone=dt.timezone.utc)
    defence_place = _text(500)
    nailing_date = fields.Date(allow_none=True)
    granting_institution = _text(255)


class PublicationSchema(_Base):
    publication_type = fields.String(required=True, validate=validate.OneOf(
        PUBLICATION_TYPES, error="unknown publication type {input!r}; choose one of {choices}"))
    output_type = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True, validate=validate.OneOf(CONTENT_TYPES))
    publication_status = fields.String(load_default="published", validate=validate.OneOf(PUBLICATION_STATUSES))
    titles = fields.List(fields.Nested(TitleSchema), required=True,
                         validate=validate.Length(min=1, error="a publication needs a title"))
    abstracts = fields.List(fields.Nested(LangTextSchema), load_default=list)
    keywords = fields.List(fields.Nested(KeywordSchema), load_default=list)
    subjects = fields.List(SubjectCode(), load_default=list)
    languages = fields.List(LanguageCode(), load_default=list)
    issued = IssuedDate(allow_none=True)
    accepted = fields.Date(allow_none=True)
    online = fields.Date(allow_none=True)
    host = fields.Nested(HostSchema, allow_none=True)
    conference = fields.Nested(ConferenceSchema, allow_none=True)
    series = fields.List(fields.Nested(SeriesSchema), load_default=list)
    publisher = _text(500)
    place = _text(255)
    edition = _text(255)
    extent = _text(255)
    creator_count = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    licence = fields.Url(allow_none=True, schemes={"http", "https"})
    identifiers = fields.List(fields.Nested(IdentifierSchema), load_default=list)
    contributors = fields.List(fields.Nested(ContributorSchema), load_default=list)
    funding = fields.List(fields.Nested(FundingSchema), load_default=list)
    notes = fields.List(fields.Nested(LangTextSchema), load_default=list)
    links = fields.List(fields.Nested(LinkSchema), load_default=list)
    related = fields.List(fields.Nested(RelationSchema), load_default=list)
    thesis = fields.Nested(ThesisSchema, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        output_type = data.get("output_type")
        if output_type and output_type not in vocabularies.output_types():
            errors["output_type"] = [f"unknown output type {output_type!r} (see the KB output types)"]
        kind = data.get("publication_type")
        if kind in ("dok", "lic", "stud") and not data.get("thesis"):
            errors["thesis"] = ["a thesis needs its thesis details (at least the degree level)"]
        titles = data.get("titles") or []
        if titles and not any(t.get("kind") == "main" for t in titles):
            errors["titles"] = ["one title must be the main title"]
        if errors:
            raise ValidationError(errors)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as ``{"contributors[0].orcid": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, list):
        flat[prefix or "_schema"] = [str(m) for m in messages]
        return flat
    for key, value in messages.items():
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == "_schema":
            path = prefix or "_schema"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_errors(value, path))
        else:
            flat.setdefault(path, []).extend(str(m) for m in value)
    return flat


def load_publication(data: Any) -> dict[str, Any]:
    """Validate publication input; raise ``Invalid`` with every problem by its field path."""
    if not isinstance(data, dict):
        raise Invalid({"_schema": ["a publication must be a JSON object"]})
    try:
        return PublicationSchema().load(data)
    except ValidationError as exc:
        raise Invalid(flatten_errors(exc.messages)) from None
