"""What the provider takes from the application's configuration, read once per request into one value.

The provider itself never touches Flask: the web layer builds ``ProviderSettings`` from
``app.config`` and passes it in, so the verbs run the same in a request, a test or a benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repository.services.readmodel import Site

DEFAULT_RECORDS_PAGE_SIZE = 100
DEFAULT_IDENTIFIERS_PAGE_SIZE = 250
_EMAIL = re.compile(r"\S+@(\S+\.)+\S+")  # the OAI-PMH schema's emailType


def _page_size(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a whole number of records, not {value!r}") from None
    if not 1 <= size <= 10_000:
        raise ValueError(f"{key} must be between 1 and 10000, not {size}")
    return size


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    base_url: str  # the OAI-PMH base URL: BASE_URL + "/oai"
    repository_name: str
    admin_emails: tuple[str, ...]
    site: Site  # landing pages, file URLs and OAI identifiers of records
    secret_key: str  # signs resumption tokens
    records_page_size: int = DEFAULT_RECORDS_PAGE_SIZE
    identifiers_page_size: int = DEFAULT_IDENTIFIERS_PAGE_SIZE
    stylesheet: str | None = None  # href of the XSLT that makes responses readable in a browser

    @property
    def namespace(self) -> str:
        return self.site.oai_namespace

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, stylesheet: str | None = None) -> ProviderSettings:
        """From Flask configuration keys; ADMIN_EMAIL may list several addresses separated by commas."""
        base = str(config["BASE_URL"]).rstrip("/")
        emails = tuple(e.strip() for e in str(config["ADMIN_EMAIL"]).split(",") if e.strip())
        if not emails:
            raise ValueError("ADMIN_EMAIL is empty: Identify must name at least one administrator")
        for email in emails:
            if not _EMAIL.fullmatch(email):
                raise ValueError(f"ADMIN_EMAIL {email!r} is not an e-mail address (OAI-PMH Identify sends it)")
        return cls(
            base_url=f"{base}/oai",
            repository_name=str(config["REPOSITORY_NAME"]),
            admin_emails=emails,
            site=Site(base, str(config["OAI_ID_NAMESPACE"])),
            secret_key=str(config["SECRET_KEY"]),
            records_page_size=_page_size(config, "OAI_PAGE_SIZE_RECORDS", DEFAULT_RECORDS_PAGE_SIZE),
            identifiers_page_size=_page_size(config, "OAI_PAGE_SIZE_IDENTIFIERS", DEFAULT_IDENTIFIERS_PAGE_SIZE),
            stylesheet=stylesheet,
        )
