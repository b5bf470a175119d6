"""The document model's features and fit: word classes in any capitalisation, one-line texts have no headline,
the text penalty chosen on inner grouped folds."""
import numpy as np
import pytest
import scipy.sparse as sp

from annotator.model.features import (HEADLINE_FEATURES, WORD_CLASSES, DenseParts, dense_rates, headline_prior,
                                      word_class_table)
from annotator.model.stacking import fit_stacked
from annotator.taxonomy import load_taxonomy
from annotator.training import train


@pytest.fixture(scope="module")
def small_model(corpora):
    return train(("corpora",), limit=30, span_cv=0)


def test_word_classes_are_found_in_any_capitalisation():
    vocab = ["We", "we", "I", "Terrible", "terrible", "!", "table"]
    rows, cols = word_class_table(vocab, len(vocab))
    classes = {}
    for r, c in zip(rows.tolist(), cols.tolist()):
        classes.setdefault(vocab[r], set()).add(WORD_CLASSES[c])
    assert classes["We"] == classes["we"] == {"pronoun:first_second_person"}
    assert "pronoun:first_second_person" in classes["I"]  # "I" is never lower case
    assert classes["Terrible"] == classes["terrible"] and any(c.startswith("vader:neg") for c in classes["Terrible"])
    assert classes["!"] == {"punct:exclamation"} and "table" not in classes


def test_headline_prior_replaces_only_one_line_texts():
    labels = list(load_taxonomy().label_ids)
    width = 3 * len(labels) + len(WORD_CLASSES)
    head = np.array([[3.0, 0.9, 2, 1, 4], [1.0, 0.2, 0, 0, 0], [0.0, 0.4, 1, 0, 0]])
    parts = DenseParts(np.ones((3, width)), head, np.array([20, 300, 400]), np.array([False, True, True]))
    prior = headline_prior(parts)
    assert np.allclose(prior, np.mean([[np.log(2), 0.2, 0, 0, 0], [0, 0.4, np.log(2), 0, 0]], axis=0))
    n_head = len(HEADLINE_FEATURES)
    with_prior = dense_rates(parts, np.zeros(width), 100, labels, prior)[:, -1 - n_head:-1]
    without = dense_rates(parts, np.zeros(width), 100, labels)[:, -1 - n_head:-1]
    assert np.allclose(with_prior[0], prior) and np.allclose(with_prior[1:], without[1:])
    assert without[0, 0] == np.log(4.0)  # read as a headline: its three loaded terms
    assert np.array_equal(parts.headline, head)  # not changed in place


def test_a_one_line_text_is_not_read_as_a_headline(small_model):
    """Before, a sentence's headline features were the whole sentence's: its every loaded term and its
    capitals counted as a shouting headline. Now they are the training articles' mean: they add nothing."""
    m = small_model
    assert m.headline_prior_.shape == (len(HEADLINE_FEATURES),)
    one = "SHOCKING! The corrupt regime's thugs LIED again, the terrorists said."
    two = "SHOCKING! The corrupt regime's thugs LIED again\nThe terrorists said so on Monday."
    _bow, dense, _w = m._features(m.tagger_.analyze_batch([one, two]), [one, two])
    n_head = len(HEADLINE_FEATURES)
    head = slice(-1 - n_head, -1)  # the headline columns sit before log_tokens
    assert np.allclose(dense[0, head], m.headline_prior_)
    assert dense[1, head][1] > 0.3 > m.headline_prior_[1]  # the two-line text's headline shouts in capitals
    # the headline columns of the one-line text contribute nothing to its score
    coef = np.asarray(m.ridge_.coef_).ravel()[-len(m.feature_names_):]
    contrib = m.scaler_.transform(dense)[0] * coef
    assert np.allclose(contrib[head], 0.0, atol=1e-9)


def test_the_text_penalty_is_chosen_on_inner_grouped_folds():
    rng = np.random.default_rng(0)
    n, words = 120, 40
    bow = sp.csr_matrix(rng.poisson(0.5, (n, words)).astype(float))
    y = np.clip(0.5 + 0.3 * (bow[:, 0].toarray().ravel() - bow[:, 1].toarray().ravel()), 0, 1)
    dense, w, groups, shrink = rng.normal(size=(n, 3)), np.ones(n), np.arange(n) // 4, np.ones(n)
    one = fit_stacked(bow, dense, y, w, groups, shrink, alpha=1.0, stack_alpha=10.0)
    same = fit_stacked(bow, dense, y, w, groups, shrink, alpha=[1.0], stack_alpha=10.0)
    assert one.alpha == same.alpha == 1.0 and np.allclose(one.coef, same.coef)
    # the words carry the target: a penalty that flattens them loses on the held-out folds
    grid = fit_stacked(bow, dense, y, w, groups, shrink, alpha=(0.3, 1e6), stack_alpha=10.0)
    assert grid.alpha == 0.3
    assert np.allclose(grid.coef, fit_stacked(bow, dense, y, w, groups, shrink, alpha=0.3, stack_alpha=10.0).coef)


def test_a_fitted_model_records_its_text_penalty(small_model):
    assert small_model.text_alpha_ in small_model.alpha
