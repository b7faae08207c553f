"""Searches while an upload is embedded: search p95 during a ~500-chunk upload against idle p95.

    python -m bench.bench_writes                 # 500-chunk upload, one search every 0.25 s
    python -m bench.bench_writes --chunks 200 --interval 0.5

Loopback only and bounded: it ingests corpus/ into a scratch index with
`policy-search ingest`, starts `policy-search serve` on a free 127.0.0.1 port
(embedder process on, as `serve` runs by default), then

1. idle: one client sends ``--idle`` searches, one every ``--interval`` s;
2. upload: a second client uploads one generated law-like document of about
   ``--chunks`` chunks (synchronous ``POST /api/documents``, the default,
   so the bench also runs against servers older than the task queue) while
   the first client keeps searching at the same pace until the upload returns;
3. after: ``--idle`` more searches, to see that the server came back.

Every query is new to the server's query cache (a counter is appended), so each
search embeds its query: a cached query would never meet the upload's embedding.
Prints one table: searches, p50/p95/max and failures for each phase, the ratio of
the during-upload p95 to the idle p95 (goal: at most 2, issue 25), and the upload's
chunks and seconds. The idle and during phases are measured in the same run on
the same server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.bench_query import free_port
from bench.common import percentile, print_table
from bench.soak import ingest_corpus

REPO = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-" + os.urandom(6).hex()
QUERIES = [
    "quản lý chất thải đô thị",
    "ai chu tri ke hoach tang truong xanh",
    "năng lượng tái tạo và giảm phát thải",
    "hợp tác quốc tế về môi trường",
    "who leads urban waste management",
    "xe buýt điện giao thông xanh",
    "nguồn vốn thực hiện kế hoạch",
    "trách nhiệm của Sở Tài nguyên và Môi trường",
]
# Sentences of a law: each "Điều" (article) is one chunk or two once its clauses are long.
CLAUSES = [
    "Cơ quan nhà nước có thẩm quyền có trách nhiệm hướng dẫn, kiểm tra việc thực hiện "
    "quy định tại Điều này",
    "Tổ chức, cá nhân vi phạm quy định về bảo vệ môi trường thì tùy theo tính chất, mức độ "
    "vi phạm mà bị xử phạt vi phạm hành chính hoặc truy cứu trách nhiệm hình sự",
    "Ủy ban nhân dân cấp tỉnh ban hành kế hoạch thực hiện, bố trí kinh phí và tổ chức kiểm "
    "tra, đánh giá kết quả hằng năm",
    "Bộ Tài nguyên và Môi trường chủ trì, phối hợp với các bộ, ngành liên quan xây dựng "
    "tiêu chuẩn, quy chuẩn kỹ thuật",
    "Doanh nghiệp sản xuất, kinh doanh dịch vụ phải công khai thông tin về chất thải và "
    "biện pháp xử lý chất thải",
    "Nhà nước khuyến khích đầu tư phát triển năng lượng tái tạo, giao thông xanh và nông "
    "nghiệp hữu cơ",
    "Hồ sơ đề nghị gồm văn bản đề nghị, báo cáo đánh giá tác động và các giấy tờ chứng minh "
    "quyền sử dụng đất",
    "Thời hạn giải quyết không quá ba mươi ngày kể từ ngày nhận đủ hồ sơ hợp lệ",
]


def law_text(articles: int) -> str:
    """A law of ``articles`` articles of five clauses each: about one chunk per article."""
    lines = ["LUẬT THỬ NGHIỆM VỀ BẢO VỆ MÔI TRƯỜNG VÀ TĂNG TRƯỞNG XANH", ""]
    for n in range(1, articles + 1):
        lines.append(f"Điều {n}. Quy định số {n} về quản lý và thực hiện")
        for k in range(1, 6):
            clause = CLAUSES[(n * 3 + k) % len(CLAUSES)]
            lines.append(f"{k}. {clause} (khoản {k} điều {n}).")
        lines.append("")
    return "\n".join(lines)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="policy-search-bench-writes-"))
        self.index = self.work / "index"
        self.counter = 0
        self.server: subprocess.Popen[bytes] | None = None

    def build_index(self) -> None:
        ingest_corpus(self.work, self.index)

    def start_server(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "POLICY_SEARCH_ADMIN_KEYS": ADMIN,
            "POLICY_SEARCH_RATE_LIMIT_PER_KEY": "0",
            "POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "0",
            # The default deadline (a few seconds) would turn the old behaviour's waits into 503s:
            # the bench wants the waits themselves.
            "POLICY_SEARCH_REQUEST_TIMEOUT_S": "120",
        }
        self.log = open(self.work / "server.log", "w")  # noqa: SIM115
        self.server = subprocess.Popen(
            [
                *(sys.executable, "-m", "policy_search.cli", "serve", "--index", str(self.index)),
                *("--host", "127.0.0.1", "--port", str(self.port)),
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"server exited; see {self.log.name}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("server did not start in 300 s")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def search(self, client: httpx.Client) -> tuple[float, bool]:
        self.counter += 1
        q = f"{QUERIES[self.counter % len(QUERIES)]} {self.counter}"
        t = time.perf_counter()
        try:
            ok = client.get("/api/search", params={"q": q, "k": 5}).status_code == 200
        except httpx.HTTPError:
            ok = False
        return (time.perf_counter() - t) * 1000, ok

    def searches(self, client: httpx.Client, count: int | None, until: threading.Event | None):
        """Searches one every ``interval`` s: ``count`` of them, or until ``until`` is set
        (bounded by ``--max-seconds``)."""
        times, failed = [], 0
        stop_at = time.monotonic() + self.args.max_seconds
        while time.monotonic() < stop_at:
            if count is not None and len(times) + failed >= count:
                break
            if until is not None and until.is_set():
                break
            started = time.monotonic()
            ms, ok = self.search(client)
            if ok:
                times.append(ms)
            else:
                failed += 1
            time.sleep(max(0.0, self.args.interval - (time.monotonic() - started)))
        return times, failed

    def run(self) -> None:
        print(f"(work folder {self.work}; load average at start {os.getloadavg()[0]:.1f})")
        self.build_index()
        self.start_server()
        upload: dict[str, object] = {}
        done = threading.Event()
        articles = self.args.chunks
        text = law_text(articles).encode()

        def send() -> None:
            headers = {"Authorization": f"Bearer {ADMIN}"}
            t = time.perf_counter()
            try:
                with httpx.Client(base_url=self.base, timeout=1800) as c:
                    r = c.post(
                        "/api/documents",
                        files=[("files", ("luat-thu-nghiem.txt", text, "text/plain"))],
                        headers=headers,
                    )
                upload["status"] = r.status_code
                upload["body"] = r.json()
            except httpx.HTTPError as exc:
                upload["status"] = repr(exc)
            upload["seconds"] = time.perf_counter() - t
            done.set()

        try:
            with httpx.Client(base_url=self.base, timeout=120) as client:
                for _ in range(self.args.warm):
                    self.search(client)
                idle, idle_failed = self.searches(client, self.args.idle, None)
                writer = threading.Thread(target=send)
                writer.start()
                during, during_failed = self.searches(client, None, done)
                writer.join(timeout=self.args.max_seconds)
                after, after_failed = self.searches(client, self.args.idle, None)
        finally:
            self.stop_server()
        body = upload.get("body") or {}
        chunks = body.get("embedded_chunks", "?") if isinstance(body, dict) else "?"
        rows = []
        for name, times, failed in (
            ("idle", idle, idle_failed),
            ("during upload", during, during_failed),
            ("after", after, after_failed),
        ):
            stats = [percentile(times, 50), percentile(times, 95), max(times, default=float("nan"))]
            rows.append([name, len(times), failed, *(f"{x:.1f}" for x in stats)])
        ratio = percentile(during, 95) / percentile(idle, 95)
        print_table(
            f"Search latency (ms) around one upload: {chunks} chunks embedded, "
            f"HTTP {upload.get('status')}, {upload.get('seconds', float('nan')):.1f} s; "
            f"one search every {self.args.interval:g} s",
            ["phase", "searches", "failed", "p50", "p95", "max"],
            rows,
        )
        verdict = "ok" if ratio <= 2 else "over the goal"
        print(f"\nduring-upload p95 / idle p95 = {ratio:.2f} (goal <= 2: {verdict})")
        # The machine's other work competes with the upload (its embedder runs at the lowest
        # priority): a high load makes the upload slow, not the searches.
        print(f"load average at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--chunks", type=int, default=500, help="articles (about chunks) to upload")
    p.add_argument("--idle", type=int, default=40, help="searches before and after the upload")
    p.add_argument("--warm", type=int, default=10, help="uncounted searches first")
    p.add_argument("--interval", type=float, default=0.25, help="seconds between searches")
    p.add_argument("--max-seconds", type=float, default=900, help="bound on each phase")
    p.add_argument("--keep", action="store_true", help="keep the work folder (server.log)")
    Bench(p.parse_args()).run()


if __name__ == "__main__":
    main()
