"""The deposit step forms as data: which fields each publication type asks for, and how form input maps to the record.

Each field carries the path of the value in the publication input (``host.issn``,
``titles[0].title``), so a validation error or a SwePub problem with that path is shown next to
the input it is about, and one generic template renders every type's form.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repository.schemas.publication import ROLE_LABELS

Choices = tuple[tuple[str, str], ...]

LANGUAGES: Choices = (("", "—"), ("swe", "Swedish"), ("eng", "English"), ("nor", "Norwegian"), ("dan", "Danish"),
                      ("fin", "Finnish"), ("ger", "German"), ("fre", "French"), ("spa", "Spanish"))
CONTENT_TYPES: Choices = (("", "—"), ("ref", "Refereed"), ("vet", "Other academic"), ("pop", "Popular science, debate"))
STATUSES: Choices = (("published", "Published"), ("epub-ahead-of-print", "Epub ahead of print"),
                     ("in-press", "In press"), ("accepted", "Accepted"), ("submitted", "Submitted"),
                     ("preprint", "Preprint"))
STUDENT_LEVELS: Choices = (("bachelor", "Bachelor's thesis"), ("master-one-year", "Master's thesis (one year)"),
                           ("master-two-years", "Master's thesis (two years)"),
                           ("professional", "Professional degree thesis"))
LICENCES: Choices = (
    ("", "No licence: all rights reserved"),
    ("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0: reuse with attribution"),
    ("https://creativecommons.org/licenses/by-sa/4.0/", "CC BY-SA 4.0: attribution, share alike"),
    ("https://creativecommons.org/licenses/by-nc/4.0/", "CC BY-NC 4.0: attribution, non-commercial"),
    ("https://creativecommons.org/licenses/by-nc-nd/4.0/", "CC BY-NC-ND 4.0: attribution, non-commercial, no derivatives"),
    ("https://creativecommons.org/licenses/by-nd/4.0/", "CC BY-ND 4.0: attribution, no derivatives"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0: public domain dedication"),
)
TYPE_CHOICES: Choices = (
    ("art", "Journal article"), ("for", "Review article"), ("kon", "Conference paper"), ("kap", "Book chapter"),
    ("bok", "Book"), ("sam", "Edited book"), ("rap", "Report"), ("pro", "Conference proceedings"),
    ("rec", "Book review"), ("dok", "Doctoral thesis"), ("lic", "Licentiate thesis"), ("stud", "Student thesis"),
    ("pat", "Patent"), ("kfu", "Artistic work"), ("ovr", "Other publication"),
)

# The identifier schemes the metadata step edits; others (scopus, libris...) are kept as they are.
FORM_IDENTIFIERS = ("doi", "pmid", "isi", "isbn")
LIST_SEPARATOR = re.compile(r"[,;\n]")


@dataclass(frozen=True, slots=True)
class Field:
    path: str  # where the value lives in the publication input; also the input's name
    label: str
    kind: str = "text"  # text | textarea | select | date | datetime-local | hidden | number
    choices: Choices = ()
    hint: str = ""
    required: bool = False
    fixed: str | None = None  # the value of a hidden field

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", self.path).strip("-")


def _ident(scheme: str, label: str, hint: str = "") -> Field:
    return Field(f"identifier:{scheme}", label, hint=hint)


TITLE = (
    Field("titles[0].title", "Title", required=True, hint="The title as printed on the work, without the subtitle."),
    Field("titles[0].subtitle", "Subtitle"),
    Field("titles[0].lang", "Language of the title", "select", LANGUAGES),
    Field("titles[1].title", "Title in English (if the work is in another language)"),
)
DATES = (
    Field("issued", "Year of publication", hint="YYYY, YYYY-MM or YYYY-MM-DD"),
    Field("publication_status", "Publication status", "select", STATUSES),
)
CONTENT = (
    Field("content_type", "Content type", "select", CONTENT_TYPES,
          hint="Refereed: peer reviewed before publication. Required by SwePub for most types."),
    Field("languages", "Language of the text", "select", LANGUAGES),
    Field("abstracts[0].text", "Abstract", "textarea"),
    Field("abstracts[0].lang", "Language of the abstract", "select", LANGUAGES),
    Field("keywords", "Keywords", hint="Separate keywords with commas."),
    Field("subjects", "Research subjects (SSIF)", hint="5-digit SSIF 2025 codes separated by commas, e.g. 10501."),
)
JOURNAL = (
    Field("host.kind", "", "hidden", fixed="journal"),
    Field("host.title", "Journal"),
    Field("host.issn", "ISSN", hint="NNNN-NNNN; the check digit is verified."),
    Field("host.eissn", "eISSN"),
    Field("host.volume", "Volume"),
    Field("host.issue", "Issue"),
    Field("host.page_start", "First page"),
    Field("host.page_end", "Last page"),
    Field("host.article_number", "Article number", hint="For journals that number articles instead of pages."),
    _ident("doi", "DOI", "e.g. 10.1234/abc.5678"),
    _ident("pmid", "PubMed id"),
    _ident("isi", "Web of Science id (ISI)"),
)
CHAPTER = (
    Field("host.kind", "", "hidden", fixed="book"),
    Field("host.title", "Title of the book"),
    Field("host.isbn", "ISBN of the book", hint="ISBN-10 or ISBN-13; the check digit is verified."),
    Field("host.publisher", "Publisher of the book"),
    Field("host.place", "Place of publication"),
    Field("host.page_start", "First page"),
    Field("host.page_end", "Last page"),
    _ident("doi", "DOI"),
)
CONFERENCE = (
    Field("conference.name", "Conference"),
    Field("conference.place", "Conference place"),
    Field("conference.start", "First day", "date"),
    Field("conference.end", "Last day", "date"),
    Field("host.kind", "", "hidden", fixed="proceedings"),
    Field("host.title", "Published in (proceedings)"),
    Field("host.isbn", "ISBN of the proceedings"),
    Field("host.page_start", "First page"),
    Field("host.page_end", "Last page"),
    _ident("doi", "DOI"),
    _ident("isi", "Web of Science id (ISI)"),
)
BOOK = (
    Field("publisher", "Publisher"),
    Field("place", "Place of publication"),
    Field("edition", "Edition"),
    Field("extent", "Number of pages", hint="e.g. 245 pages"),
    _ident("isbn", "ISBN"),
    _ident("doi", "DOI"),
    Field("series[0].title", "Series"),
    Field("series[0].issn", "ISSN of the series"),
    Field("series[0].number", "Number in the series"),
)
DOCTORAL = (
    Field("thesis.level", "", "hidden", fixed="doctoral"),
    Field("thesis.defence_at", "Public defence (date and time)", "datetime-local", required=True),
    Field("thesis.defence_place", "Place of the defence", hint="Room and building, e.g. A1:111a, BMC"),
    Field("thesis.nailing_date", "Nailing date (electronic publication)", "date",
          hint="The record and the full text become public by themselves on this day, at least three weeks before the defence."),
    Field("related", "Papers in the thesis (compilation thesis)", "textarea",
          hint="One paper per line: the record number of a paper already in the repository (e.g. #1234), "
               "or its title as free text."),
) + BOOK
LICENTIATE = (
    Field("thesis.level", "", "hidden", fixed="licentiate"),
    Field("thesis.defence_at", "Seminar (date and time)", "datetime-local"),
    Field("thesis.defence_place", "Place of the seminar"),
    Field("related", "Papers in the thesis (compilation thesis)", "textarea",
          hint="One paper per line: #record number, or the title as free text."),
) + BOOK
STUDENT = (
    Field("thesis.level", "Degree level", "select", STUDENT_LEVELS, required=True),
    Field("thesis.credits", "Credits", hint="e.g. 15 HE credits"),
    Field("thesis.programme", "Programme"),
    Field("thesis.degree_name", "Degree", hint="e.g. Master of Science in Chemistry"),
    Field("thesis.defence_at", "Presentation (date and time)", "datetime-local"),
    Field("extent", "Number of pages"),
)
OTHER = (Field("publisher", "Publisher"), Field("place", "Place of publication"), _ident("doi", "DOI"))

BY_TYPE: dict[str, tuple[Field, ...]] = {
    "art": JOURNAL, "for": JOURNAL, "rec": JOURNAL, "kap": CHAPTER, "kon": CONFERENCE, "bok": BOOK, "sam": BOOK,
    "rap": BOOK, "pro": BOOK, "dok": DOCTORAL, "lic": LICENTIATE, "stud": STUDENT, "pat": OTHER, "kfu": OTHER,
    "ovr": OTHER,
}
TYPE_HEADINGS = {
    "art": "The journal", "for": "The journal", "rec": "The journal", "kap": "The book", "kon": "The conference",
    "bok": "The book", "sam": "The book", "rap": "The report", "pro": "The proceedings", "dok": "The thesis",
    "lic": "The thesis", "stud": "The thesis", "pat": "Publication", "kfu": "Publication", "ovr": "Publication",
}
ROLES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "dok": ("aut", "ths", "opn", "exm"), "lic": ("aut", "ths", "opn", "exm"), "stud": ("aut", "ths", "exm"),
    "sam": ("edt", "aut"), "pro": ("edt", "aut"),
}
DEFAULT_ROLES = ("aut", "edt", "ctb", "trl")


def sections(publication_type: str) -> list[tuple[str, tuple[Field, ...]]]:
    """The metadata step's field groups for one type, in the order they are shown."""
    content = tuple(f for f in CONTENT if not (publication_type == "stud" and f.path == "content_type"))
    return [("Title", TITLE), ("Date", DATES), (TYPE_HEADINGS[publication_type], BY_TYPE[publication_type]),
            ("Content", content)]


def role_choices(publication_type: str) -> Choices:
    return tuple((code, ROLE_LABELS[code]) for code in ROLES_BY_TYPE.get(publication_type, DEFAULT_ROLES))


def fields_of(publication_type: str) -> tuple[Field, ...]:
    return tuple(f for _, group in sections(publication_type) for f in group)


# Reading a record into form values --------------------------------------------------------------

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def get_path(data: Any, path: str) -> Any:
    node = data
    for key in _split(path):
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _local_input(iso: str, timezone: str) -> str:
    """A stored UTC timestamp as the local ``YYYY-MM-DDTHH:MM`` a datetime-local input shows."""
    moment = dt.datetime.fromisoformat(iso)
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def _from_local_input(text: str, timezone: str) -> str:
    """A datetime-local value, meant in the institution's zone, as an ISO timestamp with its offset."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema explains what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return moment.isoformat()


def form_values(data: Mapping[str, Any], publication_type: str, timezone: str) -> dict[str, str]:
    """The metadata step's input values for a record given in input shape (``publication_data``)."""
    values: dict[str, str] = {}
    translated = next((t for t in data.get("titles", []) if t.get("kind") == "translated"), None)
    for f in fields_of(publication_type):
        if f.path.startswith("identifier:"):
            scheme = f.path.split(":", 1)[1]
            value = next((i["value"] for i in data.get("identifiers", []) if i["scheme"] == scheme), None)
        elif f.path == "titles[1].title":
            value = translated["title"] if translated else None
        elif f.path == "languages":
            value = (data.get("languages") or [None])[0]
        elif f.path == "keywords":
            value = ", ".join(k["term"] for k in data.get("keywords", []))
        elif f.path == "subjects":
            value = ", ".join(data.get("subjects", []))
        elif f.path == "related":
            value = "\n".join(f"#{r['related_id']}" if r.get("related_id") else r["title"]
                              for r in data.get("related", []))
        elif f.path == "thesis.defence_at":
            value = get_path(data, f.path)
            value = _local_input(value, timezone) if value else None
        else:
            value = get_path(data, f.path)
        values[f.path] = "" if value is None else str(value)
    return values


# Reading form input into the parts of the record the step owns ------------------------------------

METADATA_KEYS = ("titles", "issued", "publication_status", "content_type", "languages", "abstracts", "keywords",
                 "subjects", "identifiers", "host", "conference", "thesis", "publisher", "place", "edition",
                 "extent", "series", "related")


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    keys = _split(path)
    node: Any = target
    for key, following in zip(keys, keys[1:]):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(key, int):
            while len(node) <= key:
                node.append({})
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last = keys[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def _has_values(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_values(v) for k, v in value.items() if k not in ("kind", "level"))
    if isinstance(value, list):
        return any(_has_values(v) for v in value)
    return value not in (None, "")


def _related(text: str) -> list[dict[str, Any]]:
    items = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        number = line.lstrip("#").strip()
        if line.startswith("#") and number.isdigit():
            items.append({"relation": "constituent", "related_id": int(number)})
        else:
            items.append({"relation": "constituent", "title": line})
    return items


@dataclass(frozen=True, slots=True)
class ParsedStep:
    changes: dict[str, Any]
    field_of_error: dict[str, str]  # error path in the changes -> the form field's path


def parse_metadata(form: Mapping[str, str], publication_type: str, current: Mapping[str, Any],
                   timezone: str) -> ParsedStep:
    """The changes the metadata step makes to a record currently shaped as ``current``."""
    out: dict[str, Any] = {}
    routes: dict[str, str] = {}
    identifiers = [i for i in current.get("identifiers", []) if i["scheme"] not in FORM_IDENTIFIERS]
    for f in fields_of(publication_type):
        raw = f.fixed if f.kind == "hidden" else (form.get(f.path) or "").strip()
        if f.path.startswith("identifier:"):
            if raw:
                routes[f"identifiers[{len(identifiers)}].value"] = f.path
                identifiers.append({"scheme": f.path.split(":", 1)[1], "value": raw})
        elif f.path == "titles[1].title":
            if raw:
                _set(out, "titles[1]", {"title": raw, "kind": "translated", "lang": "eng"})
        elif f.path == "languages":
            out["languages"] = ([raw] if raw else []) + list(current.get("languages", [])[1:])
            routes["languages[0]"] = f.path
        elif f.path == "keywords":
            terms = [t.strip() for t in LIST_SEPARATOR.split(raw) if t.strip()]
            out["keywords"] = [{"term": t} for t in terms]
        elif f.path == "subjects":
            out["subjects"] = [t.strip() for t in LIST_SEPARATOR.split(raw.replace(" ", ",")) if t.strip()]
        elif f.path == "related":
            out["related"] = _related(raw)
        elif f.path == "thesis.defence_at" and raw:
            _set(out, f.path, _from_local_input(raw, timezone))
        else:
            _set(out, f.path, raw or None)
    out["identifiers"] = identifiers
    titles = out.get("titles") or [{}]
    titles[0]["kind"] = "main"
    extra = [t for t in current.get("titles", []) if t.get("kind") == "alternative"]
    out["titles"] = [t for t in titles if t] + extra
    abstracts = [a for a in out.get("abstracts", []) if a.get("text")]
    out["abstracts"] = abstracts + list(current.get("abstracts", [])[1:])
    for key in ("host", "conference", "thesis"):
        if key in out and not _has_values(out[key]) and not (key == "thesis" and publication_type in ("dok", "lic")):
            out[key] = None
    series = [s for s in out.get("series", []) if _has_values(s)]
    out["series"] = series + list(current.get("series", [])[1:]) if "series" in out else current.get("series", [])
    for key in METADATA_KEYS:
        out.setdefault(key, None if key in ("host", "conference", "thesis") else current.get(key))
    return ParsedStep(out, routes)


def errors_by_field(errors: Mapping[str, list[str]], publication_type: str,
                    routes: Mapping[str, str] | None = None) -> tuple[dict[str, list[str]], list[str]]:
    """Errors (by input path) placed on the form's fields; those with no field go in a general list."""
    paths = [f.path for f in fields_of(publication_type)]
    placed: dict[str, list[str]] = {}
    general: list[str] = []
    for path, messages in errors.items():
        target = (routes or {}).get(path) or _field_for(path, paths)
        if target is None:
            general.extend(f"{path}: {m}" if path not in ("_schema", "") else m for m in messages)
        else:
            placed.setdefault(target, []).extend(messages)
    return placed, general


def _field_for(path: str, paths: list[str]) -> str | None:
    if path in paths:
        return path
    if path == "titles" and "titles[0].title" in paths:
        return "titles[0].title"
    for candidate in sorted(paths, key=len, reverse=True):  # the most specific field containing the path
        base = candidate.split(":", 1)[0]
        if path.startswith(candidate + ".") or path.startswith(candidate + "[") or path == base:
            return candidate
    # A problem with a whole part ("host", "conference") goes to the part's first field.
    return next((c for c in paths if c.startswith((path + ".", path + "["))), None)


def identifier_routes(identifiers: list[Any]) -> dict[str, str]:
    """Problem paths ``identifiers[n].value`` of a stored record, mapped to the form's identifier fields."""
    return {f"identifiers[{n}].value": f"identifier:{i.scheme}" for n, i in enumerate(identifiers)
            if i.scheme in FORM_IDENTIFIERS}

