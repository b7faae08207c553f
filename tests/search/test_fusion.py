"""Fusion rules: weighted RRF and min-max score fusion."""

from __future__ import annotations

import pytest

from search.fusion import rrf, score_fusion

FUSERS = [rrf, score_fusion]


@pytest.mark.parametrize("fuse", FUSERS)
def test_a_chunk_found_by_one_side_only_is_kept(fuse) -> None:
    lexical = [(1, 9.0), (2, 4.0)]
    dense = [(3, 0.9), (1, 0.8)]
    fused = fuse([(lexical, 1.0), (dense, 1.0)], 10)
    assert {cid for cid, _ in fused} == {1, 2, 3}
    assert fused[0][0] == 1  # found by both


@pytest.mark.parametrize("fuse", FUSERS)
def test_empty_inputs(fuse) -> None:
    assert fuse([], 5) == []
    assert fuse([([], 1.0), ([], 1.0)], 5) == []
    assert fuse([([], 1.0), ([(4, 0.5)], 1.0)], 5)[0][0] == 4


@pytest.mark.parametrize("fuse", FUSERS)
def test_k_larger_than_all_candidates(fuse) -> None:
    fused = fuse([([(1, 2.0), (2, 1.0)], 1.0), ([(2, 0.7), (5, 0.1)], 1.0)], 100)
    assert sorted(cid for cid, _ in fused) == [1, 2, 5]
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


@pytest.mark.parametrize("fuse", FUSERS)
def test_k_cuts_and_zero_k(fuse) -> None:
    ranking = [(i, float(10 - i)) for i in range(10)]
    assert len(fuse([(ranking, 1.0)], 3)) == 3
    assert fuse([(ranking, 1.0)], 0) == []


@pytest.mark.parametrize("fuse", FUSERS)
def test_zero_weight_ignores_a_list(fuse) -> None:
    fused = fuse([([(1, 5.0)], 0.0), ([(2, 0.5)], 1.0)], 5)
    assert [cid for cid, _ in fused] == [2]


@pytest.mark.parametrize("fuse", FUSERS)
def test_weights_decide_between_two_lists_that_disagree(fuse) -> None:
    a = [(1, 1.0), (2, 0.5)]
    b = [(2, 1.0), (1, 0.5)]
    assert fuse([(a, 1.0), (b, 0.3)], 2)[0][0] == 1
    assert fuse([(a, 0.3), (b, 1.0)], 2)[0][0] == 2


@pytest.mark.parametrize("fuse", FUSERS)
def test_ties_break_on_chunk_id(fuse) -> None:
    fused = fuse([([(7, 1.0)], 1.0), ([(3, 1.0)], 1.0)], 2)
    assert [cid for cid, _ in fused] == [3, 7]


def test_score_fusion_keeps_the_margin_rrf_forgets() -> None:
    # Lexical is sure of chunk 1 (far ahead); dense barely prefers chunk 2.
    lexical = [(1, 30.0), (2, 1.0), (3, 0.5)]
    dense = [(2, 0.86), (1, 0.85), (3, 0.20)]
    assert score_fusion([(lexical, 1.0), (dense, 1.0)], 1)[0][0] == 1
    top_two = rrf([(lexical, 1.0), (dense, 1.0)], 2)
    assert top_two[0][1] == top_two[1][1]
