"""The fast build path gives what the plain one gives: the one-pass design matrix, and the span
cross-validation's folds in worker processes beside the final fit, at a lower priority."""
import multiprocessing
import os

import numpy as np
import pytest
import scipy.sparse as sp

from annotator.cues import CueTagger
from annotator.cues.tagger import estimator
from annotator.cues.tagger.context import context_design
from annotator.cues.tagger.training import DesignRows, fit_classifiers
from annotator.training import gather, train, training_frame
from annotator.training.folds import WORKER_NICENESS, cv_workers, fold_pool, in_background

pytestmark = pytest.mark.corpora()


def _same(a, b) -> bool:
    """Identical CSR matrices: shape, row pointers, column order within rows, values."""
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.data, b.data))


@pytest.fixture(scope="module")
def small_frame():
    data = gather(("corpora",), limit=25)
    return training_frame(data.dataset, data.team_ids)


def _fit_capturing_the_design(frame, monkeypatch) -> dict:
    """Fit a tagger on ``frame`` and return what its ``_design`` got and gave (tagger, arts, design, out)."""
    seen = {}
    original = estimator.CueTagger._design

    def spy(self, arts, design):
        out = original(self, arts, design)
        seen.update(tagger=self, arts=arts, design=design, out=out)
        return out

    monkeypatch.setattr(estimator.CueTagger, "_design", spy)
    CueTagger(random_state=0).fit(frame["text"].tolist(), frame["spans"].tolist(),
                                  annotated=frame["annotated"].tolist())
    return seen


def test_one_pass_design_has_the_rows_of_the_article_by_article_design(small_frame, monkeypatch):
    seen = _fit_capturing_the_design(small_frame, monkeypatch)
    tagger, arts, design = seen["tagger"], seen["arts"], seen["design"]
    context_j, cols, rows = seen["out"]
    assert isinstance(rows, DesignRows) and context_j and len(rows) == len(arts.tokens)
    per_article = [design.matrix(toks, context_design(tagger.context, cols, ids, bd))
                   for toks, ids, bd in zip(arts.tokens, arts.ids, arts.bounds)]
    assert _same(rows.X, sp.vstack(per_article, format="csr"))
    assert all(_same(rows[i], m) for i, m in enumerate(per_article))
    docs = [i for i in range(len(per_article)) if i % 3][::-1]  # any subset, any order
    assert _same(rows.stack(docs), sp.vstack([per_article[i] for i in docs], format="csr"))
    # the classifiers fitted on the one-pass rows are those fitted on the per-article matrices
    coefs_rows = fit_classifiers(tagger, rows, arts.lengths, arts.docs, context_j, design.window_cols)
    coefs_list = fit_classifiers(tagger, per_article, arts.lengths, arts.docs, context_j, design.window_cols)
    for a, b in zip(coefs_rows, coefs_list):
        assert np.array_equal(a, b)
    assert np.abs(coefs_rows[0]).max() > 0  # something was learned


def test_span_cv_in_worker_processes_gives_the_sequential_figures():
    """Two worker processes beside the final fit, or the folds one after the other afterwards:
    the same model and the same cross-validated span figures."""
    lines = []
    parallel = train(("corpora",), limit=12, span_cv=2, n_jobs=2, progress=lines.append)
    sequential = train(("corpora",), limit=12, span_cv=2, n_jobs=1)
    assert parallel.model_version == sequential.model_version
    assert parallel.metrics_["spans"] == sequential.metrics_["spans"]
    assert any("in 2 worker processes" in line for line in lines)
    assert any("fold 2/2" in line for line in lines)


def test_held_out_scores_read_the_weights_in_place_and_match_the_row_major_products(small_frame, monkeypatch):
    """fit_classifiers lays its weights out so that ``X @ coefs.T`` needs no copy (scipy copies a
    transposed row-major array at every product); each row's score is the same either way."""
    seen = _fit_capturing_the_design(small_frame, monkeypatch)
    arts, design, tagger = seen["arts"], seen["design"], seen["tagger"]
    context_j, _cols, rows = seen["out"]
    coefs, _icpt = fit_classifiers(tagger, rows, arts.lengths, arts.docs, context_j, design.window_cols)
    assert coefs.T.flags.c_contiguous
    row_major = np.ascontiguousarray(coefs)  # what fit_classifiers returned before
    assert not row_major.T.flags.c_contiguous
    for i in range(len(rows)):
        assert np.array_equal(rows[i] @ coefs.T, rows[i] @ row_major.T)
    assert np.abs(rows.X @ coefs.T).max() > 0


def _niceness(_=None):
    return os.nice(0)


def test_fold_workers_run_below_the_training_process_from_a_preloaded_fork_server():
    workers = cv_workers(3, None)
    assert workers == min(3, (os.cpu_count() or 1) + 1) and cv_workers(3, 1) == 0 and cv_workers(0, None) == 0
    with fold_pool(2) as pool:
        assert pool._mp_context.get_start_method() == (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
        seen = list(pool.map(_niceness, range(4)))
    assert set(seen) == {min(19, os.nice(0) + WORKER_NICENESS)}
    with fold_pool(0) as none:
        assert none is None


def test_in_background_hands_back_the_result_or_the_error():
    assert in_background(sum, [1, 2, 3]).result(timeout=30) == 6
    with pytest.raises(ZeroDivisionError):
        in_background(divmod, 1, 0).result(timeout=30)
