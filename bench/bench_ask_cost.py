"""What an ``/api/ask`` costs the server, in ``/api/search`` requests: the basis of ask_cost.

    python -m bench.bench_ask_cost
    python -m bench.bench_ask_cost --limit 40 --rounds 3

Indexes ``corpus/`` once (cached under ``POLICY_SEARCH_BENCH_DIR``), then
sends the same new questions (the built-in answer sets, as bench_ask does) to
``/api/search`` and to ``/api/ask`` of the real app, in process, one at a
time, the query cache off, rounds interleaved so that a busy neighbour on the
machine slows both alike. The embedder runs in the server's own process here,
so the process's CPU time is all the work a request causes. Printed: wall
time and CPU time per request, and the ratio ask / search, which is what
``POLICY_SEARCH_ASK_COST`` should be (rounded up).
"""

from __future__ import annotations

import argparse
import math
import time

from fastapi.testclient import TestClient

from bench.bench_ask import questions
from bench.common import BENCH_DIR, REPO, embedder, percentile, print_table
from index.build import build_index
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="first N questions only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()

    emb = embedder()
    index_dir = BENCH_DIR / f"corpus-ask-{''.join(c if c.isalnum() else '-' for c in emb.name)}"
    build_index([REPO / "corpus"], index_dir, emb)
    asked = questions(args.limit)
    settings = Settings(
        index_dir=index_dir, rate_limit_per_address=0, rate_limit_per_key=0, query_cache_size=0
    )
    client = TestClient(create_app(settings, SearchEngine(settings, embedder=emb)))
    for endpoint in ("/api/search", "/api/ask"):  # warm up both paths
        client.get(endpoint, params={"q": "khởi động", "k": args.k})

    wall: dict[str, list[float]] = {"/api/search": [], "/api/ask": []}
    cpu: dict[str, list[float]] = {"/api/search": [], "/api/ask": []}
    for _ in range(args.rounds):
        for endpoint in wall:
            for q in asked:
                w0, c0 = time.perf_counter(), time.process_time()
                r = client.get(endpoint, params={"q": q, "k": args.k})
                w1, c1 = time.perf_counter(), time.process_time()
                assert r.status_code == 200, r.text
                wall[endpoint].append(w1 - w0)
                cpu[endpoint].append(c1 - c0)

    rows = []
    for endpoint in wall:
        ws, cs = wall[endpoint], cpu[endpoint]
        rows.append(
            [
                endpoint,
                len(ws),
                round(sum(ws) / len(ws) * 1000, 1),
                round(percentile(ws, 50) * 1000, 1),
                round(percentile(ws, 95) * 1000, 1),
                round(sum(cs) / len(cs) * 1000, 1),
            ]
        )
    mean = {e: sum(v) / len(v) for e, v in wall.items()}
    mean_cpu = {e: sum(v) / len(v) for e, v in cpu.items()}
    ratio_wall = mean["/api/ask"] / mean["/api/search"]
    ratio_cpu = mean_cpu["/api/ask"] / mean_cpu["/api/search"]
    print_table(
        f"{len(asked)} new questions x {args.rounds} rounds, one at a time, embedder "
        f"{emb.name} in process (ms per request)",
        ["endpoint", "requests", "wall mean", "wall p50", "wall p95", "cpu mean"],
        rows,
    )
    print(
        f"\nask / search: {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x CPU time; "
        f"ask_cost = {math.ceil(max(ratio_wall, ratio_cpu))}"
    )


if __name__ == "__main__":
    main()
