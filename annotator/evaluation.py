"""Evaluating the cue tagger: grouped cross-validation on datasets and on the shared corpora.

Span scores (:mod:`annotator.spans`) follow SemEval-2020 Task 11 span identification: a
predicted span earns credit for the share of its characters that overlap gold spans
(precision), a gold span for the share of its characters that predicted spans cover (recall).
Overlapping spans of one label are merged first. Rules are measured by
:func:`annotator.cues.measure.measure_rules` (re-exported here for the CLI's ``annotator rules``).
"""
from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from .corpora import PUBLIC_CORPORA, load_corpora
from .corpus_mapping import corpus_mapping
from .cues.tagger.estimator import CueTagger
from .spans import exact_prf, sentence_prf, span_prf

__all__ = ["cross_validate_tagger", "start_cross_validation", "PendingCV", "CVInputs", "FoldRun", "cv_inputs", "run_fold",
           "evaluate_cues"]


class CVInputs(NamedTuple):
    """What a grouped cross-validation of the tagger works on: per article its text, gold
    ``(label, start, end)`` spans, the labels it is annotated for and its corpus; ``folds``
    the (train, test) article indices of each fold."""

    texts: list
    y: list
    annotated: list
    corpora: list
    folds: list


class FoldRun(NamedTuple):
    """One fold's held-out predictions (span dicts per test article) and the wall-clock and CPU
    seconds of its tagger fit and of tagging its test articles (in the process that ran it)."""

    test: list
    predictions: list
    fit_seconds: float
    fit_cpu: float
    tag_seconds: float
    tag_cpu: float


def cv_inputs(dataset, annotates: dict, n_splits=5) -> CVInputs:
    """The articles of ``dataset`` and their :class:`~sklearn.model_selection.GroupKFold` folds
    (grouped by article id: copies of an article stay in one fold)."""
    arts = dataset.articles.reset_index(drop=True)
    texts = arts["text"].tolist()
    corpora = arts["corpus"].tolist()
    spans_all = {aid: [] for aid in arts["article_id"]}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"], dataset.spans["end"]):
        spans_all.setdefault(aid, []).append((lab, int(s), int(e)))
    y = [spans_all[a] for a in arts["article_id"]]
    ann = [annotates.get(c, ()) for c in corpora]
    folds = [(tr.tolist(), te.tolist())
             for tr, te in GroupKFold(n_splits=n_splits).split(texts, groups=arts["article_id"])]
    return CVInputs(texts, y, ann, corpora, folds)


def run_fold(tagger, texts, y, annotated, test_texts) -> FoldRun:
    """Fit ``tagger`` (an unfitted :class:`CueTagger`) on one fold's training articles and tag its
    test articles; deterministic, so a worker process gives what this process would."""
    w0, c0 = time.perf_counter(), time.process_time()
    tagger.fit(texts, y, annotated=annotated)
    w1, c1 = time.perf_counter(), time.process_time()
    preds = tagger.predict_spans(test_texts)
    w2, c2 = time.perf_counter(), time.process_time()
    return FoldRun([], preds, w1 - w0, c1 - c0, w2 - w1, c2 - c1)


def _fold_args(inputs: CVInputs, k: int):
    tr, te = inputs.folds[k]
    return ([inputs.texts[i] for i in tr], [inputs.y[i] for i in tr], [inputs.annotated[i] for i in tr],
            [inputs.texts[i] for i in te])


class PendingCV:
    """A cross-validation whose folds run in worker processes (:func:`start_cross_validation`);
    :meth:`result` waits for them and scores the pooled predictions."""

    def __init__(self, inputs: CVInputs, futures: list, tagger=None):
        self.inputs, self.futures, self.tagger = inputs, futures, tagger

    def result(self, progress=None) -> pd.DataFrame:
        """The scores (as :func:`cross_validate_tagger`'s); a fold whose worker process was lost
        (killed, out of memory) is fitted here instead."""
        runs = []
        for k, future in enumerate(self.futures, 1):
            n_train = len(self.inputs.folds[k - 1][0])
            try:
                run = future.result()
                where = "in a worker process"
            except BrokenProcessPool:
                if progress:
                    progress(f"fold {k}/{len(self.futures)}: its worker process was lost; training here")
                run = run_fold(clone(self.tagger), *_fold_args(self.inputs, k - 1))
                where = "here"
            if progress:
                progress(f"fold {k}/{len(self.futures)}: trained on {n_train} articles "
                         f"({run.fit_seconds + run.tag_seconds:.0f} s {where})")
            runs.append(run._replace(test=self.inputs.folds[k - 1][1]))
        return _scored(self.inputs, runs)


def start_cross_validation(dataset, tagger, annotates: dict, n_splits, executor) -> PendingCV:
    """Submit the folds of :func:`cross_validate_tagger` to ``executor`` (e.g. a
    :class:`~concurrent.futures.ProcessPoolExecutor`) and return at once; ``tagger``: an unfitted
    :class:`CueTagger` (each fold fits a clone). The result is that of :func:`cross_validate_tagger`."""
    inputs = cv_inputs(dataset, annotates, n_splits)
    futures = [executor.submit(run_fold, clone(tagger), *_fold_args(inputs, k)) for k in range(len(inputs.folds))]
    return PendingCV(inputs, futures, clone(tagger))


def cross_validate_tagger(dataset, make_tagger, annotates: dict, n_splits=5, progress=None) -> pd.DataFrame:
    """Grouped K-fold cross-validation of a cue tagger on a dataset, one fold after the other.

    Parameters
    ----------
    dataset : annotator.dataset.Dataset
    make_tagger : callable returning an unfitted CueTagger
    annotates : dict corpus → labels it annotates (a label is scored on those corpora only)
    n_splits : int
    progress : callable(str) or None

    Returns
    -------
    DataFrame with one row per (corpus, label, metric): precision, recall, f1, mean over folds
    and the pooled predictions' scores; ``attrs``: ``predictions``, ``gold`` and ``folds`` (the
    :class:`FoldRun` of each fold, with its seconds).
    """
    inputs = cv_inputs(dataset, annotates, n_splits)
    runs = []
    for k, (tr, te) in enumerate(inputs.folds, 1):
        if progress:
            progress(f"fold {k}/{n_splits}: training on {len(tr)} articles")
        runs.append(run_fold(make_tagger(), *_fold_args(inputs, k - 1))._replace(test=te))
    return _scored(inputs, runs)


def _scored(inputs: CVInputs, runs: list) -> pd.DataFrame:
    """The per (corpus, label, metric) scores of the folds' pooled held-out predictions."""
    texts, y, corpora = inputs.texts, inputs.y, inputs.corpora
    preds = [None] * len(texts)
    for run in runs:
        for i, p in zip(run.test, run.predictions):
            preds[i] = p
    annotates = {c: a for c, a in zip(corpora, inputs.annotated)}
    rows = []
    for corpus in sorted(set(corpora)):
        idx = [i for i, c in enumerate(corpora) if c == corpus]
        labels = list(annotates.get(corpus, ()))
        groups = [(lab, {lab}) for lab in labels]
        if len(labels) > 1:
            groups.append(("+".join(labels), set(labels)))
        for name, labs in groups:
            gold = [[(s, e) for l_, s, e in y[i] if l_ in labs] for i in idx]
            pred = [[(d["start"], d["end"]) for d in preds[i] if d["label"] in labs] for i in idx]
            for metric, res in (("span", span_prf(gold, pred)), ("exact", exact_prf(gold, pred)),
                                ("sentence", sentence_prf([texts[i] for i in idx], gold, pred))):
                rows.append({"corpus": corpus, "label": name, "metric": metric,
                             **{k: res.get(k) for k in ("precision", "recall", "f1")}})
    out = pd.DataFrame(rows)
    out.attrs["predictions"] = preds
    out.attrs["gold"] = y
    out.attrs["folds"] = [run._replace(predictions=None) for run in runs]
    return out


def evaluate_cues(corpora=PUBLIC_CORPORA, n_splits=5, data_dir=None, limit=None, progress=None,
                  **tagger_params) -> pd.DataFrame:
    """Cross-validated cue-tagger figures on the shared corpora (grouped by article).

    ``span`` rows use SemEval-2020 Task 11 partial-overlap credit, ``exact`` rows exact
    span match, ``sentence`` rows line-level detection (Szeged: one sentence per line).
    """
    dataset = load_corpora(corpora, data_dir=data_dir, limit=limit)
    mapping = corpus_mapping()
    annotates = {c: mapping[c]["annotates"] for c in corpora}
    return cross_validate_tagger(dataset, lambda: CueTagger(**tagger_params), annotates, n_splits, progress)
