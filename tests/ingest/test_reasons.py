"""Every reason the code writes for a rejected file has a stable code (ingest/reasons.py),
and the page's message table (web/static/messages.js) says each code in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingest.reasons import OTHER, REASONS, reason_code

REPO = Path(__file__).resolve().parents[2]
# Where reasons are written: (callable, index of the reason argument).
WRITERS = {"IngestProblem": 1, "ExtractionError": 0, "_reject": 1}
SOURCES = [
    *sorted((REPO / "ingest").glob("*.py")),
    REPO / "index" / "build.py",
    REPO / "web" / "admin.py",
]


def _render(node: ast.expr) -> str | None:
    """A reason as the code writes it, each interpolated value as "7"; None when it is not
    written there (a variable holding a reason from elsewhere)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "7" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _render(node.left)
        return None if left is None else left + (_render(node.right) or "7")
    return None


def written_reasons() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                at = WRITERS.get(name)
                if at is not None and len(node.args) > at:
                    text = _render(node.args[at])
                    if text is not None:
                        found.append((f"{path.name}:{node.lineno}", text))
            # The sandbox words a child's end (time, memory, signal) in _reason's returns.
            if isinstance(node, ast.FunctionDef) and node.name == "_reason":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        text = _render(ret.value)
                        if text is not None:
                            found.append((f"{path.name}:{ret.lineno}", text))
    return found


def test_every_written_reason_has_a_code() -> None:
    reasons = written_reasons()
    assert len(reasons) >= 25, reasons  # the scan finds them (ingest, sandbox, build, upload)
    unknown = [(where, text) for where, text in reasons if reason_code(text)[0] == OTHER]
    assert not unknown, unknown


@pytest.mark.parametrize(
    ("reason", "code", "args"),
    [
        (
            "the file is 26222380 bytes; the limit is 20971520 bytes (POLICY_SEARCH_MAX_UPLOAD_BYTES)",
            "too_large",
            {"size": "26222380", "limit": "20971520"},
        ),
        (
            "unsupported file type .xlsx; supported: .docx, .pdf",
            "unsupported_type",
            {"type": ".xlsx", "supported": ".docx, .pdf"},
        ),
        ("unsupported file type .xlsx", "unsupported_type", {"type": ".xlsx"}),
        (
            "PDF has 900 pages; the limit is 500 (POLICY_SEARCH_MAX_PDF_PAGES)",
            "too_many_pages",
            {"pages": "900", "limit": "500"},
        ),
        ("not a PDF: the file is not in PDF format", "not_pdf", {}),
        (
            "text extraction took longer than 1.5 s and was stopped",
            "extraction_timeout",
            {"seconds": "1.5"},
        ),
        ("a document with id 'x' already exists (from a.txt); rename the file", "duplicate_id", {}),
        ("something new", OTHER, {}),
    ],
)
def test_codes_and_values(reason: str, code: str, args: dict[str, str]) -> None:
    assert reason_code(reason) == (code, args)


def test_the_page_says_every_code_in_both_languages() -> None:
    text = (REPO / "web" / "static" / "messages.js").read_text(encoding="utf-8")
    table = text[text.index("const REASONS") : text.index("const UNKNOWN_REASON")]
    said = set(re.findall(r"^\s*(\w+): \{", table, re.M))
    assert said == set(REASONS), (set(REASONS) - said, said - set(REASONS))
    for code in REASONS:
        entry = table[table.index(f"{code}: {{") :].split("\n    }", 1)[0]
        assert " vi:" in entry and " en:" in entry, code
