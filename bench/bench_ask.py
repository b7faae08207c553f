"""Latency of ``/api/ask`` for new questions on the bundled corpus, against ``/api/search``.

    python -m bench.bench_ask
    python -m bench.bench_ask --clients 1 4 --limit 200
    python -m bench.bench_ask --index /tmp/policy-search-bench/lawqa-ingest/index-4000 --limit 200

``--index PATH``: an index built elsewhere instead of ``corpus/``, asked the lawqa
development questions by default (``--questions``; see bench/bench_query.py).

Indexes ``corpus/`` once (cached under ``POLICY_SEARCH_BENCH_DIR``), then for
each endpoint starts a fresh ``policy-search serve`` (default settings: the
embedder in its own process) and sends every question of the built-in answer
sets (search/data/answers_*.json, each in Vietnamese, without diacritics and
in English: several hundred different questions), so every request embeds a
new question and nothing is served from the query cache. Each question is
asked once per client count. Baseline for the ratio column: ``/api/search``
for the same questions, one client, in the same run. The load generator
shares the machine's cores with the server (and with whatever else runs):
compare ratios, not absolute numbers, across machines.

Target (issue 12): ``/api/ask`` p95 under 300 ms for new questions.
"""

from __future__ import annotations

import argparse
import time
import urllib.parse
from pathlib import Path

from bench.bench_query import Server, add_index_arguments, pick_questions, run_load
from bench.common import BENCH_DIR, REPO, embedder, existing_index, percentile, print_table
from evaluation.answers import ANSWER_SETS, load_answer_set
from index.build import build_index


def questions(limit: int | None) -> list[str]:
    out = list(
        dict.fromkeys(q.query for path in ANSWER_SETS.values() for q in load_answer_set(path))
    )
    return out[:limit] if limit else out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--k", type=int, default=5)
    add_index_arguments(parser)
    args = parser.parse_args()

    emb = embedder()
    env = {"POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "0"}
    if args.index:
        index_dir = Path(args.index)
        _, index_env, note = existing_index(index_dir, emb)
        env.update(index_env)
        print(note)
        asked = list(dict.fromkeys(pick_questions(args)))
        asked = asked[: args.limit] if args.limit else asked
        print(f"{len(asked)} different questions ({args.questions})")
    else:
        index_dir = BENCH_DIR / f"corpus-ask-{''.join(c if c.isalnum() else '-' for c in emb.name)}"
        started = time.perf_counter()
        build_index([REPO / "corpus"], index_dir, emb)
        print(f"corpus index ready in {time.perf_counter() - started:.1f} s: {index_dir}")
        asked = questions(args.limit)
        print(f"{len(asked)} different questions (answer sets, three forms each)")

    rows = []
    baseline = None
    for endpoint in ("/api/search", "/api/ask"):
        for clients in args.clients:
            # A fresh server per run: every question is new to its query cache.
            server = Server(Path(index_dir), env)
            try:
                warmup = f"{endpoint}?{urllib.parse.urlencode({'q': 'khởi động', 'k': args.k})}"
                server.get(warmup)
                paths = [
                    f"{endpoint}?{urllib.parse.urlencode({'q': q, 'k': args.k})}" for q in asked
                ]
                latencies, wall, errors = run_load(server.port, paths, clients)
            finally:
                server.stop()
            p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
            if baseline is None:
                baseline = p95
            rows.append(
                [
                    endpoint,
                    clients,
                    len(latencies),
                    errors,
                    round(p50, 1),
                    round(p95, 1),
                    round(max(latencies) * 1000, 1),
                    round(len(latencies) / wall, 1),
                    round(p95 / baseline, 2),
                ]
            )
    print_table(
        f"new questions on {args.index or 'the bundled corpus'} (ms; ratio: p95 / p95 of "
        "/api/search, 1 client)",
        ["endpoint", "clients", "requests", "errors", "p50", "p95", "max", "req/s", "p95 ratio"],
        rows,
    )
    ask_p95 = [r[5] for r in rows if r[0] == "/api/ask" and r[1] == 1]
    if ask_p95:
        verdict = "meets" if ask_p95[0] < 300 else "misses"
        print(f"\n/api/ask p95, one client: {ask_p95[0]} ms ({verdict} the 300 ms target)")


if __name__ == "__main__":
    main()
