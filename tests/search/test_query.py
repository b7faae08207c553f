"""Query-kind detection and the search plan built from it."""

from __future__ import annotations

import pytest

from index.accents import AccentModel
from search.query import WEIGHTS, QueryKind, detect_kind, english_keywords, plan_query

VI, PLAIN, EN = QueryKind.VI, QueryKind.VI_PLAIN, QueryKind.EN


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("Sở nào chủ trì quản lý chất thải?", VI),
        ("kế hoạch tăng trưởng xanh", VI),
        ("Ai đã giành Super Bowl XLIX?", VI),  # English names inside a Vietnamese question
        ("ke hoach tang truong xanh", PLAIN),
        ("so nao chu tri quan ly chat thai", PLAIN),
        ("ai da gianh super bowl xlix?", PLAIN),  # lower-case names, Vietnamese function words
        ("Lao Cai", PLAIN),
        ("Which department manages urban waste?", EN),
        ("green growth action plan", EN),
        ("electric buses", EN),
        ("Who leads the green growth plan in Lào Cai?", EN),  # a place name with its marks
        ("When was Temüjin elected khan of the Mongols?", EN),  # marks that are not Vietnamese
        ("2030", PLAIN),
    ],
)
def test_detect_kind(query: str, kind: QueryKind) -> None:
    assert detect_kind(query) is kind


def test_detection_reads_nfd_input_like_nfc() -> None:
    import unicodedata

    assert detect_kind(unicodedata.normalize("NFD", "quản lý chất thải")) is VI


def test_english_keywords_drop_function_words() -> None:
    assert english_keywords("How many industrial parks does Dong Nai have?") == (
        "industrial parks Dong Nai"
    )


def test_plan_restores_unaccented_queries_for_the_dense_side() -> None:
    model = AccentModel.from_texts(["Kế hoạch hành động tăng trưởng xanh."])
    plan = plan_query("ke hoach tang truong xanh", model)
    assert plan.kind is PLAIN
    assert plan.dense_text == "kế hoạch tăng trưởng xanh"
    assert plan.lexical_text == "ke hoach tang truong xanh"
    assert plan.weights == WEIGHTS[PLAIN]


def test_plan_for_english_leans_on_dense() -> None:
    plan = plan_query("Which province signed with Kobe?", None)
    assert plan.kind is EN and plan.dense_text == "Which province signed with Kobe?"
    assert plan.lexical_text == "province signed Kobe"
    assert plan.weights.dense > plan.weights.lexical


def test_accented_queries_are_not_restored() -> None:
    model = AccentModel.from_texts(["Kế hoạch hành động."])
    plan = plan_query("kế hoạch", model)
    assert plan.kind is VI and plan.dense_text == "kế hoạch"
