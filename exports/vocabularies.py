"""The controlled vocabularies bundled with Hylla: SSIF subjects, KB output types, languages.

Loaded lazily once per process from ``exports/data/`` so that validation runs offline.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass
from importlib import resources

import pycountry

from exports.readmodel import STUDENT_THESIS, SVEP_TYPES

OUTPUT_TYPE_BASE_URI = "https://id.kb.se/term/swepub/output/"


@dataclass(frozen=True, slots=True)
class SubjectTerm:
    code: str
    label_sv: str
    label_en: str
    broader: str | None
    deprecated: bool = False
    replaced_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutputType:
    code: str
    uri: str
    label_sv: str
    svep: tuple[str, ...]


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("exports.data").joinpath(name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@functools.cache
def ssif_2025() -> dict[str, SubjectTerm]:
    """Every SSIF 2025 code, current and deprecated, by code."""
    return {
        row["code"]: SubjectTerm(
            code=row["code"],
            label_sv=row["label_sv"],
            label_en=row["label_en"],
            broader=row["broader"] or None,
            deprecated=row["status"] != "current",
            replaced_by=tuple(row["replaced_by"].split()),
        )
        for row in _rows("ssif-2025.csv")
    }


@functools.cache
def ssif_2011() -> dict[str, SubjectTerm]:
    return {
        row["code"]: SubjectTerm(row["code"], row["label_sv"], row["label_en"], row["broader"] or None)
        for row in _rows("ssif-2011.csv")
    }


def map_subject_code(code: str) -> str:
    """The current SSIF 2025 code for ``code`` (itself, or its 2011 replacement).

    A deprecated code maps to its single replacement, or to the common three-digit parent when
    all replacements share one, as SwePub does. Raises ValueError for unknown or unmappable codes.
    """
    code = code.strip()
    terms = ssif_2025()
    term = terms.get(code)
    if term is None and code in ssif_2011():
        raise ValueError(f"research subject {code} from SSIF 2011 has no SSIF 2025 counterpart")
    if term is None:
        raise ValueError(f"{code!r} is not an SSIF research subject code (1, 3 or 5 digits from the "
                         "Swedish standard for research subjects)")
    if not term.deprecated:
        return code
    replacements = [r for r in term.replaced_by if r in terms and not terms[r].deprecated]
    if len(replacements) == 1:
        return replacements[0]
    parents = {r[:3] for r in replacements}
    if len(parents) == 1 and replacements:
        return parents.pop()
    raise ValueError(f"research subject {code} is deprecated and has no single SSIF 2025 replacement "
                     f"(choose one of {', '.join(term.replaced_by) or 'the current codes'})")


def subject_labels(code: str) -> tuple[str, str]:
    """(English, Swedish) labels of a current SSIF 2025 code; empty strings when unknown."""
    term = ssif_2025().get(code)
    if term is None:
        return "", ""
    return term.label_en or term.label_sv, term.label_sv


@functools.cache
def output_types() -> dict[str, OutputType]:
    types = {
        row["code"]: OutputType(row["code"], row["uri"], row["label_sv"], tuple(row["svep_publication_type"].split()))
        for row in _rows("swepub-output-types.csv")
    }
    # Accepted by SwePub's minimum level though missing from KB's JSON (see data/README.md).
    code = "artistic-work/curated-exhibition-or-event"
    types.setdefault(code, OutputType(code, OUTPUT_TYPE_BASE_URI + code, "Kurerad utställning eller evenemang", ("kfu",)))
    return types


# The output type a SVEP type maps to by default, refined by the content type for articles.
_DEFAULT_OUTPUT_TYPE = {
    "art": "publication/journal-article",
    "for": "publication/review-article",
    "kon": "conference/paper",
    "pro": "conference/proceeding",
    "bok": "publication/book",
    "sam": "publication/edited-book",
    "kap": "publication/book-chapter",
    "rap": "publication/report",
    "rec": "publication/book-review",
    "dok": "publication/doctoral-thesis",
    "lic": "publication/licentiate-thesis",
    "pat": "intellectual-property/patent",
    "kfu": "artistic-work/original-creative-work",
    "ovr": "publication/other",
}
_ARTICLE_BY_CONTENT = {"ref": "publication/journal-article", "vet": "publication/magazine-article",
                       "pop": "publication/newspaper-article"}


def default_output_type(publication_type: str, content_type: str | None) -> str | None:
    """The KB output type for a SVEP type (None for student theses, which SwePub does not take)."""
    if publication_type == STUDENT_THESIS:
        return None
    if publication_type == "art" and content_type in _ARTICLE_BY_CONTENT:
        return _ARTICLE_BY_CONTENT[content_type]
    return _DEFAULT_OUTPUT_TYPE[publication_type]


def svep_type_of(output_type: str) -> str | None:
    """The first SVEP publication type an output type maps to."""
    found = output_types().get(output_type)
    return found.svep[0] if found and found.svep else None


assert set(_DEFAULT_OUTPUT_TYPE) == set(SVEP_TYPES)


@functools.cache
def _languages() -> dict[str, str]:
    """ISO 639-2/B and 639-3 codes to English names (B codes where they differ from T codes)."""
    names: dict[str, str] = {}
    for lang in pycountry.languages:
        names[lang.alpha_3] = lang.name
        bib = getattr(lang, "bibliographic", None)
        if bib:
            names[bib] = lang.name
    return names


def is_language_code(code: str) -> bool:
    """An ISO 639-2/B or 639-3 three-letter code, as MODS ``languageTerm`` and SwePub want."""
    return len(code) == 3 and code in _languages()


def language_name(code: str) -> str:
    return _languages().get(code, code)


def to_bibliographic(code: str) -> str:
    """The ISO 639-2/B form of a terminology or 639-3 code (``deu`` -> ``ger``)."""
    lang = pycountry.languages.get(alpha_3=code)
    if lang is not None:
        return getattr(lang, "bibliographic", None) or lang.alpha_3
    return code


def iso639_1(code: str) -> str | None:
    """Two-letter code for a three-letter one (``swe`` -> ``sv``), for xml:lang and CSL."""
    lang = pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)
    return getattr(lang, "alpha_2", None) if lang else None


@functools.cache
def flag_labels() -> dict[str, dict[str, str]]:
    with resources.files("exports.data").joinpath("swepub-flag-labels.json").open(encoding="utf-8") as fh:
        return json.load(fh)
