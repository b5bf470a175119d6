"""Evaluating the cue tagger: grouped cross-validation on datasets and on the shared corpora.

Span scores (:mod:`annotator.spans`) follow SemEval-2020 Task 11 span identification: a
predicted span earns credit for the share of its characters that overlap gold spans
(precision), a gold span for the share of its characters that predicted spans cover (recall).
Overlapping spans of one label are merged first. Rules are measured by
:func:`annotator.cues.measure.measure_rules` (re-exported here for the CLI's ``annotator rules``).

Besides every candidate span (``span`` rows), each fold's tagger is scored at its own operating
point (``operating`` rows: the spans ``tag`` emits by default), and the share of identity words
that end up inside loaded-term spans is measured on neutral text (:func:`identity_share`).
"""
from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from .corpora import PUBLIC_CORPORA, load_corpora
from .corpus_mapping import corpus_mapping
from .cues.operating import TARGET_PRECISION, apply_cutoffs, span_cutoffs
from .cues.tagger.estimator import CueTagger
from .cues.vetting import Vetting, identity_occurrences, live_vetting
from .errors import AnnotatorError
from .neutral_text import objective_sentences, polnear_narrator_regions
from .spans import exact_prf, sentence_prf, span_prf
from .voice_evaluation import measure_voice

__all__ = ["cross_validate_tagger", "start_cross_validation", "PendingCV", "CVInputs", "FoldRun", "cv_inputs", "run_fold",
           "evaluate_cues", "identity_share", "describe_operating_point", "NEUTRAL_SETS", "IDENTITY_SHARE_TARGET",
           "evaluate_voice"]

#: The share of identity-word occurrences inside loaded-term spans on neutral text aimed for.
IDENTITY_SHARE_TARGET = 0.02

#: The neutral text of the identity-word share, as ``evaluate`` names it.
NEUTRAL_SETS = ("PolNeAR narrator sentences (out of fold)", "CheckThat! 2025 objective sentences")


def identity_share(texts, spans, regions=None, vetting=None) -> dict:
    """How many identity-word occurrences lie inside loaded-term spans.

    Parameters
    ----------
    texts : list of str
    spans : list of list of span dicts
        The spans emitted for each text.
    regions : list of list of (start, end), optional
        The parts of each text to count in (e.g. narrator sentences); None: whole texts.
    vetting : Vetting, optional
        The identity words and the loaded-term label (default: the live label config's).

    Returns
    -------
    dict
        ``occurrences``, ``in_loaded_terms``, ``share`` (None when there is no occurrence) and
        ``examples`` (up to five loaded-term span texts holding one).
    """
    v = vetting or Vetting.from_builtins(live_vetting())
    total = inside = 0
    examples: list = []
    for i, (text, ss) in enumerate(zip(texts, spans)):
        loaded = [(d["start"], d["end"], d["text"]) for d in ss if d["label"] == v.identity_label]
        for s, e in identity_occurrences(text, v):
            if regions is not None and not any(a <= s and e <= b for a, b in regions[i]):
                continue
            total += 1
            hit = next((t for a, b, t in loaded if a < e and b > s), None)
            if hit is not None:
                inside += 1
                if len(examples) < 5 and hit not in examples:
                    examples.append(hit)
    return {"occurrences": total, "in_loaded_terms": inside,
            "share": round(inside / total, 4) if total else None, "examples": examples}


def _polnear_root(meta):
    """The PolNeAR folder a (concatenated) dataset was read from, or None."""
    if isinstance(meta, dict):
        if meta.get("corpus") == "polnear" and meta.get("path"):
            return Path(meta["path"])
        return next((r for r in map(_polnear_root, meta.get("parts", [])) if r is not None), None)
    return None


def _narrator_share(dataset, arts, preds) -> dict | None:
    """:func:`identity_share` on the narrator sentences of the dataset's PolNeAR articles (out of fold)."""
    root = _polnear_root(getattr(dataset, "meta", None))
    if root is None:
        return None
    try:
        regions = polnear_narrator_regions(root.parent.parent)
    except AnnotatorError:
        return None
    idx = [i for i, a in enumerate(arts["article_id"]) if a in regions]
    return identity_share([arts["text"][i] for i in idx], [preds[i] for i in idx],
                          [regions[arts["article_id"][i]] for i in idx])


class CVInputs(NamedTuple):
    """What a grouped cross-validation of the tagger works on: per article its text, gold
    ``(label, start, end)`` spans, the labels it is annotated for and its corpus; ``folds``
    the (train, test) article indices of each fold."""

    texts: list
    y: list
    annotated: list
    corpora: list
    folds: list
    neutral: list = []


class FoldRun(NamedTuple):
    """One fold's held-out predictions (span dicts per test article) and the wall-clock and CPU
    seconds of its tagger fit and of tagging its test articles (in the process that ran it)."""

    test: list
    predictions: list
    operating: list
    neutral: list
    point: dict
    fit_seconds: float
    fit_cpu: float
    tag_seconds: float
    tag_cpu: float


def cv_inputs(dataset, annotates: dict, n_splits=5, neutral_texts=()) -> CVInputs:
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
    return CVInputs(texts, y, ann, corpora, folds, list(neutral_texts))


def run_fold(tagger, texts, y, annotated, test_texts, neutral_texts=()) -> FoldRun:
    """Fit ``tagger`` (an unfitted :class:`CueTagger`) on one fold's training articles and tag its
    test articles (every candidate, and at the fitted tagger's operating point) and the neutral
    texts (operating point); deterministic, so a worker process gives what this process would."""
    w0, c0 = time.perf_counter(), time.process_time()
    tagger.fit(texts, y, annotated=annotated)
    w1, c1 = time.perf_counter(), time.process_time()
    preds = tagger.predict_spans(test_texts)
    cut = span_cutoffs(tagger)
    operating = [apply_cutoffs(p, cut) for p in preds]
    neutral = [apply_cutoffs(p, cut) for p in tagger.predict_spans(list(neutral_texts))] if len(neutral_texts) else []
    w2, c2 = time.perf_counter(), time.process_time()
    return FoldRun([], preds, operating, neutral, dict(getattr(tagger, "operating_point_", {})),
                   w1 - w0, c1 - c0, w2 - w1, c2 - c1)


def _fold_args(inputs: CVInputs, k: int):
    tr, te = inputs.folds[k]
    return ([inputs.texts[i] for i in tr], [inputs.y[i] for i in tr], [inputs.annotated[i] for i in tr],
            [inputs.texts[i] for i in te], inputs.neutral)


class PendingCV:
    """A cross-validation whose folds run in worker processes (:func:`start_cross_validation`);
    :meth:`result` waits for them and scores the pooled predictions."""

    def __init__(self, inputs: CVInputs, futures: list, tagger=None, dataset=None):
        self.inputs, self.futures, self.tagger, self.dataset = inputs, futures, tagger, dataset

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
        return _scored(self.inputs, runs, self.dataset)


def start_cross_validation(dataset, tagger, annotates: dict, n_splits, executor, neutral_texts=()) -> PendingCV:
    """Submit the folds of :func:`cross_validate_tagger` to ``executor`` (e.g. a
    :class:`~concurrent.futures.ProcessPoolExecutor`) and return at once; ``tagger``: an unfitted
    :class:`CueTagger` (each fold fits a clone). The result is that of :func:`cross_validate_tagger`."""
    inputs = cv_inputs(dataset, annotates, n_splits, neutral_texts)
    futures = [executor.submit(run_fold, clone(tagger), *_fold_args(inputs, k)) for k in range(len(inputs.folds))]
    return PendingCV(inputs, futures, clone(tagger), dataset)


def cross_validate_tagger(dataset, make_tagger, annotates: dict, n_splits=5, progress=None,
                          neutral_texts=()) -> pd.DataFrame:
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
    inputs = cv_inputs(dataset, annotates, n_splits, neutral_texts)
    runs = []
    for k, (tr, te) in enumerate(inputs.folds, 1):
        if progress:
            progress(f"fold {k}/{n_splits}: training on {len(tr)} articles")
        runs.append(run_fold(make_tagger(), *_fold_args(inputs, k - 1))._replace(test=te))
    return _scored(inputs, runs, dataset)


def _scored(inputs: CVInputs, runs: list, dataset=None) -> pd.DataFrame:
    """The per (corpus, label, metric) scores of the folds' pooled held-out predictions."""
    texts, y, corpora = inputs.texts, inputs.y, inputs.corpora
    preds, op_preds = [None] * len(texts), [None] * len(texts)
    for run in runs:
        for i, p, o in zip(run.test, run.predictions, run.operating):
            preds[i], op_preds[i] = p, o
    annotates = {c: a for c, a in zip(corpora, inputs.annotated)}
    out = pd.DataFrame(_rows(texts, corpora, y, preds, op_preds, annotates))
    share = _narrator_share(dataset, dataset.articles.reset_index(drop=True), op_preds) if dataset is not None else None
    out.attrs.update(predictions=preds, operating_predictions=op_preds, gold=y,
                     neutral_predictions=[run.neutral for run in runs], operating_points=[run.point for run in runs],
                     identity_share=share,
                     folds=[run._replace(predictions=None, operating=None, neutral=None) for run in runs])
    return out


def _rows(texts, corpora, y, preds, op_preds, annotates) -> list:
    """The table rows of :func:`cross_validate_tagger`."""
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
            op = [[(d["start"], d["end"]) for d in op_preds[i] if d["label"] in labs] for i in idx]
            for metric, res in (("span", span_prf(gold, pred)), ("operating", span_prf(gold, op)),
                                ("exact", exact_prf(gold, pred)),
                                ("sentence", sentence_prf([texts[i] for i in idx], gold, pred))):
                rows.append({"corpus": corpus, "label": name, "metric": metric,
                             **{k: res.get(k) for k in ("precision", "recall", "f1")}})
    return rows


def evaluate_cues(corpora=PUBLIC_CORPORA, n_splits=5, data_dir=None, limit=None, progress=None,
                  **tagger_params) -> pd.DataFrame:
    """Cross-validated cue-tagger figures on the shared corpora (grouped by article).

    ``span`` rows use SemEval-2020 Task 11 partial-overlap credit, ``operating`` rows the same
    credit for the spans at each fold's operating point, ``exact`` rows exact span match,
    ``sentence`` rows line-level detection (Szeged: one sentence per line).
    ``attrs["identity_share"]``: :func:`identity_share` on each of :data:`NEUTRAL_SETS` (the
    CheckThat! sentences, measuring only, are tagged by every fold's tagger; skipped when absent).
    """
    dataset = load_corpora(corpora, data_dir=data_dir, limit=limit)
    mapping = corpus_mapping()
    annotates = {c: mapping[c]["annotates"] for c in corpora}
    try:
        objective = objective_sentences(data_dir) if n_splits else []
    except AnnotatorError:
        objective = []
    out = cross_validate_tagger(dataset, lambda: CueTagger(**tagger_params), annotates, n_splits, progress,
                                neutral_texts=objective)
    shares = {NEUTRAL_SETS[0]: out.attrs["identity_share"]}
    if objective:
        pooled = [identity_share(objective, fold) for fold in out.attrs["neutral_predictions"]]
        total = sum(p["occurrences"] for p in pooled)
        inside = sum(p["in_loaded_terms"] for p in pooled)
        shares[NEUTRAL_SETS[1]] = {"occurrences": total // len(pooled), "in_loaded_terms": round(inside / len(pooled), 1),
                                   "share": round(inside / total, 4) if total else None, "folds": len(pooled),
                                   "examples": sorted({x for p in pooled for x in p["examples"]})[:5]}
    out.attrs["identity_share"] = shares
    return out


def describe_operating_point(table: pd.DataFrame) -> str:
    """The ``operating`` rows of a :func:`cross_validate_tagger` table beside the candidates' figures,
    and its identity-word shares, as text."""
    lines = [f"operating point (the spans tag/score/push emit by default; thresholds for held-out precision "
             f">= {TARGET_PRECISION}, chosen by each fold's tagger), out of fold:"]
    span = table[table["metric"] == "span"].set_index(["corpus", "label"])
    for r in table[table["metric"] == "operating"].itertuples():
        c = span.loc[(r.corpus, r.label)] if (r.corpus, r.label) in span.index else None
        every = f" (every candidate: P {c['precision']:.3f} R {c['recall']:.3f})" if c is not None else ""
        lines.append(f"  {r.corpus} {r.label}: P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}{every}")
    shares = table.attrs.get("identity_share") or {}
    if isinstance(shares, dict) and "share" in shares:
        shares = {NEUTRAL_SETS[0]: shares}
    lines.append(f"identity words inside loaded-term spans on neutral text (target <= {IDENTITY_SHARE_TARGET:.0%}):")
    for name, res in shares.items():
        if not res or res.get("share") is None:
            lines.append(f"  {name}: not measured")
            continue
        eg = "; e.g. " + ", ".join(f'"{x}"' for x in res["examples"][:3]) if res.get("examples") else ""
        lines.append(f"  {name}: {res['share']:.2%} ({res['in_loaded_terms']} of {res['occurrences']} occurrences){eg}")
    return "\n".join(lines)


def evaluate_voice(data_dir=None, limit=None, progress=None) -> pd.DataFrame:
    """Quoted and reported speech (:func:`annotator.cues.voice.find_quotes`) against PolNeAR's
    attributions, per rule variant, on all articles, on two halves and per publisher
    (:func:`annotator.voice_evaluation.measure_voice`). Rules, not a fitted model: no folds."""
    return measure_voice(data_dir=data_dir, limit=limit, progress=progress)
