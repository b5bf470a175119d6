"""Span scoring (SemEval-2020 Task 11 partial overlap), exact and sentence-level scores."""
import pytest

from annotator.spans import exact_prf, sentence_prf, span_prf


def test_partial_overlap_credit_by_hand():
    gold = [[(0, 10)]]
    pred = [[(5, 15)]]
    r = span_prf(gold, pred)
    # predicted span: 5 of its 10 chars overlap -> P = 0.5; gold: 5 of 10 covered -> R = 0.5
    assert r["precision"] == pytest.approx(0.5) and r["recall"] == pytest.approx(0.5) and r["f1"] == pytest.approx(0.5)


def test_partial_overlap_two_articles_and_misses():
    gold = [[(0, 4), (10, 20)], []]
    pred = [[(0, 2)], [(3, 5)]]
    r = span_prf(gold, pred)
    assert r["precision"] == pytest.approx((1.0 + 0.0) / 2)
    assert r["recall"] == pytest.approx((0.5 + 0.0) / 2)


def test_overlapping_gold_spans_are_merged():
    r = span_prf([[(0, 6), (4, 10)]], [[(0, 10)]])
    assert r["n_gold"] == 1 and r["f1"] == pytest.approx(1.0)


def test_exact_and_empty():
    assert exact_prf([[(0, 3)]], [[(0, 3), (5, 6)]])["precision"] == pytest.approx(0.5)
    assert span_prf([[]], [[]])["f1"] == 0.0


def test_sentence_level():
    text = "He is believed to be safe.\nThe sky is blue.\nIt was allegedly stolen."
    gold = [(6, 14), (53, 62)]
    pred = [(6, 14)]
    r = sentence_prf([text], [gold], [pred])
    assert r["precision"] == 1.0 and r["recall"] == 0.5 and r["n_sentences"] == 3
