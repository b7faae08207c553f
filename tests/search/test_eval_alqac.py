"""`policy-search eval --alqac` on a tiny folder in ALQAC's format, written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.retrieval import CachedEmbedder, alqac_set, half, passage_cache_path
from index.embed_base import ForwardsSentences
from policy_search.cli import main

ARTICLES = {
    "luat-cu-tru-2020__dieu-2": (
        "Luật Cư trú 2020 – Điều 2. Giải thích từ ngữ",
        "1. Chỗ ở hợp pháp là nơi được sử dụng để sinh sống, thuộc quyền sở hữu hoặc quyền "
        "sử dụng của công dân.\n\n2. Cư trú là việc công dân sinh sống tại một địa điểm.",
    ),
    "luat-cu-tru-2020__dieu-20": (
        "Luật Cư trú 2020 – Điều 20. Điều kiện đăng ký thường trú",
        "1. Công dân có chỗ ở hợp pháp thuộc quyền sở hữu của mình thì được đăng ký thường "
        "trú tại chỗ ở hợp pháp đó.",
    ),
    "bo-luat-dan-su-2015__dieu-10": (
        "Bộ Luật Dân sự 2015 – Điều 10. Giới hạn việc thực hiện quyền dân sự",
        "1. Cá nhân, pháp nhân không được lạm dụng quyền dân sự của mình gây thiệt hại cho "
        "người khác.",
    ),
    "bo-luat-dan-su-2015__dieu-26": (
        "Bộ Luật Dân sự 2015 – Điều 26. Quyền có họ, tên",
        "1. Cá nhân có quyền có họ, tên. Họ, tên của một người được xác định theo họ, tên "
        "khai sinh của người đó.",
    ),
}
QUESTIONS = [
    {
        "id": "q-1",
        "query": "Công dân có chỗ ở hợp pháp thì được đăng ký thường trú, đúng hay sai?",
        "relevant": ["luat-cu-tru-2020__dieu-20"],
    },
    {
        "id": "q-2",
        "query": "Cá nhân có được lạm dụng quyền dân sự gây thiệt hại cho người khác không?",
        "relevant": ["bo-luat-dan-su-2015__dieu-10"],
    },
    {
        "id": "q-3",
        "query": "Họ, tên của một người được xác định theo gì?",
        "relevant": ["bo-luat-dan-su-2015__dieu-26", "luat-cu-tru-2020__dieu-2"],
    },
]


@pytest.fixture
def alqac(tmp_path: Path) -> Path:
    folder = tmp_path / "alqac"
    (folder / "docs").mkdir(parents=True)
    for stem, (head, text) in ARTICLES.items():
        (folder / "docs" / f"{stem}.txt").write_text(f"{head}\n\n{text}\n", encoding="utf-8")
    lines = [json.dumps(q, ensure_ascii=False) for q in QUESTIONS]
    (folder / "dev_questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _rows(out: str) -> dict[tuple[str, str, str], list[str]]:
    lines = [line for line in out.splitlines() if line.startswith("| alqac")]
    cells = ([c.strip() for c in line.strip("|").split("|")] for line in lines)
    return {(c[0], c[1], c[2]): c for c in cells}


def test_alqac_questions_in_both_kinds_with_every_relevant_article(alqac: Path) -> None:
    docs, questions = alqac_set(alqac)
    assert docs == alqac / "docs"
    assert [q.kind for q in questions] == ["vi", "vi_plain"] * 3
    assert questions[1].query.startswith("Cong dan co cho o hop phap")
    assert questions[4].relevant == ("bo-luat-dan-su-2015__dieu-26", "luat-cu-tru-2020__dieu-2")
    assert {half(q.qid) for q in questions} <= {"tune", "check"}


def test_eval_alqac_prints_hits_per_method_half_and_kind(
    alqac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder
) -> None:
    cache = tmp_path / "cache"
    code = main(["eval", "--alqac", str(alqac), "--cache", str(cache), "--markdown"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| set | queries | method | n | MRR@10 | hit@1 | hit@5 | hit@10 |" in out
    rows = _rows(out)
    methods = {m for _, _, m in rows}
    assert methods == {"bm25", "lexical", "dense", "hybrid"}
    for kind in ("Vietnamese", "Vietnamese without diacritics"):
        assert rows[("alqac", kind, "hybrid")][3] == "3"
        n_tune = int(rows.get(("alqac:tune", kind, "hybrid"), ["", "", "", "0"])[3])
        n_check = int(rows.get(("alqac:check", kind, "hybrid"), ["", "", "", "0"])[3])
        assert n_tune + n_check == 3
        # Four articles: every method finds the answer in its ten.
        for method in methods:
            assert float(rows[("alqac", kind, method)][7]) == pytest.approx(1.0)
    assert float(rows[("alqac", "Vietnamese", "hybrid")][4]) == pytest.approx(1.0)

    # The index and the vectors are cached: a second run embeds nothing new.
    path = passage_cache_path(cache, embedder, "alqac")
    cached = CachedEmbedder(embedder, None, path)
    assert len(cached.passages) >= len(ARTICLES)
    assert main(["eval", "--alqac", str(alqac), "--cache", str(cache), "--method", "bm25"]) == 0
    assert "bm25" in capsys.readouterr().out


def test_passages_come_from_the_cache(tmp_path: Path, embedder) -> None:
    class Counting:
        """The real embedder, counting the texts it is asked to embed."""

        def __init__(self) -> None:
            self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
            self.seen = 0

        def embed_passages(self, texts, progress=None):
            self.seen += len(texts)
            return embedder.embed_passages(texts, progress=progress)

        def embed_queries(self, texts):
            return embedder.embed_queries(texts)

        def token_count(self, text: str) -> int:
            return embedder.token_count(text)

    counting = Counting()
    path = tmp_path / "passages.npy"
    first = CachedEmbedder(counting, None, path).embed_passages(["một", "hai"])
    again = CachedEmbedder(counting, None, path).embed_passages(["hai", "ba", "một"])
    assert counting.seen == 3  # "ba" only, the second time
    assert (again[0] == first[1]).all() and (again[2] == first[0]).all()


def test_one_pass_vectors_come_from_the_cache_and_the_alqac_index_is_built_late(
    alqac: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:
    from index.embed_base import gives_sentences
    from index.windows import recorded_method, sentence_spans
    from policy_search.settings import get_settings

    class Counting(ForwardsSentences):
        """The real embedder, counting the passages it embeds in one pass."""

        def __init__(self) -> None:
            self.inner = embedder
            self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
            self.seen = 0

        def embed_passages(self, texts, progress=None):
            return embedder.embed_passages(texts, progress=progress)

        def embed_passages_and_sentences(self, texts, sentences, progress=None):
            self.seen += len(texts)
            return embedder.embed_passages_and_sentences(texts, sentences, progress)

        def embed_queries(self, texts):
            return embedder.embed_queries(texts)

        def token_count(self, text: str) -> int:
            return embedder.token_count(text)

    texts = ["Một câu. Hai câu nữa.", "Chỉ một câu.", "Ba. Bốn. Năm câu."]
    spans = [sentence_spans(t) for t in texts]
    counting = Counting()
    path = tmp_path / "passages.npy"
    assert gives_sentences(CachedEmbedder(counting, None, path))
    first = CachedEmbedder(counting, None, path).embed_passages_and_sentences(texts, spans)
    again = CachedEmbedder(counting, None, path).embed_passages_and_sentences(
        [texts[2], "Sáu. Bảy."], [spans[2], sentence_spans("Sáu. Bảy.")]
    )
    assert counting.seen == 4  # "Sáu. Bảy." only, the second time
    assert first[1].shape == (5, embedder.dim) and again[1].shape == (5, embedder.dim)
    assert (again[0][0] == first[0][2]).all() and (again[1][:3] == first[1][2:]).all()
    # The same text with other sentences is another pass, not a cache hit.
    CachedEmbedder(counting, None, path).embed_passages_and_sentences(
        [texts[0]], [[(0, len(texts[0]))]]
    )
    assert counting.seen == 5

    # The evaluation builds its ALQAC index with the window method asked for (through the
    # cache, which once hid the one pass and so made separate windows whatever was asked).
    monkeypatch.setenv("POLICY_SEARCH_WINDOW_METHOD", "late")
    get_settings.cache_clear()
    cache = tmp_path / "cache"
    try:
        assert (
            main(["eval", "--alqac", str(alqac), "--cache", str(cache), "--method", "hybrid"]) == 0
        )
    finally:
        get_settings.cache_clear()
    (index,) = cache.glob("alqac-index-*")
    assert recorded_method(index / "current") == "late"


def test_eval_alqac_without_the_data_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", "--alqac", str(tmp_path / "nowhere"), "--cache", str(tmp_path / "c")])
    assert code == 1
    assert "ALQAC not found" in capsys.readouterr().err


def test_eval_headers_without_admindocs_still_measures_the_fixtures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", "--headers", "--admindocs", str(tmp_path / "nowhere")])
    captured = capsys.readouterr()
    assert code == 1
    assert "admindocs not found" in captured.err
    fixtures = next(line for line in captured.out.splitlines() if line.startswith("fixtures"))
    assert fixtures.split()[1] == "1.000"
