"""Prefilling drafts from elsewhere: a DOI's CSL-JSON, or a BibTeX or RIS file with one or many entries.

Every source is first turned into publication input (the shape ``PublicationSchema`` loads);
values that do not validate (a wrong ISSN check digit, an unknown language) are left out and
reported with their entry, so an import never fails as a whole because of one bad value.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import bibtexparser
import pycountry
import rispy
from bibtexparser import middlewares
from flask import current_app

from exports import identifiers
from exports.vocabularies import is_language_code, to_bibliographic
from repository.errors import Invalid
from repository.models import Publication, User
from repository.schemas.publication import load_publication
from repository.services import deposit, duplicates

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 500
CLIENT_EXTENSION = "hylla.doi_client"
CSL_JSON = "application/vnd.citationstyles.csl+json"

CSL_TYPES = {
    "article-journal": "art", "review": "rec", "review-book": "rec", "paper-conference": "kon", "chapter": "kap",
    "book": "bok", "report": "rap", "thesis": "dok", "patent": "pat", "article": "ovr", "dataset": "ovr",
    "article-magazine": "art", "article-newspaper": "art", "entry-encyclopedia": "kap", "manuscript": "ovr",
}
BIBTEX_TYPES = {
    "article": "art", "inproceedings": "kon", "conference": "kon", "incollection": "kap", "inbook": "kap",
    "book": "bok", "proceedings": "pro", "phdthesis": "dok", "mastersthesis": "stud", "techreport": "rap",
    "report": "rap", "patent": "pat", "misc": "ovr", "unpublished": "ovr", "manual": "ovr", "booklet": "bok",
}
RIS_TYPES = {
    "JOUR": "art", "JFULL": "art", "MGZN": "art", "NEWS": "art", "EJOUR": "art", "CONF": "kon", "CPAPER": "kon",
    "CHAP": "kap", "ECHAP": "kap", "BOOK": "bok", "EBOOK": "bok", "EDBOOK": "sam", "THES": "dok", "RPRT": "rap",
    "PAT": "pat", "ART": "kfu", "GEN": "ovr",
}
HOST_KIND = {"art": "journal", "for": "journal", "rec": "journal", "kap": "book", "kon": "proceedings"}
THESIS_LEVEL = {"dok": "doctoral", "lic": "licentiate", "stud": "master-two-years"}


# DOI look-up ---------------------------------------------------------------------------------------

class DoiClient(Protocol):
    def fetch_csl(self, doi: str) -> dict[str, Any]:
        """The CSL-JSON of a DOI; raise ``Invalid`` (path ``doi``) when there is none."""
        ...


class ContentNegotiationClient:
    """Asks the DOI resolver for CSL-JSON (Crossref, DataCite and mEDRA all answer this way)."""

    def __init__(self, resolver_url: str, *, timeout: float = 10.0, user_agent: str = "Hylla") -> None:
        self.resolver_url = resolver_url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent

    def fetch_csl(self, doi: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.resolver_url}/{urllib.request.quote(doi, safe='/')}",
                                         headers={"Accept": CSL_JSON, "User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (https by config)
                body = response.read(MAX_IMPORT_BYTES)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise Invalid({"doi": [f"the DOI {doi} is not registered"]}) from None
            raise Invalid({"doi": [f"the DOI look-up failed (HTTP {exc.code}); fill in the form instead"]}) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning("doi look-up failed doi=%s error=%s", doi, exc)
            raise Invalid({"doi": ["the DOI look-up service cannot be reached now; fill in the form instead"]}) from None
        try:
            data = json.loads(body)
        except ValueError:
            raise Invalid({"doi": [f"the DOI look-up for {doi} did not return CSL-JSON"]}) from None
        if not isinstance(data, dict):
            raise Invalid({"doi": [f"the DOI look-up for {doi} did not return a CSL-JSON record"]})
        return data


def doi_client() -> DoiClient | None:
    """The configured client: one an app installed (tests), the real one when enabled, or none."""
    installed = current_app.extensions.get(CLIENT_EXTENSION)
    if installed is not None:
        return installed  # type: ignore[no-any-return]
    if current_app.config.get("DOI_LOOKUP_ENABLED"):
        return ContentNegotiationClient(current_app.config["DOI_RESOLVER_URL"],
                                        user_agent=f"Hylla ({current_app.config['ADMIN_EMAIL']})")
    return None


def lookup_available() -> bool:
    return doi_client() is not None


@dataclass(frozen=True, slots=True)
class Entry:
    """One source record turned into publication input, with what could not be taken over."""

    source: str
    data: dict[str, Any]
    problems: tuple[str, ...] = ()


def lookup_doi(doi: str) -> Entry:
    try:
        doi = identifiers.normalise_identifier("doi", doi or "")
    except ValueError as exc:
        raise Invalid({"doi": [str(exc)]}) from None
    client = doi_client()
    if client is None:
        raise Invalid({"doi": ["DOI look-up is not enabled on this server; fill in the form instead"]})
    data, problems = from_csl(client.fetch_csl(doi))
    if not any(i["scheme"] == "doi" for i in data.get("identifiers", [])):
        data.setdefault("identifiers", []).append({"scheme": "doi", "value": doi})
    return Entry(f"DOI {doi}", data, tuple(problems))


# Building publication input ------------------------------------------------------------------------

@dataclass(slots=True)
class _Builder:
    """Collects values from any source and says which ones it had to leave out."""

    publication_type: str
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data["publication_type"] = self.publication_type
        if self.publication_type in THESIS_LEVEL:
            self.data["thesis"] = {"level": THESIS_LEVEL[self.publication_type]}

    def set(self, key: str, value: Any) -> None:
        if value not in (None, "", []):
            self.data[key] = value

    def title(self, title: str | None, subtitle: str | None = None) -> None:
        if title and title.strip():
            main, sub = title.strip(), subtitle
            if not sub and ": " in main and len(main) > 40:
                main, sub = main.split(": ", 1)
            self.data["titles"] = [{"title": main, "subtitle": sub or None, "kind": "main"}]

    def person(self, family: str | None, given: str | None, role: str, orcid: str | None = None,
               scope: str = "work") -> None:
        if not family and not given:
            return
        item: dict[str, Any] = {"family": family or given, "given": given if family else None, "roles": [role],
                                "scope": scope}
        if orcid:
            try:
                item["orcid"] = identifiers.normalise_identifier("orcid", orcid)
            except ValueError:
                self.problems.append(f"ORCID {orcid!r} of {family} is not valid and was left out")
        self.data.setdefault("contributors", []).append(item)

    def identifier(self, scheme: str, value: str | None) -> None:
        if not value or not str(value).strip():
            return
        try:
            normal = identifiers.normalise_identifier(scheme, str(value))
        except ValueError as exc:
            self.problems.append(f"{scheme.upper()} {value!r} left out: {exc}")
            return
        self.data.setdefault("identifiers", []).append({"scheme": scheme, "value": normal})

    def host(self, title: str | None, **parts: Any) -> None:
        kind = HOST_KIND.get(self.publication_type)
        if kind is None or not title:
            for key in ("publisher", "place"):
                if parts.get(key):
                    self.set(key, parts[key])
            return
        host = {"kind": kind, "title": title}
        for key in ("issn", "eissn", "isbn"):
            value = parts.pop(key, None)
            if value:
                try:
                    host[key] = identifiers.normalise_identifier(key, value)
                except ValueError as exc:
                    self.problems.append(f"{key.upper()} {value!r} left out: {exc}")
        host.update({k: str(v) for k, v in parts.items() if v not in (None, "")})
        self.data["host"] = host

    def pages(self, pages: str | None) -> tuple[str | None, str | None]:
        if not pages:
            return None, None
        parts = [p.strip() for p in re.split(r"\s*[-–—]+\s*", str(pages)) if p.strip()]
        return (parts[0], parts[1] if len(parts) > 1 else None) if parts else (None, None)

    def issued(self, year: Any, month: Any = None, day: Any = None) -> None:
        try:
            y = int(str(year).strip()[:4])
        except (TypeError, ValueError):
            if year:
                self.problems.append(f"year {year!r} is not a year and was left out")
            return
        text = f"{y:04d}"
        m = _month(month)
        if m:
            text += f"-{m:02d}"
            if day and str(day).strip().isdigit():
                text += f"-{int(str(day).strip()):02d}"
        self.data["issued"] = text

    def language(self, code: str | None) -> None:
        if not code:
            return
        found = _language(code)
        if found:
            self.data["languages"] = [found]
        else:
            self.problems.append(f"language {code!r} is not an ISO 639 code and was left out")

    def keywords(self, terms: Iterable[str]) -> None:
        cleaned = [t.strip() for t in terms if t and t.strip()]
        if cleaned:
            self.data["keywords"] = [{"term": t} for t in dict.fromkeys(cleaned)]

    def abstract(self, text: str | None) -> None:
        if text and text.strip():
            plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())  # JATS tags in Crossref abstracts
            self.data["abstracts"] = [{"text": plain}]

    def finish(self) -> tuple[dict[str, Any], list[str]]:
        """The input without the values that would not validate; each left-out value is reported."""
        data = self.data
        for _ in range(10):
            try:
                load_publication(data)
                return data, self.problems
            except Invalid as exc:
                if any(path in ("titles", "titles[0].title", "publication_type") for path in exc.errors):
                    raise
                for path, messages in exc.errors.items():
                    self.problems.append(f"{path}: {' '.join(messages)} (left out)")
                    _drop(data, path)
        raise Invalid({"_schema": ["the entry could not be made valid"]})


_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}


def _month(value: Any) -> int | None:
    text = str(value or "").strip().lower()
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return _MONTHS.get(text[:3])


def _language(code: str) -> str | None:
    code = code.strip().lower().split("-")[0].split("_")[0]
    if len(code) == 2:
        lang = pycountry.languages.get(alpha_2=code)
        return to_bibliographic(lang.alpha_3) if lang else None
    if is_language_code(code):
        return to_bibliographic(code)
    lang = pycountry.languages.get(name=code.capitalize())
    return to_bibliographic(lang.alpha_3) if lang else None


_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _drop(data: dict[str, Any], path: str) -> None:
    """Remove the value at an error path (``host.issn``, ``contributors[1].orcid``)."""
    keys: list[str | int] = [name if name else int(index) for name, index in _PATH.findall(path)]
    node: Any = data
    for key in keys[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return
    last = keys[-1] if keys else None
    if isinstance(node, dict) and last in node:
        del node[last]
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        del node[last]


# CSL-JSON ------------------------------------------------------------------------------------------

def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value not in (None, "") else None


def from_csl(csl: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Publication input from one CSL-JSON item, and what had to be left out."""
    kind = CSL_TYPES.get(str(csl.get("type", "")), "ovr")
    b = _Builder(kind)
    b.title(_first(csl.get("title")), _first(csl.get("subtitle")))
    for person in csl.get("author") or []:
        b.person(person.get("family") or person.get("literal"), person.get("given"), "aut", person.get("ORCID"))
    for person in csl.get("editor") or []:
        b.person(person.get("family") or person.get("literal"), person.get("given"), "edt",
                 scope="host" if kind in ("kap", "kon") else "work")
    parts = list(((csl.get("issued") or {}).get("date-parts") or [[None]])[0] or [None]) + [None, None]
    if parts[0] is not None:
        b.issued(parts[0], parts[1], parts[2])
    issns = csl.get("ISSN") or []
    issns = [issns] if isinstance(issns, str) else issns
    typed = {t.get("type"): t.get("value") for t in csl.get("issn-type") or [] if isinstance(t, dict)}
    start, end = b.pages(_first(csl.get("page")))
    b.host(_first(csl.get("container-title")), issn=typed.get("print") or (issns[0] if issns else None),
           eissn=typed.get("electronic") or (issns[1] if len(issns) > 1 else None),
           isbn=_first(csl.get("ISBN")) if kind in ("kap", "kon") else None, volume=csl.get("volume"),
           issue=csl.get("issue"), page_start=start, page_end=end, article_number=csl.get("article-number"),
           publisher=csl.get("publisher") if kind in ("kap", "kon") else None,
           place=csl.get("publisher-place") if kind in ("kap", "kon") else None)
    if kind not in ("kap", "kon", "art", "for", "rec"):
        b.set("publisher", csl.get("publisher"))
        b.set("place", csl.get("publisher-place"))
        b.identifier("isbn", _first(csl.get("ISBN")))
    b.identifier("doi", csl.get("DOI"))
    b.identifier("pmid", csl.get("PMID"))
    b.language(csl.get("language"))
    b.abstract(csl.get("abstract"))
    b.keywords(str(csl.get("keyword", "")).split(","))
    for item in csl.get("license") or []:
        url = item.get("URL") if isinstance(item, dict) else None
        if url and "creativecommons.org" in url:
            b.set("licence", url.replace("http://", "https://"))
            break
    if kind in ("art", "for", "kon", "kap"):
        b.set("content_type", "ref" if kind in ("art", "for") else None)
    return b.finish()


# BibTeX and RIS files ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportResult:
    """What became of one entry of an imported file."""

    number: int
    label: str  # the BibTeX key or the RIS title, to find the entry in the file
    title: str | None
    publication_id: int | None
    problems: tuple[str, ...] = ()
    candidates: tuple[duplicates.Candidate, ...] = ()


def _name(text: str) -> tuple[str | None, str | None]:
    """"Family, Given" or "Given Family" as (family, given)."""
    text = " ".join(text.split())
    if "," in text:
        family, given = (p.strip() for p in text.split(",", 1))
        return family or None, given or None
    parts = text.rsplit(" ", 1)
    return (parts[-1], parts[0]) if len(parts) == 2 else (text or None, None)


def _bibtex_entries(text: str) -> Iterable[tuple[str, Callable[[], tuple[dict[str, Any], list[str]]]]]:
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()])
    for block in library.failed_blocks:
        yield f"lines {block.start_line + 1}–", _failed(f"BibTeX syntax error: {getattr(block, 'error', 'unreadable entry')}")
    for entry in library.entries:
        yield entry.key, (lambda entry=entry: _from_bibtex(entry))


def _failed(message: str) -> Callable[[], tuple[dict[str, Any], list[str]]]:
    def fail() -> tuple[dict[str, Any], list[str]]:
        raise Invalid({"_schema": [message]})
    return fail


def _from_bibtex(entry: Any) -> tuple[dict[str, Any], list[str]]:
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}

    def text(key: str) -> str | None:
        value = fields.get(key)
        if value is None or isinstance(value, list):
            return None
        return " ".join(str(value).replace("{", "").replace("}", "").split()) or None

    kind = BIBTEX_TYPES.get(entry.entry_type.lower(), "ovr")
    b = _Builder(kind)
    b.title(text("title"), text("subtitle"))
    for key, role in (("author", "aut"), ("editor", "edt")):
        for person in fields.get(key) or []:
            if hasattr(person, "last"):
                family = " ".join(person.von + person.last) or None
                given = " ".join(person.first + person.jr) or None
            else:
                family, given = _name(str(person))
            b.person(family, given, role, scope="host" if role == "edt" and kind in ("kap", "kon") else "work")
    b.issued(text("year"), text("month"), text("day"))
    start, end = b.pages(text("pages"))
    b.host(text("journal") or text("journaltitle") or text("booktitle"), issn=text("issn"),
           isbn=text("isbn") if kind in ("kap", "kon") else None, volume=text("volume"),
           issue=text("number") or text("issue"), page_start=start, page_end=end,
           publisher=text("publisher") if kind in ("kap", "kon") else None,
           place=text("address") if kind in ("kap", "kon") else None)
    if kind not in ("kap", "kon", "art", "for", "rec"):
        b.set("publisher", text("publisher") or text("school") or text("institution"))
        b.set("place", text("address"))
        b.identifier("isbn", text("isbn"))
    b.identifier("doi", text("doi"))
    b.identifier("pmid", text("pmid"))
    b.language(text("language") or text("langid"))
    b.abstract(text("abstract"))
    b.keywords(re.split(r"[,;]", text("keywords") or ""))
    return b.finish()


def _ris_entries(text: str) -> Iterable[tuple[str, Callable[[], tuple[dict[str, Any], list[str]]]]]:
    try:
        records = rispy.loads(text)
    except (ValueError, KeyError, IOError) as exc:  # rispy raises IOError on a file without TY/ER structure
        yield "file", _failed(f"RIS syntax error: {exc}")
        return
    for n, record in enumerate(records, start=1):
        label = str(record.get("title") or record.get("primary_title") or f"entry {n}")[:80]
        yield label, (lambda record=record: _from_ris(record))


def _from_ris(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    def text(*keys: str) -> str | None:
        for key in keys:
            value = record.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if value not in (None, ""):
                return " ".join(str(value).split())
        return None

    kind = RIS_TYPES.get(str(record.get("type_of_reference", "")).upper(), "ovr")
    b = _Builder(kind)
    b.title(text("title", "primary_title", "translated_title"))
    for key, role in (("authors", "aut"), ("first_authors", "aut"), ("secondary_authors", "edt"), ("editor", "edt")):
        for person in record.get(key) or []:
            family, given = _name(str(person))
            b.person(family, given, role, scope="host" if role == "edt" and kind in ("kap", "kon") else "work")
    date = text("year", "publication_year", "date") or ""
    parts = re.split(r"[/-]", date)
    b.issued(parts[0] if parts and parts[0] else None, parts[1] if len(parts) > 1 else None,
             parts[2] if len(parts) > 2 else None)
    issn = text("issn")
    b.host(text("journal_name", "secondary_title", "alternate_title1", "alternate_title3"),
           issn=issn if kind not in ("kap", "kon") else None, isbn=issn if kind in ("kap", "kon") else None,
           volume=text("volume"), issue=text("number"), page_start=text("start_page"), page_end=text("end_page"),
           publisher=text("publisher") if kind in ("kap", "kon") else None,
           place=text("place_published") if kind in ("kap", "kon") else None)
    if kind not in ("kap", "kon", "art", "for", "rec"):
        b.set("publisher", text("publisher"))
        b.set("place", text("place_published"))
        b.identifier("isbn", issn)
    b.identifier("doi", text("doi"))
    b.language(text("language"))
    b.abstract(text("abstract", "notes_abstract"))
    b.keywords(record.get("keywords") or [])
    return b.finish()


def _decode(content: bytes) -> str:
    if len(content) > MAX_IMPORT_BYTES:
        raise Invalid({"file": [f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it"]})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")  # older reference managers export Windows-1252


def detect_format(filename: str, text: str) -> str:
    """``bibtex`` or ``ris``, by the file's name and, failing that, its first lines."""
    name = filename.lower()
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith(".ris"):
        return "ris"
    head = text.lstrip()[:2000]
    if head.startswith("@") or re.search(r"^\s*@\w+\s*[{(]", head, re.MULTILINE):
        return "bibtex"
    if re.search(r"^TY  - ", head, re.MULTILINE):
        return "ris"
    raise Invalid({"file": [f"{filename} is neither BibTeX (.bib) nor RIS (.ris)"]})


def import_file(actor: User, content: bytes, filename: str, *, allow_duplicates: bool = False) -> list[ImportResult]:
    """One draft per entry of a BibTeX or RIS file; entries that fail or look like duplicates are reported."""
    text = _decode(content)
    entries = list((_bibtex_entries if detect_format(filename, text) == "bibtex" else _ris_entries)(text))
    if not entries:
        raise Invalid({"file": [f"{filename} holds no entries"]})
    if len(entries) > MAX_ENTRIES:
        raise Invalid({"file": [f"{filename} holds {len(entries)} entries; import at most {MAX_ENTRIES} at a time"]})
    results = []
    for number, (label, build) in enumerate(entries, start=1):
        try:
            data, problems = build()
        except Invalid as exc:
            results.append(ImportResult(number, label, None, None, tuple(
                f"{path}: {' '.join(m)}" if path != "_schema" else " ".join(m) for path, m in exc.errors.items())))
            continue
        title = data["titles"][0]["title"]
        try:
            pub = create_from_entry(actor, Entry(label, data, tuple(problems)), allow_duplicates=allow_duplicates)
        except duplicates.PossibleDuplicates as exc:
            results.append(ImportResult(number, label, title, None, tuple(problems), tuple(exc.candidates)))
        except Invalid as exc:
            results.append(ImportResult(number, label, title, None, tuple(problems) + tuple(
                f"{path}: {' '.join(m)}" for path, m in exc.errors.items())))
        else:
            results.append(ImportResult(number, label, title, pub.id, tuple(problems)))
    log.info("imported file=%r entries=%d created=%d by user=%s", filename, len(results),
             sum(1 for r in results if r.publication_id), actor.id)
    return results


def create_from_entry(actor: User, entry: Entry, *, allow_duplicates: bool = False) -> Publication:
    return deposit.create_draft(actor, entry.data, allow_duplicates=allow_duplicates)
