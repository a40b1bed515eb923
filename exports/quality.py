"""SwePub's quality rules on the read model: the minimum level that rejects a record, and field checks that flag it.

One set of rules serves the repository (the editor's "SwePub preflight" before a record is
published, since SwePub cannot correct anything and rejects at harvest) and Hylla's own
aggregator (every harvested record). The rules follow KB's minimum level and field checks as
summarised in ``specs/swepub.md`` and ``specs/swepub-mods-summary.md``; identifier syntax comes
from ``exports.identifiers`` and vocabularies from ``exports.vocabularies``, never restated here.

How the MODS rules read on the read model
- A value made only of punctuation and spaces (SwePub's ``?-:;.,()[]!#€/=+$@"``) counts as missing.
- 02: a person with role aut, edt or cre and a name; or a corporate name with role aut, edt, cre,
  pbl or org that carries an authority (``local_id``, or an affiliation with an institution code),
  or any ``org_units`` entry (written as authority-bearing corporate ``pbl`` names). Artistic work
  (``kfu``, ``artistic-work/...``) is exempt.
- 09: an identifier of scheme ``uri`` (what becomes ``identifier type="uri"``); the landing-page
  ``url`` alone does not count.
- 11/12: a host counts when its title is not blank. Project, grant, programme, event and data-set
  "hosts" never become ``Publication.host`` (the harvester maps them to funding, conference or
  related records), which is how SwePub's exception for them holds here.
- Student theses (``stud``) are not SwePub output: ``minimum_level`` returns one info problem
  saying so and no rejection; their field checks still run, since the repository shows them.

Required fields by publication type (``required_field_missing``)
| type | field (path) | severity | why |
|---|---|---|---|
| art for rec kap, not yet published | ``host.title`` | warning | once published, rule 11 rejects it |
| dok lic (and the thesis output types) | ``thesis`` with level doctoral/licentiate | error | a thesis without its level cannot be told from a book |
| dok | ``thesis.defence_at`` | error | the public defence is part of a doctoral thesis record |
| stud | ``thesis.level`` | error | the degree level is what a student thesis is filed under |
| kon | ``conference`` | warning | the event is how a paper is found |
| bok sam dok lic rap | ``publisher`` | warning | "expected" for books, theses and reports |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from exports import identifiers as ids
from exports.readmodel import CONTENT_TYPES, STUDENT_THESIS, SVEP_TYPES, Contributor, Publication
from exports.vocabularies import is_language_code, map_subject_code, output_types, ssif_2011, ssif_2025

SEVERITIES: tuple[str, ...] = ("reject", "error", "warning", "info")

_PUNCTUATION = str.maketrans({c: " " for c in '?-:;.,()[]!#€/=+$@"'})
_UNPUBLISHED = frozenset({"submitted", "accepted", "in-press", "epub-ahead-of-print", "preprint"})
_CREATOR_ROLES = frozenset({"aut", "edt", "cre"})
_CORPORATE_ROLES = frozenset({"aut", "edt", "cre", "pbl", "org"})
_NO_CONTENT_TYPE_SVEP = frozenset({"pat", "ovr", "kfu"})
_NO_CONTENT_TYPE_OUTPUT = ("intellectual-property", "other", "artistic-work")
_HOST_REQUIRED_SVEP = frozenset({"art", "for", "kap", "rec"})
_HOST_REQUIRED_OUTPUT = frozenset(f"publication/{t}" for t in (
    "journal-article", "review-article", "magazine-article", "newspaper-article", "editorial-letter",
    "book-chapter", "report-chapter", "encyclopedia-entry", "foreword-afterword", "book-review", "journal-issue"))
_HOST_FORBIDDEN_SVEP = frozenset({"bok", "dok", "lic", "pat", "pro", "rap"})
_HOST_FORBIDDEN_OUTPUT = frozenset({
    "publication/book", "publication/edited-book", "publication/report", "publication/doctoral-thesis",
    "publication/licentiate-thesis", "artistic-work/artistic-thesis", "conference/proceeding",
    "intellectual-property/patent", "other/software"})
_JOURNAL_ARTICLE_OUTPUT = frozenset(f"publication/{t}" for t in (
    "journal-article", "review-article", "magazine-article", "newspaper-article", "editorial-letter"))
_THESIS_LEVEL = {"dok": "doctoral", "lic": "licentiate", "publication/doctoral-thesis": "doctoral",
                 "publication/licentiate-thesis": "licentiate", "artistic-work/artistic-thesis": "doctoral"}
_PUBLISHER_EXPECTED = frozenset({"bok", "sam", "dok", "lic", "rap"})
_STRICT_IDENTIFIERS = frozenset({"doi", "isbn", "issn", "eissn", "isi", "orcid"})
_FIELD_NAMES = {"doi": "DOI", "isbn": "ISBN", "issn": "ISSN", "eissn": "ISSN", "isi": "ISI", "orcid": "ORCID", "uri": "URI"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: ``code`` a rule code ("05", "doi_invalid"), ``path`` the field it is about."""

    code: str
    severity: str  # reject | error | warning | info
    path: str
    message: str
    name: str = ""  # SwePub's own name for the rule or field, where it has one

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What SwePub would make of a record: accepted unless some problem rejects it."""

    accepted: bool
    problems: tuple[Problem, ...]

    def of_severity(self, severity: str) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == severity)


def mods_data_missing() -> Problem:
    """Rule 00, which only the harvester's parse step can see: the record has no ``mods:mods``."""
    return Problem("00", "reject", "metadata", "The record's metadata holds no MODS (mods:mods) element, so "
                   "there is nothing to check or import: the source must send swepub_mods/MODS for it.",
                   "modsDataMissing")


def is_blank(value: str | None) -> bool:
    """Missing in SwePub's sense: absent, empty, or only punctuation and spaces."""
    if value is None:
        return True
    if value[:1].isalnum():  # most values start with a letter or digit: nothing to translate (ten a record)
        return False
    return not value.translate(_PUNCTUATION).strip()


def by_severity(problems: list[Problem]) -> list[Problem]:
    """Most severe first, in the order found within one severity."""
    return sorted(problems, key=lambda p: SEVERITIES.index(p.severity))


def _reject(code: str, name: str, path: str, message: str) -> Problem:
    return Problem(code, "reject", path, message, name)


def _is_unpublished(pub: Publication) -> bool:
    return pub.publication_status in _UNPUBLISHED


def _has_host(pub: Publication) -> bool:
    return pub.host is not None and not is_blank(pub.host.title)


def _is_artistic(pub: Publication) -> bool:
    return pub.publication_type == "kfu" or (pub.output_type or "").startswith("artistic-work")


def _counts_as_creator(c: Contributor) -> bool:
    if c.is_person:
        return bool(_CREATOR_ROLES & set(c.roles)) and not (is_blank(c.family) and is_blank(c.given))
    has_authority = c.local_id is not None or any(a.institution_code for a in c.affiliations)
    return bool(_CORPORATE_ROLES & set(c.roles)) and has_authority and not is_blank(c.corporate_name)


def _type_rules(pub: Publication) -> list[Problem]:
    problems = []
    if pub.publication_type not in SVEP_TYPES and pub.output_type not in output_types():
        problems.append(_reject("05", "publicationOrOutputTypeViolation", "publication_type",
                                f"Neither the publication type {pub.publication_type!r} nor the output type "
                                f"{pub.output_type!r} is one SwePub knows: choose a KB output type such as "
                                "publication/journal-article."))
    exempt = (pub.publication_type in _NO_CONTENT_TYPE_SVEP
              or (pub.output_type or "").startswith(_NO_CONTENT_TYPE_OUTPUT))
    if pub.content_type not in CONTENT_TYPES and not exempt:
        problems.append(_reject("07", "contentTypeViolation", "content_type",
                                "The content type is missing: say whether the work is peer reviewed (ref), "
                                "other academic (vet) or popular science/debate (pop)."))
    return problems


def _host_rules(pub: Publication) -> list[Problem]:
    output = pub.output_type or ""
    if (pub.publication_type in _HOST_REQUIRED_SVEP or output in _HOST_REQUIRED_OUTPUT) \
            and not _has_host(pub) and not _is_unpublished(pub):
        return [_reject("11", "relatedItemTypeMissing", "host",
                        "A published article, chapter or review must name what it appeared in: add the "
                        "journal or book (host) with its title.")]
    if (pub.publication_type in _HOST_FORBIDDEN_SVEP or output in _HOST_FORBIDDEN_OUTPUT) and _has_host(pub):
        return [_reject("12", "relatedItemTypeViolation", "host",
                        "Books, theses, reports, proceedings and patents are not published inside another "
                        "work: remove the host, or move it to series if it is one.")]
    return []


def minimum_level(pub: Publication) -> list[Problem]:
    """The rejections (codes 01-12) SwePub's minimum level would give ``pub``."""
    if pub.publication_type == STUDENT_THESIS:
        return [Problem("not_reported", "info", "publication_type", "Student theses are not SwePub output: this "
                        "record is not sent to SwePub, so SwePub's minimum level does not apply to it.")]
    problems: list[Problem] = []
    if is_blank(pub.institution_code):
        problems.append(_reject("01", "recordContentSourceViolation", "institution_code",
                                "The organisation code (recordContentSource) is missing: set the KB code of the "
                                "institution that delivers the record, e.g. uu or kth."))
    if not _is_artistic(pub) and not any(_counts_as_creator(c) for c in pub.contributors) and not pub.org_units:
        problems.append(_reject("02", "nameViolation", "contributors",
                                "No creator: add at least one person as author, editor or creator, or an "
                                "organisation from the authority register as author or publisher."))
    if all(is_blank(t.title) for t in pub.titles):
        problems.append(_reject("03", "titleViolation", "titles", "The title is missing: add the work's title."))
    problems += _type_rules(pub)
    if pub.issued is None and not _is_unpublished(pub) and pub.output_type != "publication/preprint":
        problems.append(_reject("08", "publicationDateViolation", "issued",
                                "The publication year is missing: add it, or set the status to submitted, "
                                "accepted or in press if the work is not yet published."))
    if all(is_blank(v) for v in pub.identifiers_of("uri")):
        problems.append(_reject("09", "uriViolation", "identifiers",
                                "The record's own URI (identifier of type uri, e.g. its URN:NBN resolver "
                                "address) is missing: SwePub links back to the record through it."))
    if all(is_blank(code) for code in pub.languages):
        problems.append(_reject("10", "languageViolation", "languages",
                                "The language of the content is missing: add an ISO 639-2 code such as swe or eng."))
    return problems + _host_rules(pub)


def _sentence(exc: ValueError) -> str:
    """A rule's ValueError message as a sentence on its own."""
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


def _identifier_problem(scheme: str, value: str, path: str) -> Problem | None:
    if scheme == "uri":
        if not value.isascii():
            return Problem("uri_not_ascii", "error", path, f"The URI {value!r} has characters outside ASCII: "
                           "percent-encode them (SwePub accepts ASCII URIs only).", "URI")
        scheme_check = ids.normalise_uri
    elif scheme in ids.NORMALISERS:
        scheme_check = ids.NORMALISERS[scheme]
    else:
        return Problem("identifier_scheme_unknown", "warning", path, f"{scheme!r} is not an identifier type "
                       f"SwePub reads; use one of {', '.join(ids.IDENTIFIER_SCHEMES)}.")
    try:
        scheme_check(value)
    except ValueError as exc:
        code = "issn_invalid" if scheme == "eissn" else f"{scheme}_invalid"
        severity = "error" if scheme in _STRICT_IDENTIFIERS else "warning"
        return Problem(code, severity, path, _sentence(exc), _FIELD_NAMES.get(scheme, ""))
    return None


def _identifier_checks(pub: Publication) -> list[Problem]:
    found: list[tuple[str, str | None, str]] = [
        (i.scheme, i.value, f"identifiers[{n}].value") for n, i in enumerate(pub.identifiers)]
    if pub.host is not None:
        found += [("issn", pub.host.issn, "host.issn"), ("eissn", pub.host.eissn, "host.eissn")]
        found += [("isbn", v, f"host.isbns[{n}]") for n, v in enumerate(pub.host.isbns)]
        found += [("orcid", c.orcid, f"host.editors[{n}].orcid") for n, c in enumerate(pub.host.editors)]
    for n, s in enumerate(pub.series):
        found += [("issn", s.issn, f"series[{n}].issn"), ("eissn", s.eissn, f"series[{n}].eissn")]
    found += [("orcid", c.orcid, f"contributors[{n}].orcid") for n, c in enumerate(pub.contributors)]
    checked = (_identifier_problem(scheme, value, path) for scheme, value, path in found if value is not None)
    return [p for p in checked if p is not None]


def _year_checks(pub: Publication, today: dt.date) -> list[Problem]:
    if pub.issued is None:
        return []
    year = pub.issued.year
    if year < 1000 or year > today.year + 1:
        return [Problem("year_implausible", "error", "issued", f"The publication year {year} cannot be right: "
                        f"it must lie between 1000 and {today.year + 1}.", "publication_year")]
    return []


def _listed_creators(pub: Publication) -> int:
    """Names SwePub counts against the creator count: authors, or editors when there are none."""
    authors = pub.contributors_in("aut", "cre")
    return len(authors) if authors else len(pub.contributors_in("edt"))


def _creator_checks(pub: Publication) -> list[Problem]:
    problems = []
    if pub.creator_count is not None and pub.creator_count < 1:
        problems.append(Problem("creator_count_invalid", "error", "creator_count",
                                f"The creator count {pub.creator_count} must be a positive whole number.",
                                "creator_count"))
    elif pub.creator_count is not None and _listed_creators(pub) > pub.creator_count:
        problems.append(Problem("creator_count_mismatch", "warning", "creator_count",
                                f"The creator count says {pub.creator_count} but {_listed_creators(pub)} creators "
                                "are listed: correct the count.", "creator_count_check"))
    seen: set[tuple[str, ...]] = set()
    for n, c in enumerate(pub.contributors):
        keys = {("name", c.inverted_name().casefold(), *sorted(c.roles))}
        keys |= {(kind, value) for kind, value in (("orcid", c.orcid), ("local", c.local_id)) if value}
        if keys & seen and c.inverted_name():
            problems.append(Problem("contributor_duplicate", "warning", f"contributors[{n}]",
                                    f"{c.display_name()} is listed twice in the same role: remove the duplicate.",
                                    "contributor_duplicate_check"))
        seen |= keys
    return problems


def _subject_problem(code: str, path: str) -> Problem | None:
    try:
        current = map_subject_code(code)
    except ValueError as exc:
        term = ssif_2025().get(code.strip())
        if code.strip() in ssif_2011() or (term is not None and term.deprecated):
            return Problem("ssif_legacy", "warning", path, f"{_sentence(exc)[:-1]}; SwePub flags it as legacy "
                           "until a current SSIF 2025 code is chosen.", "SSIF")
        return Problem("ssif_unknown", "error", path, _sentence(exc), "SSIF")
    if current != code.strip():
        return Problem("ssif_mapped", "info", path, f"The research subject {code} is from SSIF 2011; SwePub reads "
                       f"it as {current} in SSIF 2025: use {current}.", "SSIF")
    return None


def _subject_checks(pub: Publication) -> list[Problem]:
    if not pub.subjects:
        return [Problem("ssif_missing", "warning", "subjects", "No research subject (SSIF) is given: add at least "
                        "one 5-digit SSIF 2025 code, or SwePub classifies the record automatically.", "SSIF")]
    problems = [p for n, s in enumerate(pub.subjects) if (p := _subject_problem(s.code, f"subjects[{n}].code"))]
    if all(len(s.code.strip()) == 1 for s in pub.subjects):
        problems.append(Problem("ssif_comprehensive", "warning", "subjects", "Only 1-digit research subjects are "
                                "given: add the 3- or 5-digit SSIF codes that describe the work.",
                                "SSIF_comprehensive_check"))
    return problems


def _is_journal_article(pub: Publication) -> bool:
    return pub.publication_type in ("art", "for") or pub.output_type in _JOURNAL_ARTICLE_OUTPUT


def _required(path: str, message: str, severity: str = "error") -> Problem:
    return Problem("required_field_missing", severity, path, message)


def _required_fields(pub: Publication) -> list[Problem]:
    kind, output = pub.publication_type, pub.output_type or ""
    problems = []
    if (kind in _HOST_REQUIRED_SVEP or output in _HOST_REQUIRED_OUTPUT) and not _has_host(pub) \
            and _is_unpublished(pub):
        problems.append(_required("host.title", "Name the journal or book the work will appear in: once "
                                  "published, SwePub rejects it without one.", "warning"))
    if _is_journal_article(pub) and _has_host(pub) and pub.host is not None and not (pub.host.issn or pub.host.eissn):
        problems.append(Problem("issn_missing", "warning", "host.issn", "The journal has no ISSN: add its ISSN or "
                                "eISSN so the article is counted for the right journal.", "ISSN_missing_check"))
    level = _THESIS_LEVEL.get(output) or _THESIS_LEVEL.get(kind)
    if level and (pub.thesis is None or pub.thesis.level != level):
        problems.append(_required("thesis.level", f"A {level} thesis needs its thesis details with level {level}."))
    if kind == "dok" and (pub.thesis is None or pub.thesis.defence_at is None):
        problems.append(_required("thesis.defence_at", "A doctoral thesis needs the date and time of its public "
                                  "defence."))
    if kind == STUDENT_THESIS and (pub.thesis is None or is_blank(pub.thesis.level)):
        problems.append(_required("thesis.level", "A student thesis needs its level (bachelor, master...)."))
    if kind == "kon" and pub.conference is None:
        problems.append(_required("conference", "Name the conference the paper was given at.", "warning"))
    if kind in _PUBLISHER_EXPECTED and is_blank(pub.publisher):
        problems.append(_required("publisher", "Books, theses and reports should name their publisher.", "warning"))
    return problems


def field_checks(pub: Publication, *, today: dt.date | None = None) -> list[Problem]:
    """SwePub's field validations and audits on ``pub``: they flag, they never reject."""
    problems = _identifier_checks(pub)
    problems += _year_checks(pub, today or dt.date.today())
    problems += _creator_checks(pub)
    problems += _subject_checks(pub)
    problems += [Problem("language_invalid", "error", f"languages[{n}]", f"{code!r} is not an ISO 639-2 or 639-3 "
                         "language code: use a three-letter code such as swe or eng.")
                 for n, code in enumerate(pub.languages) if not is_blank(code) and not is_language_code(code)]
    return problems + _required_fields(pub)


def preflight(pub: Publication, *, today: dt.date | None = None) -> Verdict:
    """Both rule sets, most severe first: the editor's SwePub preflight and the aggregator's verdict."""
    problems = by_severity(minimum_level(pub) + field_checks(pub, today=today))
    return Verdict(accepted=not any(p.severity == "reject" for p in problems), problems=tuple(problems))
