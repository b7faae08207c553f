"""e5-ov (OpenVINO) against e5-st (torch): the same tokens, passages, sentences and queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embed_base import SENTENCE_PASS, SentencePass, gives_sentences
from index.windows import sentence_spans

pytest.importorskip("openvino")

_PARTS = [f"Câu số {i} nói về dự án đường cao tốc thứ {i}." for i in range(120)]
_PARTS[110] = "Tỉnh Lào Cai khởi công xây dựng sân bay Sa Pa vào năm 2024."
TEXTS = [
    "Kế hoạch tăng trưởng xanh\nSở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn. "
    "Sở Giao thông vận tải mở thêm các tuyến xe buýt điện. "
    "Sở Công Thương phát triển năng lượng tái tạo.",
    "Chỉ một câu về du lịch sinh thái ở Trà Vinh.",
    "Hai bên ký kết biên bản ghi nhớ. Rồi ăn mừng.",
    # Longer than the model's 512 positions: two windows, averaged.
    " ".join(_PARTS),
]


@pytest.fixture(scope="module")
def e5ov(e5_cache: Path):
    from index.embed import make_embedder

    return make_embedder(f"e5-ov:{e5_cache}")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape
    return np.sum(a * b, axis=1)


def test_same_name_limits_and_token_counts_as_e5st(e5ov, e5st):
    # Same name: an index built by one is searched by the other without a rebuild.
    assert e5ov.name == e5st.name == "e5-st:intfloat/multilingual-e5-small"
    assert (e5ov.dim, e5ov.max_tokens) == (e5st.dim, e5st.max_tokens) == (384, 512)
    assert [e5ov.token_count(t) for t in TEXTS] == [e5st.token_count(t) for t in TEXTS]
    assert gives_sentences(e5ov)
    from index.embed import sentence_capable

    assert sentence_capable("e5-ov")


def test_passages_and_queries_match_e5st(e5ov, e5st, xquad_vi):
    texts = TEXTS + [p["context"] for p in xquad_vi[:40]]
    ticks: list[int] = []
    got = e5ov.embed_passages(texts, progress=ticks.append)
    assert sum(ticks) == len(texts)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert _cosines(got, e5st.embed_passages(texts)).min() > 0.9995
    queries = ["sân bay Sa Pa ở Lào Cai", "xe buýt điện", "Ai chủ trì quản lý chất thải rắn?"]
    asked = e5ov.embed_queries(queries)
    assert _cosines(asked, e5st.embed_queries(queries)).min() > 0.9995
    # The prefixes differ: a text as a query is not the text as a passage.
    assert float(asked[1] @ e5ov.embed_passages([queries[1]])[0]) < 0.99
    assert e5ov.embed_queries([]).shape == (0, 384)


@pytest.mark.parametrize(
    "spec",
    [SENTENCE_PASS, SentencePass(context_bias=0.5, context_layers=4, sentence_bias=4.0)],
    ids=["default", "damped-4-layers"],
)
def test_late_windows_match_e5st_for_any_pass(e5ov, e5st, spec):
    sentences = [sentence_spans(t) for t in TEXTS]
    vectors, windows = e5ov.embed_passages_and_sentences(TEXTS, sentences, spec=spec)
    want_vectors, want_windows = e5st.embed_passages_and_sentences(TEXTS, sentences, spec=spec)
    assert windows.shape == (4 + 2 + 120, 384)
    assert _cosines(vectors, want_vectors).min() > 0.9995
    assert _cosines(windows, want_windows).min() > 0.999
    # The second window of the long passage holds sentence 110: asked for it, it wins there.
    asked = e5ov.embed_queries(["sân bay Sa Pa ở Lào Cai"])[0]
    assert int(np.argmax(windows[6:] @ asked)) == 110


def test_graphs_are_converted_once_and_kept_beside_the_model(e5ov, e5_cache):
    from index.e5ov import E5OpenVINOEmbedder

    graphs = sorted(e5ov.folder.glob("openvino/v*/layers-*.xml"))
    assert graphs, "no converted graph was cached"
    before = {p: p.stat().st_mtime_ns for p in graphs}
    again = E5OpenVINOEmbedder(str(e5_cache))
    texts = TEXTS[:3]
    assert _cosines(again.embed_passages(texts), e5ov.embed_passages(texts)).min() > 0.99999
    again.embed_passages_and_sentences(texts, [sentence_spans(t) for t in texts])
    assert {p: p.stat().st_mtime_ns for p in graphs} == before
    assert not list(e5ov.folder.glob("openvino/v*/.layers.*"))  # no temporary folder left
