"""Diacritic restoration learned from the indexed text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.accents import AccentModel, build_accent_files

CORPUS = [
    "Kế hoạch hành động tăng trưởng xanh của tỉnh Lào Cai.",
    "Sở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn.",
    "Tăng trưởng xanh gắn với phát triển bền vững.",
    "Người dân ở vùng ven biển trồng cây xanh.",
    "Cầu Long Biên bắc qua sông Hồng.",
    "Thành phố có nhiều cây cầu đẹp.",
]


def test_restores_unaccented_words_seen_in_the_corpus() -> None:
    model = AccentModel.from_texts(CORPUS)
    assert model.restore("ke hoach tang truong xanh") == "kế hoạch tăng trưởng xanh"
    assert model.restore("quan ly chat thai ran") == "quản lý chất thải rắn"


def test_context_picks_between_forms_of_one_folded_syllable() -> None:
    # "cau" is "cầu" in both contexts here, "cay" is "cây"; "song" is "sông" after "bắc qua".
    model = AccentModel.from_texts(CORPUS)
    assert model.restore("bac qua song Hong") == "bắc qua sông Hồng"


def test_keeps_case_punctuation_and_unknown_words() -> None:
    model = AccentModel.from_texts(CORPUS)
    assert model.restore("Ke hoach cua Vingroup?") == "Kế hoạch của Vingroup?"
    assert model.restore("LAO CAI") == "LÀO CAI"


def test_words_typed_with_marks_are_left_alone() -> None:
    model = AccentModel.from_texts(CORPUS)
    assert model.restore("kế hoach") == "kế hoạch"


def test_empty_model_and_empty_query() -> None:
    model = AccentModel.from_texts([])
    assert model.restore("tang truong") == "tang truong"
    assert AccentModel.from_texts(CORPUS).restore("") == ""


def test_files_round_trip_without_pickle(tmp_path: Path) -> None:
    files = build_accent_files(CORPUS)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        if name.endswith(".npy"):
            np.load(tmp_path / name, allow_pickle=False)
    loaded = AccentModel.load(tmp_path)
    assert loaded is not None
    assert loaded.restore("tang truong xanh") == "tăng trưởng xanh"
    assert AccentModel.load(tmp_path / "missing") is None


def test_question_words_the_documents_never_ask_are_restored() -> None:
    # Documents state and rarely ask: "lâm" (forestry) and "đầu" (investment) are all the
    # collection has for "lam" and "dau", yet a question means "làm gì" and "ở đâu".
    texts = [
        "Phát triển lâm nghiệp bền vững, bảo vệ rừng phòng hộ.",
        "Thu hút đầu tư vào khu công nghiệp; đầu tư công trung hạn.",
        "Sở Tài chính bố trí kinh phí thực hiện kế hoạch.",
    ]
    model = AccentModel.from_texts(texts)
    assert model.restore("so tai chinh phai lam gi") == "sở tài chính phải làm gì"
    assert model.restore("kinh phi o dau") == "kinh phí ở đâu"
    assert model.restore("bao nhieu kinh phi") == "bao nhiêu kinh phí"
    # The documents' own words keep their forms.
    assert model.restore("lam nghiep ben vung") == "lâm nghiệp bền vững"
    assert model.restore("dau tu cong") == "đầu tư công"
