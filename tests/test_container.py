"""deploy/: the image builds, the compose file starts it behind nginx, and nginx's own error
pages carry CORS headers.

Real podman and podman-compose (Debian's). The base image is BASE
(``POLICY_SEARCH_CONTAINER_BASE``, default Debian 12 from Docker Hub); where no registry is
reachable and debootstrap is installed, deploy/make-base-image.sh makes it from a Debian
mirror. The CPU torch wheel comes from deploy/wheels/ (copied from ``POLICY_SEARCH_TORCH_WHEEL``
or pip's find-links folder when present) or PyTorch's CPU index. The CAs this machine added
(``/usr/local/share/ca-certificates/*.crt``, or the glob ``POLICY_SEARCH_BUILD_CA``) go to
deploy/ca/, for a TLS-inspecting proxy on the way to PyPI. Skipped, with the reason,
where no container can run.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
BASE = os.environ.get("POLICY_SEARCH_CONTAINER_BASE", "docker.io/library/debian:bookworm-slim")
LOCAL_BASE = "localhost/debian:bookworm-slim"
ORIGIN = "https://portal.example.gov.vn"


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment() -> tuple[dict[str, str], str]:
    """An environment in which podman runs a container, and the base image to build on."""
    if not shutil.which("podman") or not shutil.which("podman-compose"):
        pytest.skip("podman and podman-compose are not installed (apt-get install podman-compose)")
    env = dict(os.environ)
    base = BASE
    if _run(["podman", "image", "exists", base], env, 60).returncode != 0:
        pulled = _run(["podman", "pull", base], env, 600)
        if pulled.returncode != 0:
            if _run(["podman", "image", "exists", LOCAL_BASE], env, 60).returncode != 0:
                if not shutil.which("debootstrap"):
                    pytest.skip(
                        f"no base image: {base} cannot be pulled ({pulled.stderr.strip()[-200:]}) "
                        "and debootstrap is not installed to make one"
                    )
                made = _run([str(DEPLOY / "make-base-image.sh"), LOCAL_BASE], env, 1200)
                assert made.returncode == 0, made.stderr[-2000:]
            base = LOCAL_BASE
    plain = _run(["podman", "run", "--rm", base, "true"], env, 120)
    if plain.returncode != 0:
        # A VM or container that cannot raise limits and mounts cgroups in hybrid mode.
        env["CONTAINERS_CONF"] = str(DEPLOY / "containers-nested.conf")
        nested = _run(["podman", "run", "--rm", base, "true"], env, 120)
        if nested.returncode != 0:
            pytest.skip(
                f"podman cannot run a container here: {plain.stderr.strip()[-300:]}; with "
                f"deploy/containers-nested.conf: {nested.stderr.strip()[-300:]}"
            )
    return env, base


def _prepare_context() -> None:
    """The CPU torch wheel and a proxy's CA into the ignored deploy/ folders, when given."""
    wheels = DEPLOY / "wheels"
    if not glob.glob(str(wheels / "torch-2.13.0+cpu-*.whl")):
        found = [os.environ.get("POLICY_SEARCH_TORCH_WHEEL", "")]
        found += glob.glob("/opt/wheels/torch-2.13.0+cpu-cp311-*.whl")
        for f in found:
            if f and Path(f).is_file():
                shutil.copy(f, wheels / Path(f).name)
                break
    # The certificate authorities this machine added to its own store (a TLS-inspecting
    # proxy's, where pip on this machine reaches PyPI through one), unless told otherwise.
    ca = os.environ.get("POLICY_SEARCH_BUILD_CA", "/usr/local/share/ca-certificates/*.crt")
    for f in glob.glob(ca) if ca else []:
        shutil.copy(f, DEPLOY / "ca" / (Path(f).stem + ".crt"))


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    env, base = _environment()
    _prepare_context()
    port = _free_port()
    project = f"pstest{uuid.uuid4().hex[:8]}"
    env.update(
        BASE=base,
        PORT=str(port),
        CORS_ORIGINS=ORIGIN,
        POLICY_SEARCH_CORS_ORIGINS=json.dumps([ORIGIN]),
    )
    compose = ["podman-compose", "-p", project, "-f", str(DEPLOY / "compose.yaml")]
    try:
        built = _run([*compose, "build"], env, 3000)
        assert built.returncode == 0, (built.stdout[-3000:], built.stderr[-3000:])
        # A plain `podman run` on the compose project's volume: podman-compose 1.0.3's `run`
        # drops -v and always exits 0.
        volume = f"{project}_index"
        made = _run(["podman", "volume", "create", volume], env, 60)
        assert made.returncode == 0, made.stderr[-1000:]
        corpus = f"{REPO / 'corpus'}:/corpus:ro"
        ingest = _run(
            ["podman", "run", "--rm", "-v", f"{volume}:/data", "-v", corpus,
             "localhost/policy-search:latest", "policy-search", "ingest", "/corpus"],
            env,
            1200,
        )  # fmt: skip
        assert ingest.returncode == 0, (ingest.stdout[-3000:], ingest.stderr[-3000:])
        up = _run([*compose, "up", "-d"], env, 600)
        assert up.returncode == 0, (up.stdout[-3000:], up.stderr[-3000:])
        yield {"url": f"http://127.0.0.1:{port}", "project": project, **env}
    finally:
        down = _run([*compose, "down", "-v"], env, 300)
        print(down.stdout[-2000:], down.stderr[-2000:])


def _wait_health(url: str, limit_s: float = 180) -> httpx.Response:
    deadline = time.monotonic() + limit_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url + "/api/health", headers={"Origin": ORIGIN}, timeout=10)
            if r.status_code == 200:
                return r
            last = (r.status_code, r.text[:200])
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(2)
    pytest.fail(f"/api/health through nginx did not answer 200 in {limit_s} s: {last}")


def test_image_serves_health_through_nginx_with_one_cors_header(stack) -> None:  # type: ignore[no-untyped-def]
    r = _wait_health(stack["url"])
    body = r.json()
    corpus = [p for p in (REPO / "corpus").iterdir() if p.is_file()]
    assert body["status"] == "ok" and body["documents"] == len(corpus), body
    # The app's CORS header, once: nginx adds none to what the app answers.
    assert r.headers.get_list("access-control-allow-origin") == [ORIGIN]
    found = httpx.get(stack["url"] + "/api/search", params={"q": "tăng trưởng xanh"}, timeout=60)
    assert found.status_code == 200 and found.json()["results"], found.text[:300]
    # The image has the CPU build of torch, and no model came from a hub.
    env = {k: v for k, v in stack.items() if k not in ("url", "project")}
    check = _run(
        ["podman", "exec", f"{stack['project']}_app_1", "python", "-c",
         "import torch, os; print(torch.__version__, torch.version.cuda, "
         "os.path.isdir(os.path.expanduser('~/.cache/huggingface')))"],
        env, 120,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-1000:]
    assert check.stdout.split() == ["2.13.0+cpu", "None", "False"], check.stdout


def test_nginx_error_page_when_the_app_is_down_is_readable_cross_origin(stack) -> None:  # type: ignore[no-untyped-def]
    _wait_health(stack["url"])
    env = {k: v for k, v in stack.items() if k not in ("url", "project")}
    stopped = _run(["podman", "stop", "-t", "10", f"{stack['project']}_app_1"], env, 120)
    assert stopped.returncode == 0, stopped.stderr[-1000:]
    try:
        r = httpx.get(stack["url"] + "/api/health", headers={"Origin": ORIGIN}, timeout=30)
        assert r.status_code == 502, (r.status_code, r.text[:300])
        assert r.json()["error"] == "upstream_unavailable"
        assert r.headers.get_list("access-control-allow-origin") == [ORIGIN]
        assert r.headers["retry-after"] == "10"
        assert "Retry-After" in r.headers["access-control-expose-headers"]
        other = httpx.get(
            stack["url"] + "/api/health", headers={"Origin": "https://evil.example"}, timeout=30
        )
        assert other.status_code == 502 and "access-control-allow-origin" not in other.headers
    finally:
        started = _run(["podman", "start", f"{stack['project']}_app_1"], env, 120)
        assert started.returncode == 0, started.stderr[-1000:]
    _wait_health(stack["url"])
