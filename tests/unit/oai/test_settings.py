"""The provider's settings from app configuration: page sizes, administrators, base URL; bad values refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repository.config import settings_from_environment
from repository.oai.settings import ProviderSettings

CONFIG: dict[str, Any] = {"BASE_URL": "https://repo.example.org/", "REPOSITORY_NAME": "Repo",
                          "ADMIN_EMAIL": "a@example.org, b@example.org", "OAI_ID_NAMESPACE": "repo.example.org",
                          "SECRET_KEY": "s"}


def test_defaults_and_configured_values() -> None:
    settings = ProviderSettings.from_config(CONFIG, stylesheet="/static/oai2.xsl")
    assert settings.base_url == "https://repo.example.org/oai"
    assert settings.admin_emails == ("a@example.org", "b@example.org")
    assert (settings.records_page_size, settings.identifiers_page_size) == (100, 250)
    assert settings.site.oai_identifier(12) == "oai:repo.example.org:12"
    sized = ProviderSettings.from_config({**CONFIG, "OAI_PAGE_SIZE_RECORDS": "20", "OAI_PAGE_SIZE_IDENTIFIERS": 500})
    assert (sized.records_page_size, sized.identifiers_page_size) == (20, 500)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("OAI_PAGE_SIZE_RECORDS", 0, "between 1 and 10000"),
    ("OAI_PAGE_SIZE_IDENTIFIERS", "many", "whole number"),
    ("ADMIN_EMAIL", " , ", "empty"),
    ("ADMIN_EMAIL", "root", "not an e-mail address"),
])
def test_bad_settings_are_refused_clearly(key: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProviderSettings.from_config({**CONFIG, key: value})


def test_page_sizes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.delenv("OAI_PAGE_SIZE_RECORDS", raising=False)
    monkeypatch.setenv("OAI_PAGE_SIZE_IDENTIFIERS", "400")
    settings = ProviderSettings.from_config(settings_from_environment(tmp_path))
    assert (settings.records_page_size, settings.identifiers_page_size) == (100, 400)
    monkeypatch.setenv("OAI_PAGE_SIZE_RECORDS", "lots")
    with pytest.raises(ValueError, match="OAI_PAGE_SIZE_RECORDS must be a whole number"):
        ProviderSettings.from_config(settings_from_environment(tmp_path))
