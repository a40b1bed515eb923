"""Small builders for test data: institutions, units, people, users and valid publication input."""

from __future__ import annotations

import copy
import functools
import itertools
from typing import Any

from repository.db import session
from repository.models import Institution, OrgUnit, Person, User
from repository.auth import hash_password

_seq = itertools.count(1)


def institution(code: str = "uu", name: str = "Uppsala University", domain: str = "uu.se") -> Institution:
    inst = Institution(code=code, name=name, name_sv=None, domain=domain)
    session.add(inst)
    session.commit()
    return inst


def unit(inst: Institution, code: str, name: str, parent: OrgUnit | None = None) -> OrgUnit:
    path = f"{parent.path}:{code}" if parent else f"{inst.code}:{code}"
    found = OrgUnit(institution_id=inst.id, parent_id=parent.id if parent else None, code=code, path=path, name=name)
    session.add(found)
    session.commit()
    return found


def person(family: str = "Öberg", given: str = "Åsa", orcid: str | None = None, inst: Institution | None = None) -> Person:
    found = Person(family_name=family, given_name=given, orcid=orcid, local_id=f"p{next(_seq)}",
                   institution_id=inst.id if inst else None)
    session.add(found)
    session.commit()
    return found


PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    """Argon2 is slow on purpose; hash the shared test password once per run."""
    return hash_password(PASSWORD)


def user(role: str = "submitter", inst: Institution | None = None, email: str | None = None) -> User:
    found = User(email=email or f"{role}{next(_seq)}@example.org", password_hash=_password_hash(), role=role,
                 institution_id=inst.id if inst else None, active=True)
    session.add(found)
    session.commit()
    return found


ARTICLE: dict[str, Any] = {
    "publication_type": "art",
    "content_type": "ref",
    "titles": [{"title": "Ålgräsängar i Östersjön", "subtitle": "en översikt", "lang": "swe"},
               {"title": "Eelgrass meadows in the Baltic Sea", "lang": "eng", "kind": "translated"}],
    "abstracts": [{"text": "Vi studerar ålgräs.", "lang": "swe"}],
    "keywords": [{"term": "ålgräs", "lang": "swe"}, {"term": "eelgrass", "lang": "eng"}],
    "subjects": ["10501"],
    "languages": ["swe"],
    "issued": "2021-05-17",
    "host": {"kind": "journal", "title": "Marine Ecology Progress Series", "issn": "0171-8630",
             "volume": "12", "issue": "3", "page_start": "101", "page_end": "118"},
    "identifiers": [{"scheme": "doi", "value": "https://doi.org/10.3354/MEPS12345"}],
    "contributors": [
        {"family": "Öberg", "given": "Åsa", "orcid": "0000-0002-1825-0097", "affiliations": [{"name": "Uppsala universitet"}]},
        {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford", "country": "GB"}]},
    ],
    "licence": "https://creativecommons.org/licenses/by/4.0/",
}

DOCTORAL_THESIS: dict[str, Any] = {
    "publication_type": "dok",
    "content_type": "vet",
    "titles": [{"title": "Proteinveckning i cellmembran", "lang": "swe"}],
    "languages": ["swe"],
    "issued": "2023",
    "publisher": "Acta Universitatis Upsaliensis",
    "place": "Uppsala",
    "identifiers": [{"scheme": "isbn", "value": "978-91-513-1234-7"}],
    "series": [{"title": "Digital Comprehensive Summaries of Uppsala Dissertations", "issn": "1651-6214", "number": "2231"}],
    "contributors": [
        {"family": "Karlsson", "given": "Märta"},
        {"family": "Ek", "given": "Lars", "roles": ["ths"]},
        {"family": "Doe", "given": "Jane", "roles": ["opn"], "affiliations": [{"name": "MIT"}]},
    ],
    "thesis": {"level": "doctoral", "defence_at": "2023-05-12T09:15:00+00:00", "defence_place": "A1:111a, BMC",
               "nailing_date": "2023-04-20"},
}


def article(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(ARTICLE)
    data.update(overrides)
    return data


def doctoral_thesis(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(DOCTORAL_THESIS)
    data.update(overrides)
    return data
