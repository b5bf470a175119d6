"""The figures of a training run: document score against target, the team's articles, span counts; as text.

``metrics_`` of a trained model holds ``document`` (every out-of-fold target, what the calibration
is fitted on), ``corpora`` (the same figures on the corpora's articles alone), ``team`` (the team's
articles: counts, weight, and their scores against their ratings, out of fold when the ratings were
targets, held out when they only check the model), ``spans`` (cross-validated span P/R/F1 with the
articles and gold spans behind each row), ``notes`` and ``seconds``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import confusion_matrix, mean_absolute_error

from ..model.calibration import band_of, describe_bands
from ..model.checktext import describe_checks
from ..taxonomy import load_taxonomy

__all__ = ["document_metrics", "team_document", "span_counts", "describe_metrics"]


def _spearman(risk, target):
    if len(target) < 3 or len(np.unique(target)) < 2 or len(np.unique(risk)) < 2:
        return None
    return float(spearmanr(risk, target)[0])


def document_metrics(risk, target) -> dict:
    """Spearman, MAE, band accuracy and confusion, calibration bins of 0-100 scores against 0-100 targets."""
    risk, target = np.asarray(risk, float), np.asarray(target, float)
    choices = list(load_taxonomy().rating_choices)
    bands_pred, bands_true = band_of(risk, choices), band_of(target, choices)
    bins = np.linspace(0, 100, 11)
    which = np.clip(np.digitize(risk, bins) - 1, 0, 9)
    calib = [{"bin": f"{bins[b]:.0f}-{bins[b + 1]:.0f}", "n": int((which == b).sum()),
              "mean_score": float(risk[which == b].mean()), "mean_target": float(target[which == b].mean())}
             for b in range(10) if (which == b).any()]
    return {
        "spearman": _spearman(risk, target),
        "mae": float(mean_absolute_error(target, risk)) if len(target) else None,
        "band_accuracy": float((bands_pred == bands_true).mean()) if len(target) else None,
        "band_labels": choices,
        "band_confusion": confusion_matrix(bands_true, bands_pred, labels=choices).tolist(),
        "calibration": calib,
        "n": int(len(target)),
    }


def team_document(ids, risk, target, how: str) -> dict:
    """The team's articles scored against their ratings (both 0-100): figures and one row per article.

    ``how`` is ``out_of_fold`` (the ratings were targets; each scored by a fit without it) or
    ``held_out`` (the ratings were not trained on; scored by the final model).
    """
    risk, target = np.asarray(risk, float), np.asarray(target, float)
    choices = list(load_taxonomy().rating_choices)
    bands, rated = band_of(risk, choices), band_of(target, choices)
    rows = [{"article_id": a, "risk": float(r), "target": float(t), "band": b, "rating_band": rb}
            for a, r, t, b, rb in zip(ids, risk, target, bands, rated)]
    return {"how": how, "n": int(len(target)), "mae": float(np.abs(risk - target).mean()) if len(target) else None,
            "band_agreement": int((bands == rated).sum()), "spearman": _spearman(risk, target), "rows": rows}


def span_counts(dataset, table: pd.DataFrame, annotates: dict) -> pd.DataFrame:
    """The span table with ``articles`` (annotated for the row's labels) and ``gold_spans`` per row."""
    arts = dataset.articles.drop_duplicates("article_id")
    per_corpus = arts.groupby("corpus")["article_id"].apply(set).to_dict()
    spans = dataset.spans.drop_duplicates(["article_id", "label", "start", "end"])
    n_arts, n_gold = [], []
    for corpus, label in zip(table["corpus"], table["label"]):
        ids = per_corpus.get(corpus, set())
        labels = set(label.split("+"))
        n_arts.append(len(ids) if labels <= set(annotates.get(corpus, ())) else 0)
        n_gold.append(int((spans["article_id"].isin(ids) & spans["label"].isin(labels)).sum()))
    return table.assign(articles=n_arts, gold_spans=n_gold)


def _document_lines(d: dict, what: str) -> list:
    if not d or not d.get("n"):
        return []
    rho = "–" if d.get("spearman") is None else f"{d['spearman']:.3f}"
    return [f"  document score vs target ({what + ', ' if what else ''}out-of-fold, n={d['n']}): Spearman {rho}, "
            f"MAE {d['mae']:.1f} points, band accuracy {d['band_accuracy']:.2f}",
            "  band confusion (rows: target " + "/".join(d["band_labels"]) + "): " + str(d["band_confusion"])]


def _span_lines(rows: list) -> list:
    if not rows:
        return []
    tab = pd.DataFrame(rows)
    tab = tab[tab["metric"].isin(["span", "operating", "sentence"])]
    tab = tab.assign(label=[lab if lab.count("+") < 2 else "all labels" for lab in tab["label"]])
    cols = [c for c in ("corpus", "label", "metric", "precision", "recall", "f1", "articles", "gold_spans") if c in tab]
    text = tab[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}")
    return ["  " + line for line in text.splitlines()]


def _team_lines(team: dict, spans: list) -> list:
    lines = [f"team ({', '.join(team['datasets'])}): {team['articles']:,} articles, {team['annotators']} annotators, "
             f"{team['spans']:,} spans, {team['rated']} rated; each article counts {team['weight']}x in the tagger"]
    doc = team.get("document")
    if doc and doc["n"]:
        how = "out-of-fold" if doc["how"] == "out_of_fold" else "held out: ratings not trained on"
        rho = "" if doc["spearman"] is None else f", Spearman {doc['spearman']:.3f}"
        lines.append(f"  document score vs rating ({how}, n={doc['n']}): band agreement {doc['band_agreement']}/"
                     f"{doc['n']}, MAE {doc['mae']:.1f} points{rho}")
    rows = [r for r in spans if r.get("team")]
    lines += _span_lines(rows) if rows else (["  spans: no cross-validated figures (span_cv=0)"] if not spans else [])
    return lines


def describe_metrics(metrics: dict) -> str:
    """The figures as printable text: the team's apart from the corpora's, each with its counts."""
    lines = []
    team = metrics.get("team")
    if team:
        lines += _team_lines(team, metrics.get("spans", []))
    corpora = metrics.get("corpora") or {}
    per = corpora.get("articles") or {}
    doc, corpus_doc = metrics["document"], corpora.get("document")
    if per or not team:
        lines.append("corpora" + (f" ({', '.join(f'{c} {n:,}' for c, n in per.items())} articles)" if per else ""))
        lines += _document_lines(corpus_doc or doc, "corpus targets" if team else None)
    if team and doc["n"] != (corpus_doc or {}).get("n"):
        lines += _document_lines(doc, "team and corpus targets" if corpus_doc else "team targets")
    if metrics.get("checks"):
        lines.append(describe_checks(metrics["checks"]))
    lines += _span_lines([r for r in metrics.get("spans", []) if not r.get("team")])
    d = metrics["document"]
    lines.append(f"({metrics['seconds']:.0f} s; bands: {describe_bands(d['band_labels'])})")
    return "\n".join(lines)
