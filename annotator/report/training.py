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
from ..model.naming import EDGE_MARK, FeatureLayout, name_columns
from ..training.sources import load_training_data
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


#: The document model's feature kinds, in the order of its columns, as the report titles them.
_KINDS = (("word", "words (TF-IDF)"), ("bigram", "word bigrams (TF-IDF)"))


def _doc_features(model, k):
    """Per kind of document feature (words, bigrams), the ``k`` largest coefficients
    each way, named by what they are (bigrams the model did not record are left out and counted), and
    every cue feature. Coefficients are compared within a kind only: the kinds are scaled differently."""
    coef = np.asarray(model.ridge_.coef_, dtype=float).ravel()
    layout = FeatureLayout.of(model)
    lo, tables, unnamed = 0, [], 0
    for (kind, title), size in zip(_KINDS, (layout.n_vocab, layout.n_bigram)):
        if not size:
            continue
        block = coef[lo:lo + size]
        order = np.argsort(-np.abs(block), kind="stable")
        order = order[block[order] != 0]
        sides = {"up": order[block[order] > 0][:4 * k], "down": order[block[order] < 0][:4 * k]}
        table = {"kind": kind, "title": title, "up": [], "down": []}
        for side, picked in sides.items():
            for (_, name), c in zip(name_columns(model, lo + picked), picked.tolist()):
                if name is None:
                    unnamed += 1
                    continue
                table[side].append({"feature": name, "coefficient": float(block[c])})
                if len(table[side]) >= k:
                    break
        tables.append(table)
        lo += size
    cues = [{"feature": name, "coefficient": float(coef[lo + i])}
            for i, (_, name) in enumerate(name_columns(model, range(lo, len(coef))))]
    return tables, cues, unnamed


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
    kinds, cues, unnamed = _doc_features(model, top_features)
    agree, agree_note = _agreement(dataset, data)
    worst_rows = _worst_errors(model, oof, data, worst)
    team_ids = {r["article_id"] for r in ((metrics.get("team") or {}).get("document") or {}).get("rows", [])}
    for row in worst_rows:
        row["team"] = row["article_id"] in team_ids
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
        "corpora": metrics.get("corpora"),
        "team": metrics.get("team"),
        "notes": metrics.get("notes", []),
        "spans": spans,
        "operating_point": getattr(getattr(model, "tagger_", None), "operating_point_", None) or {},
        "identity_share": metrics.get("identity_share"),
        "top_terms": top_terms_,
        "document_features": {"kinds": kinds, "cues": cues, "unnamed_bigrams": unnamed, "edge_mark": EDGE_MARK},
        "agreement": agree,
        "agreement_note": agree_note,
        "worst_errors": worst_rows,
        "worst_errors_note": ("Out-of-fold score against the target (both 0-100), furthest first; cues are the "
                              "model's strongest spans in the article, when its corpus can be read here."),
    }
    curves = getattr(getattr(model, "tagger_", None), "fit_report_", None)
    plots = training_plots(d, spans, oof, curves, team=(metrics.get("team") or {}).get("document"))
    return render("training.html.j2", output, summary, plots=plots, cmax=cmax,
                  span_table=[r for r in spans], title=f"Training report: {summary['model_version']}")
