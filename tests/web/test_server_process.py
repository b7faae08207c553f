"""`policy-search serve` as a real process: its children die with it, its logs are JSON.

Each test starts ``python -m policy_search.cli serve`` on a free loopback port over
a copy of the corpus index, with the embedder in its own process (as
``serve`` runs it) and an upload so that the extraction helper runs too.
Children are found and watched through /proc; signals are real.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-key-serve-5e6f7a"
SEARCH = "search-key-serve-8b9c0d"
# The bound: a stopping server's children are gone within this.
BOUND_S = 2.0

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid``, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> dict[int, str]:
    """Pid -> command line of each child of ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[1] == pid:
                try:
                    cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                found[int(entry.name)] = cmd
    return found


def _running(pid: int, server: int) -> bool:
    """Whether ``pid`` still costs anything: alive, or a zombie its server never reaped."""
    st = _stat(pid)
    if st is None:
        return False
    state, parent = st
    return state != "Z" or parent == server


def _gone_within(pids: list[int], server: int, bound: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < bound + 5:  # watched past the bound, to report it
        if not any(_running(p, server) for p in pids):
            return time.monotonic() - started
        time.sleep(0.02)
    return float("inf")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def lines(self) -> list[dict]:
        raw = [line for line in self.log.read_text().splitlines() if line.strip()]
        return [json.loads(line) for line in raw]  # every line of the server's log is JSON


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(corpus_index: Path, tmp_path: Path) -> Iterator[Server]:
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "POLICY_SEARCH_ADMIN_KEYS": ADMIN,
        "POLICY_SEARCH_SEARCH_KEYS": SEARCH,
        "POLICY_SEARCH_EMBEDDER_PROCESS": "1",
        # Read by every worker: metrics aggregated over processes, as with --workers.
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "policy_search.cli",
                "serve",
                "--index",
                str(index),
                "--port",
                str(port),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server(proc, url, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _use_every_child(server: Server) -> dict[int, str]:
    """A search (the embedder) and an upload (the extraction helper); the server's children."""
    r = httpx.get(f"{server.url}/api/search", params={"q": "chất thải rắn"}, timeout=60)
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{server.url}/api/documents",
        files=[("files", ("ke-hoach.txt", "Kế hoạch nuôi cá hồi ở Sa Pa năm 2026.".encode()))],
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    children = _children(server.proc.pid)
    kinds = " ".join(children.values())
    assert "index.embed_process" in kinds and "ingest.sandbox" in kinds, children
    return children


@pytest.mark.slow
def test_sigterm_stops_the_embedder_and_helpers_within_the_bound(serve: Server):
    children = _use_every_child(serve)
    # While up: logs are JSON with request ids, no key in them, /metrics aggregated.
    leaked = httpx.get(
        f"{serve.url}/api/health", params={"api_key": SEARCH}, headers={"X-Request-ID": "probe-1"}
    )
    assert leaked.headers["x-request-id"] == "probe-1"
    # A key is never read from the query string: api_key is a parameter /api/health lacks.
    assert leaked.status_code == 422 and "api_key" in leaked.json()["detail"]
    assert httpx.head(f"{serve.url}/api/health").status_code == 200
    scraped = httpx.get(f"{serve.url}/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
    }
    health = (("method", "GET"), ("route", "/api/health"), ("status", "200"))
    assert samples[("policy_search_http_requests_total", health)] >= 1  # the HEAD, as GET
    refused = (("method", "GET"), ("route", "/api/health"), ("status", "422"))
    assert samples[("policy_search_http_requests_total", refused)] == 1
    assert samples[("policy_search_ingest_builds_total", ())] == 1
    assert samples[("policy_search_index_documents", ())] == 6

    started = time.monotonic()
    serve.proc.send_signal(signal.SIGTERM)
    took = _gone_within(list(children), serve.proc.pid, BOUND_S)
    assert took <= BOUND_S, f"children still running {took:.1f} s after SIGTERM: {children}"
    assert serve.proc.wait(timeout=30) is not None
    print(
        f"children gone {took:.2f} s after SIGTERM; server exited after {time.monotonic() - started:.2f} s"
    )

    lines = serve.lines()
    text = serve.log.read_text()
    assert SEARCH not in text and ADMIN not in text
    access = [line for line in lines if line.get("event") == "access"]
    probe = next(line for line in access if line.get("request_id") == "probe-1")
    assert probe["query"] == "api_key=[redacted]" and probe["status"] == 422
    audit = [line for line in lines if line.get("event") == "audit"]
    assert len(audit) == 1 and audit[0]["files"][0]["status"] == "added"
    assert any(line["logger"].startswith("uvicorn") for line in lines)


@pytest.mark.slow
def test_a_killed_helper_is_reaped_and_a_server_killed_with_sigkill_leaves_no_child(
    serve: Server,
):
    children = _use_every_child(serve)
    # A helper that dies (here: killed) is reaped by its server at once, not left defunct.
    helper = next(pid for pid, cmd in children.items() if "ingest.sandbox" in cmd)
    os.kill(helper, signal.SIGKILL)
    took = _gone_within([helper], serve.proc.pid, BOUND_S)
    assert took <= BOUND_S, f"helper {helper} left defunct for {took:.1f} s"
    # The next upload starts a new one.
    r = httpx.post(
        f"{serve.url}/api/documents",
        files=[("files", ("ke-hoach-2.txt", "Kế hoạch trồng chè Shan tuyết năm 2027.".encode()))],
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    children = _children(serve.proc.pid)
    assert helper not in children and any("ingest.sandbox" in c for c in children.values())

    # kill -9: nothing of the server runs on (the embedder kept 1.4 GB for minutes).
    serve.proc.send_signal(signal.SIGKILL)
    took = _gone_within(list(children), serve.proc.pid, BOUND_S)
    assert took <= BOUND_S, f"children still running {took:.1f} s after kill -9: {children}"
    serve.proc.wait(timeout=10)
