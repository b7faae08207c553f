"""The collection without a query: documents filtered, sorted and paged, with facet counts.

:func:`browse` is the one entry point. Facets are type, province, year,
source (the web site a document came from) and an official document's type as
printed (``document_type``: "Quyết định", ...); each facet's counts are taken
under the other facets' filters, not its own, so choosing "Lào Cai" still
shows how many documents the other provinces have.

:func:`public_source` is how a document's source is shown anywhere: its URL
when it has one, else the file's name; never a path on the server.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath, PureWindowsPath
from typing import Literal
from urllib.parse import urlsplit

from index.store import Snapshot, StoredDocument
from search.filters import Filters, check_filters, document_matches, with_years

NO_SITE = "none"  # the source facet's value for documents without a web address
FACETS = ("type", "province", "year", "source", "document_type")
Sort = Literal["id", "title", "date", "date_asc"]


def source_url(source: str) -> str | None:
    """``source`` when it is a web address, else ``None``."""
    return source if source.startswith(("http://", "https://")) else None


def public_source(source: str) -> str:
    """A document's source as the API shows it: a URL or a name, never a server path.

    Ingest records the URL a document gives, else its file name relative to the
    folder it came from; versions built before that recorded absolute paths (an
    upload's even named its staging folder), which are cut to the file name here.
    """
    if source_url(source) or not source:
        return source
    if os.path.isabs(source) or PureWindowsPath(source).drive or source.startswith("~"):
        return PurePosixPath(source.replace("\\", "/")).name
    return source


def source_site(source: str) -> str:
    """The web site of a source URL without "www." ("baolaocai.vn"), or :data:`NO_SITE`."""
    url = source_url(source)
    if url is None:
        return NO_SITE
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or NO_SITE


@dataclass
class Browse:
    documents: list[StoredDocument]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def browse(
    snapshot: Snapshot,
    filters: Filters | None = None,
    year: int | Sequence[int] | None = None,
    site: str | None = None,
    sort: Sort = "id",
    offset: int = 0,
    limit: int | None = None,
) -> Browse:
    """Documents passing the filters (``year``, one or any of several, and source ``site``
    included), one page of them."""
    base = filters or Filters()
    check_filters(with_years(base, year))
    # Read once per version, as the filters do: a row carries the document's whole text.
    docs: list[StoredDocument] = snapshot.derived("documents", lambda s: s.documents())

    def keep(without: str | None) -> Callable[[StoredDocument], bool]:
        f = base
        if without == "type":
            f = replace(f, doc_type=None, doc_types=())
        if without == "province":
            f = replace(f, province=None, provinces=())
        if without == "document_type":
            f = replace(f, document_type=None, document_types=())
        # The year facet counts every year the date range (if any) allows.
        f = with_years(f, None if without == "year" else year)
        want_site = None if without == "source" else site

        def ok(d: StoredDocument) -> bool:
            if want_site is not None and source_site(d.source) != want_site:
                return False
            return f.is_empty() or document_matches(d, f)

        return ok

    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        counts: Counter[str] = Counter()
        for d in filter(keep(name), docs):
            if name == "type":
                counts[d.doc_type or "unknown"] += 1
            elif name == "province":
                counts.update(dict.fromkeys(d.provinces, 1))
            elif name == "year":
                if d.date:
                    counts[d.date[:4]] += 1
            elif name == "document_type":
                printed = str((d.header or {}).get("document_type", ""))
                if printed:
                    counts[printed] += 1
            else:
                counts[source_site(d.source)] += 1
        facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    chosen = [d for d in docs if keep(None)(d)]
    if sort == "title":
        chosen.sort(key=lambda d: (d.title.casefold(), d.doc_id))
    elif sort != "id":
        # Undated documents last either way.
        dated = sorted(
            (d for d in chosen if d.date), key=lambda d: (d.date, d.doc_id), reverse=sort == "date"
        )
        chosen = dated + [d for d in chosen if not d.date]
    end = None if limit is None else offset + limit
    return Browse(documents=chosen[offset:end], total=len(chosen), facets=facets)
