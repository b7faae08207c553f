"""Stable codes for the reasons a file is rejected, and the numbers each reason names.

Ingest, the sandbox and the upload route say why a file was refused in English words a
person can act on (``IngestProblem.reason``); those words may change. :func:`reason_code`
reads a reason into a stable code and the values it names (a size and its limit, a page
count, ...), so that a client shows its own message, in its own language, keyed by the
code (web/static/messages.js) and never by the wording. :data:`REASONS` is the one table:
a new reason gets its code here (tests/ingest/test_reasons.py finds every reason the code
writes and checks it has one).
"""

from __future__ import annotations

import re

# code -> the reason's opening words; named groups are the values the message needs.
REASONS: dict[str, re.Pattern[str]] = {
    code: re.compile(pattern)
    for code, pattern in {
        "no_name": r"^the file has no usable name",
        "unsupported_type": r"^unsupported file type (?P<type>[^;\s]+)(?:; supported: (?P<supported>.+))?",
        "too_large": r"^the file is (?P<size>\d+) bytes; the limit is (?P<limit>\d+) bytes",
        "duplicate_name": r"^the same file name twice",
        "empty_file": r"^empty file",
        "bad_file_name": r"^the server's file system refuses this file name",
        "not_pdf": r"^not a PDF",
        "unreadable_pdf": r"^not a readable PDF",
        "encrypted_pdf": r"^encrypted PDF",
        "pdf_no_pages": r"^PDF has no pages",
        "too_many_pages": r"^PDF has (?P<pages>\d+) pages; the limit is (?P<limit>\d+)",
        "no_extractable_text": r"^no extractable text",
        "not_docx": r"^not a DOCX",
        "unreadable_docx": r"^not a readable DOCX",
        "bad_encoding": r"^not UTF-8 or Windows-1258 text",
        "binary_text": r"^binary data in a text file",
        "unreadable_file": r"^cannot read file",
        "extraction_failed": r"^could not extract text",
        "too_long": r"^document has (?P<chars>\d+) characters of text; the limit is (?P<limit>\d+)",
        "no_text": r"^no text (?:left after cleaning|to index after chunking)",
        "extraction_timeout": r"^text extraction (?:took longer|used more) than (?P<seconds>[\d.]+) s",
        "extraction_memory": r"^text extraction needed more than (?P<mib>\d+) MiB",
        "extractor_crashed": r"^(?:the file crashed the text extractor|text extraction ended without)",
        "duplicate_id": r"^(?:a document with id .* already exists|same document id)",
        "outside_link": r"^a link to .*links are not followed",
        "pending": r"^pending$",
    }.items()
}
# A reason no pattern knows (a client shows a general message and the words on hover).
OTHER = "other"


def reason_code(reason: str) -> tuple[str, dict[str, str]]:
    """The code of a rejection reason and the values it names, or (:data:`OTHER`, {})."""
    for code, pattern in REASONS.items():
        m = pattern.search(reason)
        if m:
            return code, {k: v for k, v in m.groupdict().items() if v is not None}
    return OTHER, {}
