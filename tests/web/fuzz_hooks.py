"""Schemathesis hooks for the whole-schema run (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks).

Three rules a JSON schema cannot state, which the server answers with 422
``bad_query`` and the parameters' descriptions say in words:

* ``date_from`` must not come after ``date_to`` (or after ``year``): a rule across
  fields;
* past the first page, ``offset + k`` must be at most ``POLICY_SEARCH_MAX_RESULTS``
  (``k`` defaulting to ``POLICY_SEARCH_DEFAULT_K``): a rule across fields too;
* ``issuer``, ``number`` and ``document_type`` must name a body, one document
  number and a type as printed, in any case and with or without diacritics
  (:func:`search.filters.check_filters`): the set of such strings has no pattern
  short of the server's own reader. Their length limit is in the schema and is
  not filtered here.

Generated queries that break one of them are left out, so every other
schema-valid request must be accepted. (tests/web/test_fuzz_api.py's
``test_api_matches_its_schema`` still sends every generated value, checking that
none gets a 5xx or an undocumented answer.)
"""

from __future__ import annotations

from typing import Any

import schemathesis

from policy_search.settings import Settings
from search.filters import MAX_TEXT_FILTER_CHARS, Filters, check_filters, with_year

_HEADER_FIELDS = ("issuer", "number", "document_type")


def _one_year(value: Any) -> int | None:
    """The year a query names, when it names one: a list of one year is one year (the query
    string cannot tell them apart); several years pass a document dated in any of them and
    bound no range."""
    given = value if isinstance(value, list) else [value]
    years = {y for y in given if isinstance(y, int) and not isinstance(y, bool)}
    return years.pop() if len(years) == 1 and len(years) == len(set(map(repr, given))) else None


def _bounds(query: dict[str, Any]) -> tuple[str | None, str | None]:
    """The date range the server searches: date_from and date_to narrowed to the year
    (:func:`search.filters.with_year`)."""
    lo, hi = query.get("date_from"), query.get("date_to")
    narrowed = with_year(
        Filters(
            date_from=lo if isinstance(lo, str) and lo else None,
            date_to=hi if isinstance(hi, str) and hi else None,
        ),
        _one_year(query.get("year")),
    )
    return narrowed.date_from, narrowed.date_to


def _readable(query: dict[str, Any]) -> bool:
    # issuer and document_type may be repeated: each value must be readable.
    for k in _HEADER_FIELDS:
        given = query.get(k)
        for v in given if isinstance(given, list) else [given]:
            if not (isinstance(v, str) and v and len(v) <= MAX_TEXT_FILTER_CHARS):
                continue
            try:
                check_filters(Filters(**{k: v}))
            except ValueError:
                return False
    return True


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    # A case hook, not a query hook: the coverage phase applies only these.
    return not isinstance(case.query, dict) or (_readable(case.query) and _within_cap(case.query))


def _within_cap(query: dict[str, Any]) -> bool:
    offset, k = query.get("offset"), query.get("k")
    if "q" not in query:  # /api/documents pages by its own offset and limit, uncapped
        return True
    if not isinstance(offset, int) or isinstance(offset, bool) or offset <= 0:
        return True
    settings = Settings()  # the fuzzed server's limits are the defaults (and the env's)
    k = k if isinstance(k, int) and not isinstance(k, bool) else settings.default_k
    return offset + k <= settings.max_results


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    if not query:
        return True
    if not _within_cap(query):
        return False
    lo, hi = _bounds(query)
    if lo is None or hi is None:
        return True
    n = min(len(lo), len(hi))
    return lo[:n] <= hi[:n]
