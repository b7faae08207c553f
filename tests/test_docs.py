"""The docs cannot drift from the code: every setting in the README, docs named by subject."""

from __future__ import annotations

import re
from pathlib import Path

from policy_search.settings import Settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _settings_table() -> set[str]:
    """The variables named in the first column of the README's settings table."""
    section = README[README.index("\n## Settings") :]
    section = section[: section.index("\n## ", 1)]
    named: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `POLICY_SEARCH_"):
            named |= set(re.findall(r"POLICY_SEARCH_[A-Z0-9_]+", line.split("|")[1]))
    return named


def test_every_setting_is_documented_in_the_readme() -> None:
    settings = {f"POLICY_SEARCH_{name.upper()}" for name in Settings.model_fields}
    table = _settings_table()
    assert sorted(settings - table) == [], "settings missing from README's settings table"
    assert sorted(table - settings) == [], "README documents settings that do not exist"


def test_docs_are_named_by_subject_and_links_resolve() -> None:
    docs = sorted((REPO / "docs").glob("*.md"))
    assert docs
    assert [d.name for d in docs if re.search(r"issue", d.name, re.IGNORECASE)] == []
    for page in [REPO / "README.md", *docs]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(((?:docs/)?[\w.-]+\.md)\)", text):
            base = REPO if target.startswith("docs/") else page.parent
            assert (base / target).is_file(), f"{page.name} links to missing {target}"
