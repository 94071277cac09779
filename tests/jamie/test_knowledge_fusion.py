"""Reciprocal rank fusion: agreement between rankings beats a single first place."""

import pytest

from jamie.knowledge.retrieval import RRF_K, reciprocal_rank_fusion


def test_item_ranked_well_by_both_beats_item_first_in_one() -> None:
    vector = ["a", "b", "c"]
    lexical = ["b", "d"]

    actual = [chunk_id for chunk_id, _ in reciprocal_rank_fusion([vector, lexical])]

    assert actual == ["b", "a", "d", "c"]


def test_fused_score_is_sum_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b"], ["b"]]))

    assert fused == {
        "a": pytest.approx(1 / (RRF_K + 1)),
        "b": pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1)),
    }


def test_ties_keep_the_vector_ranking_first() -> None:
    actual = [chunk_id for chunk_id, _ in reciprocal_rank_fusion([["v"], ["l"]])]

    assert actual == ["v", "l"]


def test_no_rankings_fuse_to_nothing() -> None:
    assert reciprocal_rank_fusion([[], []]) == []
