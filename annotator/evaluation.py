"""Evaluating the cue tagger: grouped cross-validation on datasets and on the shared corpora.

Span scores (:mod:`annotator.spans`) follow SemEval-2020 Task 11 span identification: a
predicted span earns credit for the share of its characters that overlap gold spans
(precision), a gold span for the share of its characters that predicted spans cover (recall).
Overlapping spans of one label are merged first. Rules are measured by
:func:`annotator.cues.measure.measure_rules` (re-exported here for the CLI's ``annotator rules``).
"""
from __future__ import annotations

import pandas as pd
from sklearn.model_selection import GroupKFold

from .corpora import PUBLIC_CORPORA, load_corpora
from .corpus_mapping import corpus_mapping
from .cues.tagger.estimator import CueTagger
from .spans import exact_prf, sentence_prf, span_prf
from .voice_evaluation import measure_voice

__all__ = ["cross_validate_tagger", "evaluate_cues", "evaluate_voice"]


def cross_validate_tagger(dataset, make_tagger, annotates: dict, n_splits=5, progress=None) -> pd.DataFrame:
    """Grouped K-fold cross-validation of a cue tagger on a dataset.

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
    and the pooled predictions' scores.
    """
    arts = dataset.articles.reset_index(drop=True)
    texts = arts["text"].tolist()
    corpora = arts["corpus"].tolist()
    spans_all = {aid: [] for aid in arts["article_id"]}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"], dataset.spans["end"]):
        spans_all.setdefault(aid, []).append((lab, int(s), int(e)))
    y = [spans_all[a] for a in arts["article_id"]]
    ann = [annotates.get(c, ()) for c in corpora]
    preds = [None] * len(texts)
    folds = GroupKFold(n_splits=n_splits).split(texts, groups=arts["article_id"])
    for k, (tr, te) in enumerate(folds, 1):
        if progress:
            progress(f"fold {k}/{n_splits}: training on {len(tr)} articles")
        tagger = make_tagger().fit([texts[i] for i in tr], [y[i] for i in tr], annotated=[ann[i] for i in tr])
        for i, p in zip(te, tagger.predict_spans([texts[i] for i in te])):
            preds[i] = p
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


def evaluate_voice(data_dir=None, limit=None, progress=None) -> pd.DataFrame:
    """Quoted and reported speech (:func:`annotator.cues.voice.find_quotes`) against PolNeAR's
    attributions, per rule variant, on all articles, on two halves and per publisher
    (:func:`annotator.voice_evaluation.measure_voice`). Rules, not a fitted model: no folds."""
    return measure_voice(data_dir=data_dir, limit=limit, progress=progress)
