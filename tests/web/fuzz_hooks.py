"""Schemathesis hooks for the whole-schema run (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks).

A JSON schema cannot say that ``date_from`` must not come after ``date_to``
(or after ``year``); the server answers such a pair with 422 ``bad_query``.
Generated queries that break that one cross-field rule are left out, so
every other schema-valid request must be accepted.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _bounds(query: dict[str, Any]) -> tuple[str | None, str | None]:
    year = query.get("year")
    year_text = f"{year:04d}" if isinstance(year, int) and not isinstance(year, bool) else None
    lo, hi = query.get("date_from") or year_text, query.get("date_to") or year_text
    return (lo if isinstance(lo, str) else None), (hi if isinstance(hi, str) else None)


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    if not query:
        return True
    lo, hi = _bounds(query)
    if lo is None or hi is None:
        return True
    n = min(len(lo), len(hi))
    return lo[:n] <= hi[:n]
