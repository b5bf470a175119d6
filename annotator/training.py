"""Training the framing model from datasets (Label Studio pulls and/or the shared corpora).

The document target, in [0, 1]:

* articles with annotators' ``framing_risk`` ratings: the mean rating mapped to the
  band centres (low → 1/6, elevated → 1/2, high → 5/6), so calibrated scores land in
  the band the annotators chose;
* PTC articles (no ratings): the article's propaganda density, the share of its
  characters inside any SemEval-2020 technique span, as a percentile among the PTC
  articles (so a score of 50 is the median PTC density, 80 the 80th percentile);
* other corpus articles: no document target (they train the span tagger only).
"""
from __future__ import annotations

import importlib.metadata
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, mean_absolute_error

from .corpora import LOADERS, load_corpora
from .corpus_mapping import corpus_mapping
from .dataset import Dataset, concat, read_dataset
from .errors import AnnotatorError
from .evaluation import cross_validate_tagger
from .model.calibration import band_of, describe_bands
from .model.framing import FramingModel
from .taxonomy import load_taxonomy

__all__ = ["load_training_data", "training_frame", "train", "propaganda_density", "describe_metrics"]


def load_training_data(sources, data_dir=None, limit=None) -> Dataset:
    """Datasets by name: a corpus name (a key of :data:`annotator.corpora.LOADERS`), ``corpora``
    for all of them, or a dataset folder written by ``annotator pull``."""
    parts, corpora = [], []
    for src in sources:
        if src == "corpora":
            corpora += list(LOADERS)
        elif src in LOADERS:
            corpora.append(src)
        elif Path(src).is_dir():
            parts.append(read_dataset(src))
        else:
            raise AnnotatorError(f"{src}: not a dataset folder nor a corpus name ({', '.join(LOADERS)}, corpora)")
    if corpora:
        parts.insert(0, load_corpora(tuple(dict.fromkeys(corpora)), data_dir=data_dir, limit=limit))
    if not parts:
        raise AnnotatorError("no training data given")
    out = parts[0] if len(parts) == 1 else concat(parts)
    tech = [p.meta["technique_spans"] for p in parts if "technique_spans" in p.meta]
    if tech:
        out.meta["technique_spans"] = pd.concat(tech, ignore_index=True)
    return out


def propaganda_density(dataset: Dataset) -> pd.Series:
    """Share of each article's characters inside any technique span (PTC articles only)."""
    tech = dataset.meta.get("technique_spans")
    if tech is None or len(tech) == 0:
        return pd.Series(dtype=float)
    texts = dict(zip(dataset.articles["article_id"], dataset.articles["text"]))
    out = {}
    for aid, g in tech.groupby("article_id"):
        if aid in texts:
            mask = np.zeros(len(texts[aid]), dtype=bool)
            for s, e in zip(g["start"], g["end"]):
                mask[s:e] = True
            out[aid] = mask.mean() if len(mask) else 0.0
    # PTC articles without any span have density 0
    ptc = dataset.articles.loc[dataset.articles["corpus"] == "ptc", "article_id"]
    return pd.Series({aid: out.get(aid, 0.0) for aid in ptc}, dtype=float)


def training_frame(dataset: Dataset) -> pd.DataFrame:
    """One row per article: ``article_id``, ``text``, ``corpus``, ``spans``, ``annotated``,
    ``target`` (see the module docstring; NaN when none) and ``target_source``."""
    tax = load_taxonomy()
    mapping = corpus_mapping()
    arts = dataset.articles.reset_index(drop=True)
    spans = {aid: [] for aid in arts["article_id"]}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"],
                              dataset.spans["end"]):
        spans.setdefault(aid, []).append((lab, int(s), int(e)))
    everything = set(tax.label_ids)
    annotated = [set(mapping[c]["annotates"]) if c in mapping else everything for c in arts["corpus"]]
    target = pd.Series(np.nan, index=arts["article_id"], dtype=float)
    source = pd.Series(None, index=arts["article_id"], dtype=object)
    dens = propaganda_density(dataset)
    if len(dens):
        pct = (rankdata(dens.to_numpy()) - 0.5) / len(dens)
        target.loc[dens.index] = pct
        source.loc[dens.index] = "ptc_density_percentile"
    docs = dataset.documents.dropna(subset=["framing_risk"])
    docs = docs[~docs["cancelled"]]
    if len(docs):
        levels = {c: (i + 0.5) / len(tax.rating_choices) for i, c in enumerate(tax.rating_choices)}
        rated = docs.assign(v=docs["framing_risk"].map(levels)).groupby("article_id")["v"].mean()
        rated = rated[rated.index.isin(target.index)]
        target.loc[rated.index] = rated
        source.loc[rated.index] = "annotator_rating"
    return pd.DataFrame({
        "article_id": arts["article_id"].tolist(), "text": arts["text"].tolist(), "corpus": arts["corpus"].tolist(),
        "spans": [spans[a] for a in arts["article_id"]], "annotated": annotated,
        "target": target.to_numpy(), "target_source": source.to_numpy(),
    })


def _document_metrics(risk, target) -> dict:
    choices = list(load_taxonomy().rating_choices)
    bands_pred, bands_true = band_of(risk, choices), band_of(target, choices)
    bins = np.linspace(0, 100, 11)
    which = np.clip(np.digitize(risk, bins) - 1, 0, 9)
    calib = [{"bin": f"{bins[b]:.0f}-{bins[b + 1]:.0f}", "n": int((which == b).sum()),
              "mean_score": float(risk[which == b].mean()), "mean_target": float(target[which == b].mean())}
             for b in range(10) if (which == b).any()]
    return {
        "spearman": float(spearmanr(risk, target)[0]),
        "mae": float(mean_absolute_error(target, risk)),
        "band_accuracy": float((bands_pred == bands_true).mean()),
        "band_labels": choices,
        "band_confusion": confusion_matrix(bands_true, bands_pred, labels=choices).tolist(),
        "calibration": calib,
        "n": int(len(target)),
    }


def train(sources=("corpora",), *, data_dir=None, limit=None, span_cv=3, progress=None, **params):
    """Train a :class:`~annotator.model.FramingModel` and evaluate it.

    Parameters
    ----------
    sources : sequence of str
        Corpus names, ``corpora``, and/or dataset folders from ``annotator pull``.
    span_cv : int
        Folds for the cross-validated span figures of the tagger (0 skips them).
    progress : callable(str) or None
    **params
        :class:`FramingModel` parameters.

    Returns
    -------
    FramingModel
        Fitted, with ``metrics_`` (cross-validated span and document figures), ``data_summary_``
        and ``versions_``.
    """
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    dataset = load_training_data(sources, data_dir=data_dir, limit=limit)
    frame = training_frame(dataset)
    say(f"training data: {len(frame)} articles, {int(np.isfinite(frame['target']).sum())} with a document target "
        f"({time.perf_counter() - t0:.0f} s)")
    model = FramingModel(**params).fit(frame, frame["target"].to_numpy())
    say(f"fitted tagger and document model ({time.perf_counter() - t0:.0f} s)")
    metrics = {"document": _document_metrics(model.oof_["risk"], model.oof_["target"])}
    if span_cv:
        annot = {c: corpus_mapping()[c]["annotates"] for c in frame["corpus"].unique() if c in corpus_mapping()}
        for c in frame["corpus"].unique():
            annot.setdefault(c, load_taxonomy().label_ids)
        table = cross_validate_tagger(dataset, lambda: clone(model.tagger_), annot, n_splits=span_cv, progress=say)
        metrics["spans"] = table.to_dict(orient="records")
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    model.metrics_ = metrics
    model.data_summary_ = dataset.summary() | {
        "document_targets": {k: int(v) for k, v in pd.Series(frame["target_source"]).value_counts().items()}}
    model.versions_ = _versions()
    return model


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("annotator", "scikit-learn", "numpy", "scipy", "pandas", "skops"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def describe_metrics(metrics: dict) -> str:
    """The figures as printable text."""
    d = metrics["document"]
    lines = [f"document score vs target (out-of-fold, n={d['n']}): Spearman {d['spearman']:.3f}, "
             f"MAE {d['mae']:.1f} points, band accuracy {d['band_accuracy']:.2f}",
             "band confusion (rows: target " + "/".join(d["band_labels"]) + "): " + str(d["band_confusion"])]
    if "spans" in metrics:
        tab = pd.DataFrame(metrics["spans"])
        tab = tab[tab["metric"].isin(["span", "sentence"])]
        lines.append(tab.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    lines.append(f"({metrics['seconds']:.0f} s; bands: {describe_bands(d['band_labels'])})")
    return "\n".join(lines)
