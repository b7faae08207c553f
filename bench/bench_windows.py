"""What sentence windows cost: ingest time, index size and query latency, on and off.

    python bench/bench_windows.py [--xquad ../shared/eval/xquad] [--queries 200]

Ingests XQuAD's 240 Vietnamese paragraphs twice with the configured embedder,
into fresh indexes, without windows (the baseline) and with them; then times
single English queries (embedding included, as a user waits for it) against
the dense and hybrid retrievers of the windowed index, with windows off and
on. Prints the table with ratios against the baseline of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.build import build_index
from index.embed import make_embedder
from index.store import open_current
from index.stores import LocalStore
from policy_search.settings import Settings
from search.hybrid import HybridRetriever
from search.lexical import accent_model
from search.query import plan_query
from search.retrieve import DenseRetriever, Retriever
from search.windows import dense_retriever


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", default="../shared/eval/xquad")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    xquad = Path(args.xquad)
    vi = json.loads((xquad / "xquad.vi.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((xquad / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for a in vi for p in a["paragraphs"]]
    questions = [q["question"] for a in en for p in a["paragraphs"] for q in p["qas"]]
    questions = questions[: args.queries]
    embedder = make_embedder(Settings().embedder_spec)
    embedder.embed_queries(["warm up"])

    # (measure, windows off, windows on, unit)
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for i, text in enumerate(paragraphs):
            (docs / f"p{i:03d}.txt").write_text(text + "\n", encoding="utf-8")
        seconds, sizes, vectors = {}, {}, {}
        for windows in (False, True):
            index_dir = Path(tmp) / f"index-{windows}"
            started = time.perf_counter()
            report = build_index([docs], index_dir, embedder, windows=windows)
            seconds[windows] = time.perf_counter() - started
            sizes[windows] = folder_size(open_current(index_dir).path) / 2**20
            vectors[windows] = report.chunks + report.embedded_windows
        rows.append(("ingest (parse, chunk, embed, write)", seconds[False], seconds[True], "s"))
        rows.append(("vectors in the index", vectors[False], vectors[True], ""))
        rows.append(("index folder", sizes[False], sizes[True], "MiB"))

        snap = open_current(Path(tmp) / "index-True")
        pairs: dict[str, tuple[Retriever, Retriever]] = {
            "dense": (
                DenseRetriever(LocalStore(snap), embedder),
                dense_retriever(LocalStore(snap), embedder),
            ),
            "hybrid": (
                HybridRetriever(LocalStore(snap), embedder, windows=False),
                HybridRetriever(LocalStore(snap), embedder),
            ),
        }
        accents = accent_model(snap)
        for name, (off, on) in pairs.items():
            medians = []
            for retriever in (off, on):
                times = []
                for q in questions:
                    started = time.perf_counter()
                    retriever.retrieve(plan_query(q, accents), 10)
                    times.append(time.perf_counter() - started)
                medians.append(statistics.median(times) * 1000)
            rows.append((f"query median, {name} (embedding included)", *medians, "ms"))

    print(f"embedder: {embedder.name}; {len(paragraphs)} paragraphs; {len(questions)} queries")
    print(f"{'measure':42s} {'windows off':>12s} {'windows on':>12s} {'on/off':>7s}")
    for name, off_value, on_value, unit in rows:
        print(
            f"{name:42s} {off_value:9.1f} {unit:3s}{on_value:9.1f} {unit:3s}"
            f"{on_value / off_value:6.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
