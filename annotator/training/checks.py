"""The document score checked where it must hold: held-out sites and sources, length, other genres, subjectivity.

* **grouped figures** (from a fit's out-of-fold scores, whole sites or articles held out):
  Spearman with PTC propaganda density, ROC AUC on hyperpartisan vs not, Spearman of the score
  with article length (tokens); and, because the hyperpartisan label goes with length, that AUC
  within each third of the articles by length, beside the AUC of length alone;
* **distributions**: mean score and share per band on PolNeAR's mainstream outlets (New York
  Times, Washington Post, USA Today, Politico) and on the Szeged Wikipedia documents;
* **subjectivity** (``annotator evaluate`` only): sentence-level ROC AUC of the score and of the
  highest ``loaded_term`` span score on the CheckThat! 2025 subjectivity sentences. That set's
  licence allows measuring only: nothing from it is trained on or stored in a model.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from ..corpora import load_polnear, load_szeged
from ..errors import AnnotatorError
from ..model.calibration import band_of
from ..model.features import label_roles
from ..paths import DATA_DIR
from ..taxonomy import load_taxonomy

__all__ = ["MAINSTREAM", "grouped_figures", "length_strata", "distribution", "genre_checks", "load_genres", "subjectivity_check",
           "document_checks"]

#: PolNeAR publishers counted as mainstream news.
MAINSTREAM = ("nyt", "wash-post", "usa-today", "politico")
#: Document-target sources of a training frame (``target_source``).
PTC_SOURCE, HYPERPARTISAN_SOURCE = "ptc_density_percentile", "hyperpartisan_label"


def _rho(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or len(np.unique(a)) < 2 or len(np.unique(b)) < 2:
        return None
    return float(spearmanr(a, b)[0])


def _auc(labels, scores):
    labels = np.asarray(labels, int)
    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else None


def grouped_figures(oof: dict) -> dict:
    """From a fit's ``oof_``: PTC Spearman, hyperpartisan AUC and Spearman(score, tokens), each with its n."""
    risk, target = np.asarray(oof["risk"], float), np.asarray(oof["target"], float)
    source = np.asarray(oof.get("source", [""] * len(risk)))
    tokens = np.asarray(oof.get("tokens", [np.nan] * len(risk)), float)
    ptc, hyp = source == PTC_SOURCE, source == HYPERPARTISAN_SOURCE
    known = bool(np.isfinite(tokens).all())
    return {"ptc_spearman": _rho(risk[ptc], target[ptc]), "ptc_n": int(ptc.sum()),
            "hyperpartisan_auc": _auc(target[hyp] > 50, risk[hyp]), "hyperpartisan_n": int(hyp.sum()),
            "length_spearman": _rho(risk, tokens) if known else None, "n": int(len(risk)),
            "hyperpartisan_length_auc": _auc(target[hyp] > 50, tokens[hyp]) if known else None,
            "hyperpartisan_by_length": length_strata(target[hyp] > 50, risk[hyp], tokens[hyp]) if known else None}


def length_strata(labels, scores, tokens, n_strata=3) -> list:
    """ROC AUC of ``scores`` for ``labels`` within each of ``n_strata`` equal-count length strata (by
    ``tokens``): how well the score separates articles of about the same length. Each stratum is a
    dict ``tokens`` (its [min, max]), ``n``, ``positives`` and ``auc`` (None with one class)."""
    labels, scores, tokens = np.asarray(labels, int), np.asarray(scores, float), np.asarray(tokens, float)
    order = np.argsort(tokens, kind="stable")
    out = []
    for part in np.array_split(order, n_strata):
        if len(part):
            out.append({"tokens": [int(tokens[part].min()), int(tokens[part].max())], "n": int(len(part)),
                        "positives": int(labels[part].sum()), "auc": _auc(labels[part], scores[part])})
    return out


def distribution(risk) -> dict:
    """Mean score and share of each band."""
    risk = np.asarray(risk, float)
    risk = risk[np.isfinite(risk)]
    bands = band_of(risk)
    return {"n": int(len(risk)), "mean": float(risk.mean()) if len(risk) else None,
            "bands": {c: float((bands == c).mean()) if len(risk) else None for c in load_taxonomy().rating_choices}}


def genre_checks(model, articles: pd.DataFrame) -> dict:
    """Score distributions on PolNeAR's mainstream articles and on the Szeged Wikipedia documents, from an
    articles table (``corpus``, ``outlet``, ``text``: a training dataset's, or :func:`load_genres`)."""
    outlet = articles["outlet"] if "outlet" in articles else pd.Series(None, index=articles.index)
    parts = {"polnear_mainstream": articles[(articles["corpus"] == "polnear") & outlet.isin(MAINSTREAM)],
             "wikipedia": articles[articles["corpus"] == "szeged"]}
    return {name: distribution(model.predict(part["text"].tolist())) for name, part in parts.items() if len(part)}


def load_genres(data_dir=None) -> pd.DataFrame:
    """PolNeAR's and Szeged's articles (``corpus``, ``outlet``, ``text``) for :func:`genre_checks`."""
    return pd.concat([load_polnear(data_dir).articles, load_szeged(data_dir).articles], ignore_index=True)


def _sentences(data_dir) -> pd.DataFrame:
    path = Path(data_dir or DATA_DIR) / "checkthat2025-subjectivity-dev" / "sentences.jsonl"
    if not path.exists():
        raise AnnotatorError(f"{path}: subjectivity set not found (set ANNOTATOR_DATA_DIR)")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                    rows.append((str(row["text"]), int(row["label"])))
                except (ValueError, KeyError, TypeError) as exc:
                    raise AnnotatorError(f"{path}:{n}: bad sentence row ({exc})") from None
    return pd.DataFrame(rows, columns=["text", "label"])


def subjectivity_check(model, data_dir: str | os.PathLike | None = None) -> dict:
    """Sentence-level ROC AUC (subjective vs objective) of the score and of the highest loaded_term span score."""
    sents = _sentences(data_dir)
    scored = model.score(pd.DataFrame({"id": [str(i) for i in range(len(sents))], "text": sents["text"]}),
                         evidence=0)
    loaded = [max((float(s.get("score", 1.0)) for s in spans if s["label"] == label_roles().loaded), default=0.0)
              for spans in scored["spans"]]
    return {"n": int(len(sents)), "subjective": int(sents["label"].sum()),
            "risk_auc": _auc(sents["label"], scored["risk"]), "loaded_term_auc": _auc(sents["label"], loaded)}


def document_checks(model, data_dir=None) -> dict:
    """Every document check of a fitted model: the grouped figures its fit stored (whole sites and
    articles held out; recomputing them means refitting), the genre distributions and subjectivity."""
    stored = (getattr(model, "metrics_", None) or {}).get("checks") or {}
    # figures added since a model was built are computed from its stored out-of-fold scores
    grouped = (grouped_figures(model.oof_) if hasattr(model, "oof_") else {}) | (stored.get("grouped") or {}) or None
    return {"grouped": grouped, "genres": genre_checks(model, load_genres(data_dir)),
            "subjectivity": subjectivity_check(model, data_dir)}
