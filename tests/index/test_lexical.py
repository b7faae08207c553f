"""The Vietnamese analyzer and the BM25 files written into a version folder."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from index.lexical import FIELDS, LexicalIndex, analyze, build_lexical_files


def test_nfd_input_gives_the_same_terms_as_nfc() -> None:
    text = "Quản lý chất thải rắn ở Đồng Nai"
    assert analyze(unicodedata.normalize("NFD", text), "syllable") == analyze(text, "syllable")


def test_old_and_new_tone_placement_are_one_term() -> None:
    # "hoà"/"hòa", "thuỷ"/"thủy", "uỷ"/"ủy": the same word typed two ways.
    assert analyze("hoà bình thuỷ lợi uỷ ban", "syllable") == analyze(
        "hòa bình thủy lợi ủy ban", "syllable"
    )


def test_one_letter_syllables_are_kept() -> None:
    terms = analyze("người dân ở đây có ý kiến", "syllable", bigrams=False)
    assert "ở" in terms and "ý" in terms


def test_folded_field_maps_d_stroke_and_drops_marks() -> None:
    assert analyze("Đồng Nai đẩy mạnh", "folded", bigrams=False) == ["dong", "nai", "day", "manh"]
    assert analyze("Đồng Nai", "syllable", bigrams=False) == ["đồng", "nai"]


def test_bigrams_join_neighbouring_syllables() -> None:
    assert analyze("chất thải rắn", "syllable") == [
        "chất",
        "thải",
        "rắn",
        "chất thải",
        "thải rắn",
    ]


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown lexical field"):
        analyze("x", "stems")


TEXTS = [
    "Sở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn",
    "Bàn đỗ xe buýt mới ở trung tâm",
    "Bản đồ quy hoạch xe buýt điện",
]


def _write(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_files_are_json_and_plain_npy(tmp_path: Path) -> None:
    files = build_lexical_files(TEXTS)
    assert files and all(name.endswith((".json", ".npy")) for name in files)
    _write(files, tmp_path)
    for name in files:
        if name.endswith(".npy"):
            np.load(tmp_path / name, allow_pickle=False)  # raises if anything was pickled
        else:
            json.loads((tmp_path / name).read_text())


def test_saved_index_scores_like_the_in_memory_one(tmp_path: Path) -> None:
    loaded = LexicalIndex.load(_write(build_lexical_files(TEXTS), tmp_path))
    assert loaded is not None
    fresh = LexicalIndex.build(TEXTS)
    for field in FIELDS:
        terms = analyze("quản lý chất thải", field)
        np.testing.assert_allclose(
            loaded.scores(field, terms), fresh.scores(field, terms), rtol=1e-6
        )


def test_unaccented_query_finds_accented_text_and_exact_marks_rank_first() -> None:
    index = LexicalIndex.build(TEXTS)
    folded = index.scores("folded", analyze("quan ly chat thai", "folded"))
    assert folded.argmax() == 0 and folded[0] > 0
    # "bản đồ" and "bàn đỗ" fold alike; the syllable field tells them apart.
    exact = index.scores("syllable", analyze("bản đồ", "syllable"))
    both = exact + index.scores("folded", analyze("bản đồ", "folded"))
    assert both[2] > both[1] > 0


def test_terms_missing_from_the_index_score_zero() -> None:
    index = LexicalIndex.build(TEXTS)
    assert not index.scores("syllable", ["không", "có"]).any()
    assert not index.scores("folded", []).any()


def test_empty_corpus(tmp_path: Path) -> None:
    loaded = LexicalIndex.load(_write(build_lexical_files([]), tmp_path))
    assert loaded is not None and loaded.n == 0
    assert loaded.scores("folded", ["a"]).shape == (0,)


def test_version_without_lexical_files_loads_as_none(tmp_path: Path) -> None:
    assert LexicalIndex.load(tmp_path) is None
