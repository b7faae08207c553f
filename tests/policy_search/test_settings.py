"""The settings object: every setting documented, limits validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from policy_search.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_help_and_a_row_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"POLICY_SEARCH_{name.upper()}" in readme, name


def test_ingest_and_search_default_to_the_same_window_method(tmp_path, monkeypatch) -> None:
    from index.windows import DEFAULT_METHOD

    monkeypatch.delenv("POLICY_SEARCH_WINDOW_METHOD", raising=False)
    # build_index's default (what tests and library callers build) is what a server expects.
    assert Settings(index_dir=tmp_path).window_method == DEFAULT_METHOD


def test_trusted_proxies_are_addresses_or_networks(tmp_path) -> None:
    s = Settings(index_dir=tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8,::1")
    assert s.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]
    assert Settings(index_dir=tmp_path).trusted_proxies == []  # nobody by default
    with pytest.raises(ValidationError, match="not an address"):
        Settings(index_dir=tmp_path, trusted_proxies="nginx.local")


@pytest.mark.parametrize(
    "values",
    [
        {"max_concurrent_asks": 0},
        {"admission_wait_s": 0},
        {"ask_cost": 0},
        {"max_document_part_chars": 10},
        {"max_file_bytes": 1},
        {"request_timeout_s": 0},
    ],
)
def test_admission_and_size_limits_are_validated(tmp_path, values) -> None:
    with pytest.raises(ValidationError):
        Settings(index_dir=tmp_path, **values)
