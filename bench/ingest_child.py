"""One timed ingest, in a process of its own, for bench/bench_ingest.py (prints one JSON line).

    python bench/ingest_child.py FOLDER INDEX_DIR --windows late|separate|off

Run by file path, not as a module, so that with ``PYTHONPATH`` pointing at an
older checkout it ingests with that checkout's code: it uses only what every
version has (``build_index`` with an embedder and the extraction sandbox), and
reads the stage times from the report where the code records them. For code
that does not, extraction and embedding are timed from outside (the parser and
the embedder are wrapped), and the rest is "other".
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class _TimedParser:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __call__(self, path: Path, root: Path | None = None) -> Any:
        started = time.perf_counter()
        try:
            return self.inner(path, root)
        finally:
            self.seconds += time.perf_counter() - started


class _TimedEmbedder:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.seconds = 0.0

    def embed_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts, progress=progress)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def token_count(self, text: str) -> int:
        return int(self.inner.token_count(text))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("index")
    parser.add_argument("--windows", choices=["late", "separate", "off"], default="late")
    args = parser.parse_args()

    started = time.perf_counter()
    from index.build import build_index
    from index.embed import make_embedder
    from ingest.sandbox import ExtractionLimits, SandboxedParser
    from policy_search.settings import Settings

    settings = Settings()
    embedder = make_embedder(getattr(settings, "embedder_spec", settings.embedder))
    embedder.embed_passages(["khởi động"])  # first call: lazy set-up out of the timing
    load_s = time.perf_counter() - started

    shutil.rmtree(args.index, ignore_errors=True)
    kwargs: dict[str, Any] = {"windows": args.windows != "off"}
    if "window_method" in inspect.signature(build_index).parameters:
        kwargs["window_method"] = "late" if args.windows == "off" else args.windows
        sandbox: Any = SandboxedParser(ExtractionLimits.from_settings(settings))
        timed_embedder: Any = embedder
    else:
        if args.windows == "late":
            sys.exit("this code has no late windows")
        sandbox = _TimedParser(SandboxedParser(ExtractionLimits.from_settings(settings)))
        timed_embedder = _TimedEmbedder(embedder)
    started = time.perf_counter()
    report = build_index(
        [Path(args.folder)], Path(args.index), timed_embedder, parser=sandbox, **kwargs
    )
    total = time.perf_counter() - started
    stages = dict(getattr(report, "stages", {}) or {})
    if not stages:
        stages = {"extract": sandbox.seconds, "embed": timed_embedder.seconds}
        stages["other"] = total - stages["extract"] - stages["embed"]
    print(
        json.dumps(
            {
                "total": total,
                "load": load_s,
                "stages": stages,
                "documents": report.documents,
                "chunks": report.chunks,
                "windows": report.embedded_windows,
                "problems": len(report.problems),
            }
        )
    )


if __name__ == "__main__":
    main()
