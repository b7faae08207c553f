"""Soak: minutes of mixed traffic against a real `policy-search serve`, with things breaking.

    python -m bench.soak                       # 5 minutes, 16 clients
    python -m bench.soak --duration 60 --clients 8

Loopback only and bounded: it builds a small index of corpus/ in a scratch
folder with `policy-search ingest`, starts `policy-search serve` on a free
127.0.0.1 port, and for ``--duration`` seconds runs

* ``--clients`` keyed clients sending searches, asks, document parts, related
  documents, lists, statistics and a share of malformed requests;
* one writer uploading, replacing and deleting documents (admin key), now and
  then with a few hostile files from tests/hostile.py in the batch;
* bursts over the limits every 40 s: the clients fire unkeyed searches (the
  per-address budget: 429) and a flood of asks (the ask pool and its queue:
  503 overloaded);
* a health probe in a process of its own (so the soak's own threads do not
  delay it), every 200 ms;
* ``kill -9`` of the server's embedder process at 30% of the run, and of a
  `policy-search ingest` into the same index while it holds the writer lock at
  55%.

Then it checks that every acknowledged upload is searchable, every
acknowledged delete is gone, the index on disk is consistent (and names
exactly the files in uploads/, with no staging folder left), and prints a
table: requests by route and status, p50/p95/p99 per route, health p99,
server memory at start (after ``--warm`` seconds of uncounted read traffic, so
that first-use growth of a fresh process is not read as a leak; the cold
figure is printed too), half-way and end. Goals (issue 14): no 5xx but the
documented 503s, health p99 < 200 ms, memory growth < 10%, nothing
acknowledged lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.bench_query import _process_tree, free_port
from index.store import Snapshot, current_path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/hostile.py: the hostile files

ADMIN = "soak-admin-" + os.urandom(6).hex()
DOCUMENTED_503 = {"overloaded", "timeout", "embedder_unavailable"}
QUESTIONS = [
    "Ai chủ trì quản lý chất thải đô thị?",
    "ai chu tri quan ly chat thai do thi",
    "who leads urban waste management?",
    "Sở nào là cơ quan đầu mối về tăng trưởng xanh?",
    "Đồng Nai ký kết hợp tác với thành phố nào của Nhật Bản?",
    "Cần Thơ hợp tác với Hiroshima về lĩnh vực gì",
    "kế hoạch hành động tăng trưởng xanh Trà Vinh",
    "Lào Cai Vingroup chuyển đổi xanh",
    "năng lượng tái tạo và giảm phát thải khí nhà kính",
    "phát triển giao thông xanh xe buýt điện",
]
EXTRA = ["năm 2030", "tỉnh", "doanh nghiệp", "môi trường", "đô thị", "nông nghiệp", "rừng", "vốn"]


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Record:
    route: str
    status: int
    error: str
    ms: float


@dataclass
class Ledger:
    """What the server acknowledged, to check at the end."""

    present: dict[str, str] = field(default_factory=dict)  # doc_id -> unique token
    deleted: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)  # the client gave up: state not known
    ingest_ids: set[str] = field(default_factory=set)
    ingest_finished: bool = False


def ingest_corpus(work: Path, index: Path) -> None:
    """Ingest a copy of corpus/ (made in ``work``) into ``index``; exit if ingest fails."""
    corpus = work / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    proc = subprocess.run(
        [sys.executable, "-m", "policy_search.cli", "ingest", str(corpus), "--index", str(index)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed:\n{proc.stderr}")


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="policy-search-soak-"))
        self.index = self.work / "index"
        self.keys = [f"soak-search-{i}-{os.urandom(4).hex()}" for i in range(args.clients)]
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ledger = Ledger()
        self.events: list[tuple[float, str]] = []
        self.doc_ids: list[str] = []
        self.started = 0.0
        self.rng = random.Random(args.seed)

    # --- setup --------------------------------------------------------------------------

    def build_index(self) -> None:
        ingest_corpus(self.work, self.index)

    def start_server(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "POLICY_SEARCH_ADMIN_KEYS": ADMIN,
            "POLICY_SEARCH_SEARCH_KEYS": ",".join(self.keys),
            "POLICY_SEARCH_RATE_LIMIT_PER_KEY": str(self.args.per_key),
            "POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "60",
            "POLICY_SEARCH_EXTRACTION_TIMEOUT_S": "5",
            "POLICY_SEARCH_EXTRACTION_MEMORY_MB": "256",
        }
        self.log = open(self.work / "server.log", "w")  # noqa: SIM115
        command = [sys.executable, "-m", "policy_search.cli", "serve", "--index", str(self.index)]
        self.server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert self.server.poll() is None, f"server exited; see {self.log.name}"
            try:
                if httpx.get(f"{self.base}/api/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("server did not start in 300 s")

    def stop_server(self) -> None:
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
        self.log.close()

    def memory(self) -> dict[str, float]:
        """RSS in MB: the server, its embedder process, its extraction helper, all of them."""
        out = {"server_mb": 0.0, "embedder_mb": 0.0, "extraction_mb": 0.0, "tree_mb": 0.0}
        for pid in _process_tree(self.server.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            rss = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS"))
            out["tree_mb"] += rss / 1024
            if pid == self.server.pid:
                out["server_mb"] = rss / 1024
            elif b"index.embed_process" in cmd:
                out["embedder_mb"] += rss / 1024
            elif b"ingest.sandbox" in cmd:
                out["extraction_mb"] += rss / 1024
        return out

    def children(self, marker: str) -> list[int]:
        found = []
        for pid in _process_tree(self.server.pid)[1:]:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmd:
                found.append(pid)
        return found

    # --- traffic --------------------------------------------------------------------------

    def note(self, route: str, response: httpx.Response | None, ms: float) -> None:
        status, error = (0, "client_error") if response is None else (response.status_code, "")
        if response is not None and status >= 400:
            try:
                error = str(response.json().get("error", ""))
            except ValueError:
                error = "not_json"
        with self.lock:
            self.records.append(Record(route, status, error, ms))

    def call(
        self, client: httpx.Client, route: str, method: str, url: str, **kw: Any
    ) -> httpx.Response | None:
        t = time.perf_counter()
        try:
            response = client.request(method, url, **kw)
        except httpx.HTTPError:
            response = None
        self.note(route, response, (time.perf_counter() - t) * 1000)
        return response

    def question(self, rng: random.Random) -> str:
        q = rng.choice(QUESTIONS)
        # Mostly new to the query cache: the embedder does real work.
        return f"{q} {rng.choice(EXTRA)} {rng.randint(1, 10_000)}" if rng.random() < 0.8 else q

    def reader(self, key: str, seed: int, stop: threading.Event | None = None) -> None:
        rng = random.Random(seed)
        stop = stop or self.stop
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=120) as client:
            while not stop.is_set():
                op = rng.choices(
                    ["search", "ask", "doc", "related", "list", "stats", "bad"],
                    [45, 12, 18, 5, 5, 3, 7],
                )[0]
                docs = self.doc_ids or ["004_0ae3777ec9422ce6"]
                if op == "search":
                    params: dict[str, Any] = {"q": self.question(rng), "k": rng.randint(1, 10)}
                    if rng.random() < 0.2:
                        params["date_from"] = rng.choice(["2020", "2023-01", "2024-02-29"])
                    self.call(client, "search", "GET", "/api/search", params=params)
                elif op == "ask":
                    self.call(client, "ask", "GET", "/api/ask", params={"q": self.question(rng)})
                elif op == "doc":
                    doc = rng.choice(docs)
                    params = rng.choice([{}, {"passage": rng.randint(0, 5)}, {"start": 5}])
                    self.call(client, "document", "GET", f"/api/documents/{doc}", params=params)
                elif op == "related":
                    doc = rng.choice(docs)
                    self.call(client, "related", "GET", f"/api/documents/{doc}/related")
                elif op == "list":
                    r = self.call(client, "list", "GET", "/api/documents")
                    if r is not None and r.status_code == 200:
                        self.doc_ids = [d["doc_id"] for d in r.json()["documents"]]
                elif op == "stats":
                    self.call(client, "stats", "GET", "/api/stats")
                else:
                    bad = rng.choice(
                        [
                            ("/api/search", {"q": "x", "date_from": "2024-02-30"}),
                            ("/api/search", {"q": "a" * 600}),
                            ("/api/ask", {"q": "x", "k": 0}),
                            ("/api/documents/no-such-document", {}),
                        ]
                    )
                    self.call(client, "malformed", "GET", bad[0], params=bad[1])

    def burst(self) -> None:
        """Every 40 s: unkeyed searches past the per-address budget, and a flood of asks."""
        while not self.stop.wait(40):

            def unkeyed() -> None:
                with httpx.Client(base_url=self.base, timeout=120) as client:
                    for _ in range(8):
                        self.call(
                            client, "burst-search", "GET", "/api/search", params={"q": "xanh"}
                        )

            def ask(key: str) -> None:
                headers = {"Authorization": f"Bearer {key}"}
                with httpx.Client(base_url=self.base, headers=headers, timeout=120) as client:
                    q = self.question(random.Random())
                    self.call(client, "burst-ask", "GET", "/api/ask", params={"q": q})

            # Three asks at once per client: more than the ask pool and its queue hold.
            threads = [threading.Thread(target=unkeyed) for _ in range(self.args.clients)]
            threads += [threading.Thread(target=ask, args=(k,)) for k in self.keys * 3]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.event("burst over the limits")

    def writer(self) -> None:
        from hostile import CASES

        hostile_dir = self.work / "hostile"
        mine: list[str] = []
        n = 0
        headers = {"Authorization": f"Bearer {ADMIN}"}
        picks = [c for c in CASES if c.name in ("bomb.pdf", "encrypted.pdf", "scripts.html")]
        picks += [c for c in CASES if c.name in ("really-a-zip.pdf", "binary.txt")]
        hostile_dir.mkdir()
        for case in picks:
            case.make(hostile_dir / case.name)
        with httpx.Client(base_url=self.base, headers=headers, timeout=300) as client:
            while not self.stop.wait(self.rng.uniform(3, 6)):
                action = self.rng.choices(
                    ["add", "replace", "delete", "hostile"], [50, 15, 25, 10]
                )[0]
                if action in ("replace", "delete") and not mine:
                    action = "add"
                if action == "delete":
                    doc_id = self.rng.choice(mine)
                    r = self.call(client, "delete", "DELETE", f"/api/documents/{doc_id}")
                    if r is None:
                        self.ledger.unknown.add(doc_id)
                    elif r.status_code == 200:
                        mine.remove(doc_id)
                        self.ledger.present.pop(doc_id, None)
                        self.ledger.deleted.add(doc_id)
                    continue
                n += 1
                doc_id = self.rng.choice(mine) if action == "replace" else f"soak-doc-{n}"
                token = f"zqsoak{n}x{self.rng.randint(1000, 9999)}"
                text = (
                    f"Kế hoạch thử nghiệm {token} về phát triển nông nghiệp xanh năm {2025 + n % 5}. "
                    f"Sở Nông nghiệp chủ trì, phối hợp với Sở Tài chính triển khai mã {token}."
                )
                files = [("files", (f"{doc_id}.txt", text.encode(), "text/plain"))]
                if action == "hostile":
                    for case in self.rng.sample(picks, 2):
                        data = (hostile_dir / case.name).read_bytes()
                        files.append(("files", (case.name, data, "application/octet-stream")))
                r = self.call(client, "upload", "POST", "/api/documents", files=files)
                if r is None:
                    self.ledger.unknown.add(doc_id)
                elif r.status_code == 200:
                    verdict = r.json()["files"][0]
                    if verdict["status"] in ("added", "updated"):
                        if verdict["doc_id"] != doc_id:
                            self.event(f"upload of {doc_id} came back as {verdict['doc_id']}")
                        self.ledger.present[doc_id] = token
                        self.ledger.deleted.discard(doc_id)
                        if doc_id not in mine:
                            mine.append(doc_id)

    def health_probe(self, seconds: float, out: Path) -> subprocess.Popen[bytes]:
        """A probe in its own process (own GIL): one GET /api/health every 200 ms."""
        code = (
            "import http.client, sys, time\n"
            "port, out, end = int(sys.argv[1]), open(sys.argv[2], 'w'), time.time() + float(sys.argv[3])\n"
            "while time.time() < end:\n"
            "    t = time.perf_counter()\n"
            "    try:\n"
            "        c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)\n"
            "        c.request('GET', '/api/health'); s = c.getresponse().status; c.close()\n"
            "    except OSError:\n"
            "        s = 0\n"
            "    out.write(f'{time.time()} {s} {(time.perf_counter() - t) * 1000:.2f}\\n'); out.flush()\n"
            "    time.sleep(0.2)\n"
        )
        return subprocess.Popen(
            [sys.executable, "-c", code, str(self.port), str(out), str(seconds)]
        )

    # --- things breaking --------------------------------------------------------------

    def event(self, what: str) -> None:
        with self.lock:
            self.events.append((time.monotonic() - self.started, what))

    def chaos(self) -> None:
        d = self.args.duration
        if self.stop.wait(0.30 * d):
            return
        embedders = self.children("index.embed_process")
        for pid in embedders:
            os.kill(pid, signal.SIGKILL)
        self.event(f"kill -9 embedder process {embedders}")
        if self.stop.wait(0.25 * d):
            return
        extra = self.work / "extra"
        extra.mkdir()
        for i, f in enumerate(sorted((REPO / "corpus").glob("*.txt"))):
            shutil.copy(f, extra / f"them-{i}.txt")
        self.ledger.ingest_ids = {f"them-{i}" for i in range(5)}
        command = [sys.executable, "-m", "policy_search.cli", "ingest", str(extra)]
        ingest = subprocess.Popen(
            [*command, "--index", str(self.index), "--quiet"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lock = self.index / ".writer.lock"
        deadline = time.monotonic() + 120
        while ingest.poll() is None and time.monotonic() < deadline:
            if _holds_lock(ingest.pid, lock):
                time.sleep(1.5)  # in the middle of its work
                break
            time.sleep(0.05)
        if ingest.poll() is None:
            os.kill(ingest.pid, signal.SIGKILL)
            ingest.wait()
            self.event(f"kill -9 `policy-search ingest` (pid {ingest.pid}) holding the lock")
        else:
            self.ledger.ingest_finished = ingest.returncode == 0
            self.event(f"ingest finished before the kill (exit {ingest.returncode})")

    # --- the run ----------------------------------------------------------------------

    def run(self) -> int:
        print(f"soak: scratch folder {self.work}", flush=True)
        self.build_index()
        self.start_server()
        with httpx.Client(base_url=self.base, timeout=120) as c:
            self.doc_ids = [d["doc_id"] for d in c.get("/api/documents").json()["documents"]]
            for q in QUESTIONS:  # warm: BM25, accents, windows loaded; embedder ready
                c.get("/api/ask", params={"q": q}, headers={"X-API-Key": self.keys[0]})
            # Uploads of each format, then deleted: the extraction helper is running, with its
            # parsers loaded, before the start measurement (loading them is not growth).
            admin = {"X-API-Key": ADMIN}
            warm = _warm_up_files(self.work / "warm-up")
            files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in warm]
            r = c.post("/api/documents", files=files, headers=admin)
            assert r.status_code == 200, r.text
            for item in r.json()["files"]:
                if item["doc_id"]:
                    c.delete(f"/api/documents/{item['doc_id']}", headers=admin)
        mem_cold = self.memory()
        if self.args.warm > 0:
            # The same read traffic for a while, not counted: a fresh process's allocators
            # and caches grow to their working size on first use, which is not a leak.
            warming = threading.Event()
            readers = [
                threading.Thread(target=self.reader, args=(k, 1000 + i, warming), daemon=True)
                for i, k in enumerate(self.keys)
            ]
            for t in readers:
                t.start()
            time.sleep(self.args.warm)
            warming.set()
            for t in readers:
                t.join(timeout=300)
            self.records.clear()
        # The same probe on the idle server first: the baseline the loaded numbers compare to.
        self.idle_file = self.work / "health-idle.txt"
        self.health_probe(self.args.idle, self.idle_file).wait()
        mem_start = self.memory()
        self.mem_cold = mem_cold
        embedder_before = self.children("index.embed_process")
        self.started = time.monotonic()
        self.health_file = self.work / "health.txt"
        probe = self.health_probe(self.args.duration, self.health_file)
        threads = [
            threading.Thread(target=self.reader, args=(k, i), daemon=True)
            for i, k in enumerate(self.keys)
        ]
        threads += [threading.Thread(target=f, daemon=True) for f in (self.writer, self.burst)]
        threads.append(threading.Thread(target=self.chaos, daemon=True))
        for t in threads:
            t.start()
        # Half-way too: bounded caches (query vectors, sentence vectors) fill in the first
        # minutes; growth that goes on after that is what a leak would look like.
        self.stop.wait(self.args.duration / 2)
        mem_mid = self.memory()
        self.stop.wait(self.args.duration / 2)
        self.stop.set()
        for t in threads:
            t.join(timeout=300)
        probe.wait(timeout=60)
        elapsed = time.monotonic() - self.started
        mem_end = self.memory()
        checks = self.check()
        checks["embedder restarted"] = bool(embedder_before) and (
            self.children("index.embed_process") != embedder_before
        )
        ok = self.report(elapsed, mem_start, mem_mid, mem_end, checks)
        self.stop_server()
        if not self.args.keep and ok:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0 if ok else 1

    def check(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lost, found = [], 0
        with httpx.Client(base_url=self.base, timeout=120, headers={"X-API-Key": ADMIN}) as c:
            for doc_id, token in sorted(self.ledger.present.items()):
                if doc_id in self.ledger.unknown:
                    continue
                hits = c.get("/api/search", params={"q": token, "k": 3}).json()["results"]
                if doc_id in [h["doc_id"] for h in hits]:
                    found += 1
                else:
                    lost.append(doc_id)
            resurrected = [
                d
                for d in sorted(self.ledger.deleted - self.ledger.unknown)
                if c.get(f"/api/documents/{d}").status_code != 404
            ]
            listed = {d["doc_id"] for d in c.get("/api/documents").json()["documents"]}
            health = c.get("/api/health").json()
        out["acknowledged uploads searchable"] = f"{found}/{found + len(lost)}"
        out["acknowledged uploads lost"] = lost
        out["acknowledged deletes back"] = resurrected
        half = self.ledger.ingest_ids & listed
        out["killed ingest half-applied"] = (
            [] if self.ledger.ingest_finished or half == self.ledger.ingest_ids else sorted(half)
        )
        version = current_path(self.index)
        snap = Snapshot(version)  # type: ignore[arg-type]
        snap.verify()
        docs = snap.documents()
        uploads = self.index / "uploads"
        stored = {p.name for p in uploads.iterdir() if p.is_file()}
        named = {Path(d.path).name for d in docs if Path(d.path).parent == uploads.resolve()}
        out["index consistent"] = (
            health["documents"] == len(docs) == len(listed)
            and health["index_version"] == version.name  # type: ignore[union-attr]
        )
        out["stray files in uploads/"] = sorted(stored - named)
        out["staging folders left"] = [p.name for p in (uploads / ".incoming").glob("*")]
        out["versions on disk"] = sorted(p.name for p in (self.index / "versions").iterdir())
        snap.close()
        return out

    def report(
        self,
        elapsed: float,
        mem_start: dict[str, float],
        mem_mid: dict[str, float],
        mem_end: dict[str, float],
        checks: dict[str, Any],
    ) -> bool:
        by_route: dict[str, list[Record]] = defaultdict(list)
        for r in self.records:
            by_route[r.route].append(r)
        health = _probes(self.health_file, "health (probe)")
        by_route["health (probe)"] = health
        idle = _probes(self.idle_file, "health idle")
        by_route["health idle"] = idle
        print(
            f"\nsoak: {elapsed:.0f} s, {self.args.clients} clients, {len(self.records)} requests "
            f"+ {len(health)} health probes (machine shared with other jobs)\n"
        )
        print(
            f"{'route':15} {'n':>6} {'2xx':>6} {'4xx':>6} {'429':>5} {'503':>5} {'other 5xx':>9}"
            f" {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        )
        for route in sorted(by_route):
            rs = by_route[route]
            codes = Counter(r.status for r in rs)
            ms = [r.ms for r in rs]
            other5 = sum(v for k, v in codes.items() if k >= 500 and k != 503)
            print(
                f"{route:15} {len(rs):6} {sum(v for k, v in codes.items() if 200 <= k < 300):6} "
                f"{sum(v for k, v in codes.items() if 400 <= k < 500):6} {codes[429]:5} "
                f"{codes[503]:5} {other5:9} {_pct(ms, 50):8.1f} {_pct(ms, 95):8.1f} "
                f"{_pct(ms, 99):8.1f}"
            )
        statuses = Counter((r.status, r.error) for r in self.records)
        print("\nstatus  error                     count")
        for (status, error), count in sorted(statuses.items()):
            print(f"{status:6}  {error or '-':24} {count:6}")
        undocumented = [
            r
            for r in self.records
            if r.status >= 500 and not (r.status == 503 and r.error in DOCUMENTED_503)
        ] + [r for r in self.records if r.status == 0]
        health_ms = [r.ms for r in health]
        health_bad = [r for r in health if r.status != 200]
        growth = (mem_end["tree_mb"] - mem_start["tree_mb"]) / mem_start["tree_mb"] * 100
        print("\nevents:")
        for at, what in self.events:
            print(f"  {at:6.0f} s  {what}")
        late = (mem_end["tree_mb"] - mem_mid["tree_mb"]) / mem_mid["tree_mb"] * 100
        print("\nmemory (RSS, MB)   start    mid    end")
        for key, label in (
            ("server_mb", "server"),
            ("embedder_mb", "embedder process"),
            ("extraction_mb", "extraction helper"),
            ("tree_mb", "all"),
        ):
            print(f"  {label:17} {mem_start[key]:6.0f} {mem_mid[key]:6.0f} {mem_end[key]:6.0f}")
        cold = self.mem_cold["tree_mb"]
        print(
            f"  growth of all: {growth:+.1f}% (second half {late:+.1f}%); before the "
            f"{self.args.warm:g} s warm-up: {cold:.0f} MB, {(mem_end['tree_mb'] - cold) / cold * 100:+.1f}% to the end"
        )
        idle_p99 = _pct([r.ms for r in idle], 99)
        print(
            f"health p99: {_pct(health_ms, 99):.0f} ms under load, {idle_p99:.0f} ms on the idle "
            f"server just before ({_pct(health_ms, 99) / idle_p99:.1f}x)"
        )
        print("consistency:")
        for name, value in checks.items():
            print(f"  {name}: {value}")
        goals = {
            "no 5xx but the documented 503s (and no failed connection)": not undocumented,
            "health p99 < 200 ms, every probe 200": _pct(health_ms, 99) < 200 and not health_bad,
            "memory growth < 10%": growth < 10,
            "nothing acknowledged lost": not checks["acknowledged uploads lost"]
            and not checks["acknowledged deletes back"]
            and not checks["killed ingest half-applied"],
            "index consistent, no stray file, no staging folder": checks["index consistent"]
            and not checks["stray files in uploads/"]
            and not checks["staging folders left"]
            and len(checks["versions on disk"]) <= 2,
        }
        print("goals:")
        for name, met in goals.items():
            print(f"  [{'x' if met else ' '}] {name}")
        if undocumented:
            print(
                "undocumented errors:", Counter((r.route, r.status, r.error) for r in undocumented)
            )
        summary = {
            "elapsed_s": round(elapsed),
            "health_p99_ms": _pct(health_ms, 99),
            "health_median_ms": statistics.median(health_ms) if health_ms else None,
            "memory": {
                "start": mem_start,
                "mid": mem_mid,
                "end": mem_end,
                "growth_pct": round(growth, 2),
            },
            "goals": goals,
        }
        (self.work / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return all(goals.values())


def _warm_up_files(folder: Path) -> list[Path]:
    """A small file of each format the sandbox parses with a library (PDF, HTML, DOCX)."""
    import docx
    import pymupdf

    folder.mkdir()
    text = "Văn bản khởi động thử nghiệm của bài kiểm tra độ bền."
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Van ban khoi dong thu nghiem.")
    pdf.save(folder / "warm-up-pdf.pdf")
    (folder / "warm-up-html.html").write_text(f"<html><body><p>{text}</p></body></html>")
    word = docx.Document()
    word.add_paragraph(text)
    word.save(str(folder / "warm-up-docx.docx"))
    return sorted(folder.iterdir())


def _probes(path: Path, route: str) -> list[Record]:
    out = []
    for line in path.read_text().splitlines():
        _, code, millis = line.split()
        out.append(Record(route, int(code), "", float(millis)))
    return out


def _holds_lock(pid: int, lock: Path) -> bool:
    """Whether process ``pid`` holds an flock on ``lock`` (from /proc/locks)."""
    try:
        inode = lock.stat().st_ino
        locks = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return False
    for line in locks:
        parts = line.split()
        if "FLOCK" in parts and str(pid) in parts and any(p.endswith(f":{inode}") for p in parts):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of traffic (300)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--per-key", type=int, default=600, help="rate limit per key (600/min)")
    parser.add_argument("--idle", type=float, default=20, help="seconds of idle health probes (20)")
    parser.add_argument(
        "--warm",
        type=float,
        default=60,
        help="seconds of uncounted read traffic before memory is first measured (60)",
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--workdir", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    sys.exit(Soak(parser.parse_args()).run())


if __name__ == "__main__":
    main()
