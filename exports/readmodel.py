"""The plain, immutable record that every exporter, the OAI-PMH provider and the harvester share.

Exporters are pure functions of these dataclasses: they never see a Flask request or an ORM
object, so the same crosswalk serves the landing page, OAI-PMH, list downloads and the national
aggregator (which builds the same records from harvested MODS and Dublin Core).

Conventions
- Language codes are ISO 639-2/B three-letter codes (``swe``, ``eng``) as MODS and SwePub use.
- Role codes are MARC relator codes (``aut``, ``edt``, ``ths`` supervisor, ``exm`` examiner,
  ``opn`` opponent, ``trl`` translator, ``pbl`` publisher, ``cre`` creator, ``ctb`` contributor).
- Identifier schemes are lower-case names: ``doi isbn issn eissn pmid isi scopus arxiv handle
  urn uri libris local``. Values are stored normalised (DOI lower-case without resolver prefix,
  ISSN ``NNNN-NNNX``, ISBN as given by the depositor but check-digit valid).
- ``publication_type`` is a SVEP code (``art for kon pro bok sam kap rap rec dok lic pat kfu ovr``)
  or ``stud`` for a student thesis (not reported to SwePub); ``output_type`` is a KB output type
  code such as ``publication/journal-article``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SVEP_TYPES: tuple[str, ...] = (
    "art", "for", "kon", "pro", "bok", "sam", "kap", "rap", "rec", "dok", "lic", "pat", "kfu", "ovr",
)
STUDENT_THESIS = "stud"
PUBLICATION_TYPES: tuple[str, ...] = SVEP_TYPES + (STUDENT_THESIS,)
CONTENT_TYPES: tuple[str, ...] = ("ref", "vet", "pop")
PUBLICATION_STATUSES: tuple[str, ...] = (
    "published", "accepted", "submitted", "in-press", "epub-ahead-of-print", "preprint", "retracted",
)
THESIS_LEVELS: tuple[str, ...] = (
    "doctoral", "licentiate", "bachelor", "master-one-year", "master-two-years", "professional",
)
FILE_ROLES: tuple[str, ...] = ("fulltext", "supplementary", "cover", "thumbnail")
FILE_ACCESS: tuple[str, ...] = ("open", "embargoed", "restricted")
RECORD_STATES: tuple[str, ...] = ("draft", "submitted", "returned", "published", "withdrawn", "deleted")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date known to the year, the month or the day, as bibliographic dates are."""

    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def as_date(self) -> dt.date:
        """The first day the partial date can mean (for sorting and comparisons)."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Read ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise ValueError on anything else."""
        parts = text.strip().split("-")
        if not 1 <= len(parts) <= 3 or len(parts[0]) != 4 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a date of the form YYYY, YYYY-MM or YYYY-MM-DD: {text!r}")
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else None
        day = int(parts[2]) if len(parts) > 2 else None
        dt.date(year, month or 1, day or 1)  # raises ValueError for month 13, day 32...
        return cls(year, month, day)


@dataclass(frozen=True, slots=True)
class Title:
    title: str
    subtitle: str | None = None
    lang: str | None = None
    kind: str = "main"  # main | translated | alternative

    def full(self) -> str:
        """Title and subtitle joined the way most citation styles print them."""
        if not self.subtitle:
            return self.title
        main = self.title.rstrip()
        if main.endswith(("?", "!", ":", ".")):
            return f"{main} {self.subtitle}"
        return f"{main}: {self.subtitle}"


@dataclass(frozen=True, slots=True)
class LangText:
    """A text in one language: an abstract, a note."""

    text: str
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Keyword:
    term: str
    lang: str | None = None
    scheme: str | None = None  # None for free keywords; sao, lcsh, sdg for controlled ones


@dataclass(frozen=True, slots=True)
class Subject:
    """A research subject in SSIF 2025 (1, 3 or 5 digits), with its labels from the vocabulary."""

    code: str
    label_en: str = ""
    label_sv: str = ""


@dataclass(frozen=True, slots=True)
class Identifier:
    scheme: str
    value: str
    qualifier: str | None = None  # e.g. print / online for ISBN


@dataclass(frozen=True, slots=True)
class Affiliation:
    """An affiliation at the time of publication: an organisation unit of ours, or free text."""

    name: str
    unit_code: str | None = None  # local code of the organisation unit
    unit_path: str | None = None  # set-style path of the unit, e.g. "uu:medfak:ki"
    institution_code: str | None = None  # the KB organisation code, e.g. "uu"
    institution_domain: str | None = None  # e.g. "uu.se", SwePub's affiliation valueURI
    ror: str | None = None
    country: str | None = None  # ISO 3166 alpha-2


@dataclass(frozen=True, slots=True)
class Contributor:
    """A person or a corporate body in a role on the work (or on its host, e.g. book editors)."""

    family: str | None = None
    given: str | None = None
    corporate_name: str | None = None
    roles: tuple[str, ...] = ("aut",)
    orcid: str | None = None  # bare 0000-0000-0000-0000
    local_id: str | None = None  # the institution's person id
    person_id: int | None = None  # Hylla's authority record id, when linked
    affiliations: tuple[Affiliation, ...] = ()

    @property
    def is_person(self) -> bool:
        return self.corporate_name is None

    def display_name(self) -> str:
        """"Given Family" for people, the name for corporate bodies."""
        if self.corporate_name:
            return self.corporate_name
        return " ".join(p for p in (self.given, self.family) if p)

    def inverted_name(self) -> str:
        """"Family, Given" as bibliographies sort people."""
        if self.corporate_name:
            return self.corporate_name
        if self.family and self.given:
            return f"{self.family}, {self.given}"
        return self.family or self.given or ""


@dataclass(frozen=True, slots=True)
class Conference:
    name: str
    place: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True, slots=True)
class HostItem:
    """What a part is published in: a journal, a book, a proceedings volume."""

    kind: str  # journal | book | proceedings | other
    title: str
    subtitle: str | None = None
    issn: str | None = None
    eissn: str | None = None
    isbns: tuple[str, ...] = ()
    volume: str | None = None
    issue: str | None = None
    article_number: str | None = None
    page_start: str | None = None
    page_end: str | None = None
    editors: tuple[Contributor, ...] = ()
    publisher: str | None = None
    place: str | None = None

    def pages(self) -> str | None:
        if self.page_start and self.page_end:
            return f"{self.page_start}-{self.page_end}"
        return self.page_start or self.page_end


@dataclass(frozen=True, slots=True)
class Series:
    title: str
    issn: str | None = None
    eissn: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class Funding:
    funder: str
    funder_id: str | None = None  # e.g. a Crossref Funder Registry DOI or ROR
    project_title: str | None = None
    project_id: str | None = None  # e.g. SweCRIS or CORDIS id
    grant_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThesisInfo:
    level: str  # one of THESIS_LEVELS
    credits: str | None = None  # e.g. "15 HE credits"
    degree_name: str | None = None
    programme: str | None = None
    defence_at: dt.datetime | None = None  # presentation date for student theses
    defence_place: str | None = None
    nailing_date: dt.date | None = None  # "spikning", electronic publication of doctoral theses
    granting_institution: str | None = None


@dataclass(frozen=True, slots=True)
class FileInfo:
    id: int
    filename: str
    mime_type: str
    size: int
    sha256: str
    md5: str
    role: str = "fulltext"
    access: str = "open"  # as deposited: open | embargoed | restricted
    embargo_until: dt.date | None = None
    licence: str | None = None
    version: str | None = None  # submitted | accepted | published (the article version)
    url: str | None = None  # absolute download URL

    def is_open_on(self, day: dt.date) -> bool:
        """Whether anyone may download it on ``day``: embargoes lift by themselves."""
        if self.access == "open":
            return True
        return self.access == "embargoed" and self.embargo_until is not None and day >= self.embargo_until


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class RelatedRecord:
    """Another record this one points at, e.g. a constituent paper of a compilation thesis."""

    relation: str  # constituent | host | isVersionOf ...
    title: str
    record_id: str | None = None
    url: str | None = None
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True, slots=True)
class OrgUnitRef:
    code: str
    name: str
    path: str  # colon-separated codes from the institution down, e.g. "uu:medfak:ki"


@dataclass(frozen=True, slots=True)
class Publication:
    """One bibliographic record, complete enough for MODS, swepub_mods, BibTeX and the rest."""

    id: str  # local id, the one in /publications/<id>
    publication_type: str
    titles: tuple[Title, ...]
    contributors: tuple[Contributor, ...] = ()
    output_type: str | None = None
    content_type: str | None = None
    publication_status: str = "published"
    abstracts: tuple[LangText, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    subjects: tuple[Subject, ...] = ()
    languages: tuple[str, ...] = ()
    issued: PartialDate | None = None
    accepted: dt.date | None = None
    online: dt.date | None = None
    host: HostItem | None = None
    series: tuple[Series, ...] = ()
    conference: Conference | None = None
    publisher: str | None = None
    place: str | None = None
    edition: str | None = None
    extent: str | None = None  # e.g. "245 pages"
    identifiers: tuple[Identifier, ...] = ()
    creator_count: int | None = None
    funding: tuple[Funding, ...] = ()
    licence: str | None = None  # a licence URI, e.g. https://creativecommons.org/licenses/by/4.0/
    notes: tuple[LangText, ...] = ()
    links: tuple[Link, ...] = ()
    files: tuple[FileInfo, ...] = ()
    thesis: ThesisInfo | None = None
    related: tuple[RelatedRecord, ...] = ()
    org_units: tuple[OrgUnitRef, ...] = ()
    institution_code: str | None = None  # KB organisation code (recordContentSource)
    institution_name: str | None = None
    url: str | None = None  # the landing page
    oai_identifier: str | None = None
    state: str = "published"  # published | withdrawn | deleted (others never leave the repository)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    datestamp: dt.datetime | None = None

    @property
    def title(self) -> Title:
        """The main title (the first one of kind ``main``, else the first at all)."""
        for t in self.titles:
            if t.kind == "main":
                return t
        return self.titles[0]

    def identifier(self, scheme: str) -> str | None:
        """The first identifier of ``scheme``, or None."""
        for ident in self.identifiers:
            if ident.scheme == scheme:
                return ident.value
        return None

    def identifiers_of(self, scheme: str) -> tuple[str, ...]:
        return tuple(i.value for i in self.identifiers if i.scheme == scheme)

    def contributors_in(self, *roles: str) -> tuple[Contributor, ...]:
        """Contributors having any of ``roles``, in their order on the work."""
        return tuple(c for c in self.contributors if any(r in c.roles for r in roles))

    @property
    def authors(self) -> tuple[Contributor, ...]:
        return self.contributors_in("aut", "cre")

    @property
    def year(self) -> int | None:
        return self.issued.year if self.issued else None

    @property
    def doi(self) -> str | None:
        return self.identifier("doi")

    def is_open_access_on(self, day: dt.date) -> bool:
        """Open access: a full text anyone may download on ``day``."""
        return any(f.role == "fulltext" and f.is_open_on(day) for f in self.files)

    def embargo_window(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The days around ``day`` on which every file is as open as on ``day``: ``(first, end)``
        with ``first <= day < end``, None where the window is unbounded.

        Embargoes are the only way the record changes with the calendar alone, so anything
        written from it (a payload, its open access) holds for the whole window, and a copy
        written on ``day`` may be served on any other day within it.
        """
        lifts = [f.embargo_until for f in self.files if f.access == "embargoed" and f.embargo_until is not None]
        first = max((d for d in lifts if d <= day), default=None)
        end = min((d for d in lifts if d > day), default=None)
        return first, end
