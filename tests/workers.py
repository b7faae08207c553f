"""`policy-search serve --workers N` as a real subprocess, for the tests that need several
workers (rate limits, queued writes): start it, stop it, find its workers and which of them
holds a client's connection."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    index: Path, settings: Mapping[str, str], unset: Sequence[str] = (), workers: int = 2
) -> Iterator[tuple[int, Any]]:
    """(port, process) of `serve --workers N` on ``index`` with ``settings`` in its
    environment and ``unset`` removed from it; terminated (killed if it must) on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", **settings}
    for name in unset:
        env.pop(name, None)
    command = ["serve", "--index", str(index), "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [sys.executable, "-m", "policy_search.cli", *command],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def worker_processes(server: Any) -> list[Any]:
    """The server's worker processes (psutil), without multiprocessing's resource tracker."""
    import psutil

    return [
        p
        for p in psutil.Process(server.pid).children()
        if "resource_tracker" not in " ".join(p.cmdline())
    ]


def served_by(workers: list[Any], client_port: int) -> int | None:
    """Which of ``workers`` holds the connection from ``client_port`` (look it up while the
    connection is open: keep-alive holds it until the client closes it)."""
    for i, w in enumerate(workers):
        for c in w.net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == client_port:
                return i
    return None
