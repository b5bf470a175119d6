"""The training report of a framing model: data, span and document metrics, terms, agreement, worst errors."""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np

from ..agreement import agreement, agreement_to_json
from ..corpora import LOADERS
from ..errors import AnnotatorError
from ..model import load_model
from ..training import load_training_data
from .plots import training_plots
from .render import render

__all__ = ["training_report"]


def _top_terms(model, k):
    tagger = model.tagger_
    words = tagger.vocabulary_.split("\n") if tagger.vocabulary_ else []
    w = int(tagger.window)
    out = {}
    for j, lab in enumerate(tagger.labels_):
        weights = np.asarray(tagger.tables_[j, w, :len(words)], dtype=float)
        top = np.argsort(-weights)[:k]
        out[lab] = [{"term": words[i], "weight": float(weights[i])} for i in top]
    return out


def _doc_features(model, k):
    coef = np.asarray(model.ridge_.coef_, dtype=float).ravel()
    tagger = model.tagger_
    words = tagger.vocabulary_.split("\n") if tagger.vocabulary_ else []
    n_vocab = tagger.tables_.shape[2]
    names = list(getattr(model, "feature_names_", []))
    n_dense = len(names)
    n_hashed = len(coef) - n_vocab - n_dense
    n_bigram = min(n_hashed, 1 << int(getattr(model, "bigram_bits", 0))) if hasattr(model, "bigram_bits") else n_hashed

    def name(c):
        if c < n_vocab:
            return ("word", words[c] if c < len(words) else "<padding/unknown>")
        if c < n_vocab + n_bigram:
            return ("bigram", f"hashed bucket {c - n_vocab}")
        if c < n_vocab + n_hashed:
            return ("char n-gram", f"hashed bucket {c - n_vocab - n_bigram}")
        return ("cue", names[c - n_vocab - n_hashed])

    order = np.argsort(-np.abs(coef))
    top = {"up": [], "down": []}
    for c in order:
        if len(top["up"]) >= k and len(top["down"]) >= k:
            break
        kind, nm = name(int(c))
        side = "up" if coef[c] > 0 else "down"
        if len(top[side]) < k and coef[c] != 0:
            top[side].append({"feature": nm, "kind": kind, "coefficient": float(coef[c])})
    cues = [{"feature": names[i], "coefficient": float(coef[n_vocab + n_hashed + i])} for i in range(n_dense)]
    return top, cues, n_hashed


def _agreement(dataset, summary):
    if dataset is None:
        targets = (summary or {}).get("document_targets", {})
        return None, ("No Label Studio data was given, so annotator agreement is not shown. The model's document "
                      f"targets came from: {', '.join(f'{k} ({v})' for k, v in targets.items()) or 'unknown'}. "
                      "Pass the dataset folder written by `annotator pull` (--dataset) to include it.")
    res = agreement(dataset)
    js = agreement_to_json(res)
    if not js["annotators"] or len(js["annotators"]) < 2:
        return js, "Fewer than two annotators in this dataset: no agreement to measure."
    return js, None


def _training_texts(data: dict, ids) -> dict:
    """Texts of the given training articles, from the shared corpora named in the data summary."""
    names = [c for c in (data.get("articles_per_corpus") or {}) if c in LOADERS]
    if not names:
        return {}
    try:
        arts = load_training_data(names).articles
    except AnnotatorError:
        return {}
    wanted = set(ids)
    return {a: t for a, t in zip(arts["article_id"], arts["text"]) if a in wanted}


def _worst_errors(model, oof, data, worst) -> list:
    """The ``worst`` out-of-fold errors, furthest first, with the model's strongest cues when the text is here."""
    rows = []
    if oof is None or not len(oof.get("risk", [])):
        return rows
    risk, target = np.asarray(oof["risk"], float), np.asarray(oof["target"], float)
    err = risk - target
    order = np.argsort(-np.abs(err))[:worst]
    ids = oof.get("article_id")
    texts = _training_texts(data, [ids[i] for i in order]) if ids is not None else {}
    for i in order:
        row = {"index": int(i), "risk": float(risk[i]), "target": float(target[i]), "error": float(err[i]),
               "article_id": ids[i] if ids is not None else None, "cues": ""}
        text = texts.get(row["article_id"])
        if text is not None and hasattr(model, "tagger_"):
            strongest = sorted(model.tagger_.analyze(text)["spans"], key=lambda sp_: -sp_["score"])[:4]
            row["cues"] = "; ".join(f"{sp_['label']}: {sp_['text'][:60]}" for sp_ in strongest)
        rows.append(row)
    return rows


def training_report(model, output, *, dataset=None, top_terms=15, top_features=15, worst=20) -> dict:
    """Write the training report of a framing model to ``output`` (HTML) and ``report.json`` beside it.

    Parameters
    ----------
    model : FramingModel or path to a ``.skops`` file
    output : path of the HTML file (replaced atomically)
    dataset : a :class:`~annotator.dataset.Dataset` or folder from ``annotator pull``, optional
        Label Studio annotations for the annotator-agreement section.
    top_terms, top_features, worst : int
        Rows in the influential-terms, document-features and worst-errors tables.

    Returns
    -------
    dict
        The summary written as JSON.
    """
    path = None
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        model = load_model(path)
    metrics = getattr(model, "metrics_", None) or {}
    d = metrics.get("document", {})
    spans = metrics.get("spans", [])
    oof = getattr(model, "oof_", None)
    data = getattr(model, "data_summary_", {}) or {}
    top_terms_ = _top_terms(model, top_terms)
    top, cues, n_hashed = _doc_features(model, top_features)
    agree, agree_note = _agreement(dataset, data)
    worst_rows = _worst_errors(model, oof, data, worst)
    confusion = d.get("band_confusion") or []
    cmax = max([max(r) for r in confusion if r] or [1]) or 1
    summary = {
        "kind": "training",
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": str(path) if path else None,
        "model_version": getattr(model, "model_version", None),
        "label_config_hash": getattr(model, "label_config_hash", None),
        "versions": getattr(model, "versions_", {}),
        "data": data,
        "document": d,
        "spans": spans,
        "top_terms": top_terms_,
        "document_features": {"top": top, "cues": cues, "hashed_columns": n_hashed},
        "agreement": agree,
        "agreement_note": agree_note,
        "worst_errors": worst_rows,
        "worst_errors_note": ("Out-of-fold score against the target (both 0-100), furthest first; cues are the "
                              "model's strongest spans in the article, when its corpus can be read here."),
    }
    curves = getattr(getattr(model, "tagger_", None), "fit_report_", None)
    plots = training_plots(d, spans, oof, curves)
    return render("training.html.j2", output, summary, plots=plots, cmax=cmax,
                  span_table=[r for r in spans], title=f"Training report: {summary['model_version']}")
