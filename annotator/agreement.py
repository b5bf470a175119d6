"""Inter-annotator agreement on a :class:`annotator.dataset.Dataset`.

* **Span F1 per label for every annotator pair**, on the articles both judged
  (a non-cancelled ``documents`` row, or spans, from each): exact match (same
  start, end and label) and partial overlap with character-overlap credit as in
  SemEval-2020 Task 11 span identification (:func:`annotator.spans.span_prf`:
  overlapping spans of one label are merged first; a span of one annotator
  earns the share of its characters covered by the other's). F1 is symmetric
  in the pair. The label ``*`` row pools all labels (a span only matches spans
  of its own label). F1 is ``NaN`` when neither annotator has a span.
* **Krippendorff's alpha** for the framing-risk rating, ordinal metric, rating
  order from :attr:`annotator.taxonomy.Taxonomy.rating_choices`, computed from
  the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
  alpha-reliability"). Units are articles; cancelled and unrated documents are
  missing values; units with fewer than two values are not pairable and left
  out. ``NaN`` when there is no pairable unit or no expected disagreement.
* **Per-annotator counts**: documents, cancelled, rated, spans, spans per label.
"""
from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pandas as pd

from .dataset import Dataset, read_dataset
from .errors import AnnotatorError
from .io import write_json_atomic
from .spans import exact_prf, span_prf
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["agreement", "span_agreement", "krippendorff_alpha", "coincidence_matrix", "annotator_counts",
           "format_agreement", "agreement_to_json", "write_agreement_json"]

ALL_LABELS = "*"
PAIR_COLUMNS = ["annotator_a", "annotator_b", "label", "articles", "spans_a", "spans_b",
                "exact_precision", "exact_recall", "exact_f1", "partial_precision", "partial_recall", "partial_f1"]


def _judged(dataset: Dataset) -> dict:
    """annotator -> set of article ids judged (non-cancelled document, or any span)."""
    docs = dataset.documents
    judged: dict = {}
    for who, aid in zip(docs.loc[~docs["cancelled"], "annotator"], docs.loc[~docs["cancelled"], "article_id"]):
        judged.setdefault(who, set()).add(aid)
    for who, aid in zip(dataset.spans["annotator"], dataset.spans["article_id"]):
        judged.setdefault(who, set()).add(aid)
    return judged


def span_agreement(dataset: Dataset, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """One row per (annotator pair, label) plus a ``*`` row per pair; columns :data:`PAIR_COLUMNS`.

    ``*_precision`` takes annotator_b as the system and annotator_a as the
    reference (swap the pair to swap precision and recall); F1 is symmetric.
    """
    taxonomy = taxonomy or load_taxonomy()
    judged = _judged(dataset)
    labels = list(taxonomy.label_ids) + sorted(set(dataset.spans["label"].dropna()) - set(taxonomy.label_ids))
    spans: dict = {}
    for aid, who, label, s, e in zip(dataset.spans["article_id"], dataset.spans["annotator"], dataset.spans["label"],
                                     dataset.spans["start"], dataset.spans["end"]):
        spans.setdefault((who, aid, label), []).append((int(s), int(e)))
    rows = []
    for a, b in itertools.combinations(sorted(judged), 2):
        common = sorted(judged[a] & judged[b])
        pooled = {"ea": [], "eb": []}
        for label in labels + [ALL_LABELS]:
            if label == ALL_LABELS:
                ga, gb = pooled["ea"], pooled["eb"]
            else:
                ga = [spans.get((a, aid, label), []) for aid in common]
                gb = [spans.get((b, aid, label), []) for aid in common]
                pooled["ea"].extend(ga)
                pooled["eb"].extend(gb)
            ex, pa = exact_prf(ga, gb), span_prf(ga, gb)
            n_a, n_b = ex["n_gold"], ex["n_pred"]
            empty = n_a == 0 and n_b == 0
            nan = math.nan
            rows.append((a, b, label, len(common), n_a, n_b,
                         nan if empty else ex["precision"], nan if empty else ex["recall"], nan if empty else ex["f1"],
                         nan if empty else pa["precision"], nan if empty else pa["recall"],
                         nan if empty else pa["f1"]))
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def coincidence_matrix(units, categories) -> np.ndarray:
    """Krippendorff's coincidence matrix ``o[c, k]`` over ``categories``.

    ``units`` is an iterable of lists of values (one list per unit, missing
    values left out); units with fewer than two values are not pairable.
    """
    index = {c: i for i, c in enumerate(categories)}
    o = np.zeros((len(categories), len(categories)))
    for values in units:
        vals = [index[v] for v in values]
        m = len(vals)
        if m < 2:
            continue
        counts = np.bincount(vals, minlength=len(categories)).astype(float)
        # pairs of different coders within the unit: n_c * n_k for c != k, n_c * (n_c - 1) on the diagonal
        pair = np.outer(counts, counts) - np.diag(counts)
        o += pair / (m - 1)
    return o


def krippendorff_alpha(units, categories, metric: str = "ordinal") -> dict:
    """Krippendorff's alpha with the ``ordinal`` (default), ``interval`` or ``nominal`` metric.

    Returns ``{"alpha", "units" (pairable), "values" (n, pairable values),
    "observed" (D_o), "expected" (D_e)}``.
    """
    categories = list(categories)
    units = [list(u) for u in units]
    o = coincidence_matrix(units, categories)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    k = len(categories)
    if metric == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        d2 = np.zeros((k, k))
        for c in range(k):
            for j in range(k):
                lo, hi = min(c, j), max(c, j)
                d2[c, j] = (cum[hi + 1] - cum[lo] - (n_c[c] + n_c[j]) / 2) ** 2
    elif metric == "interval":
        v = np.arange(k, dtype=float)
        d2 = (v[:, None] - v[None, :]) ** 2
    elif metric == "nominal":
        d2 = 1.0 - np.eye(k)
    else:
        raise ValueError(f"unknown metric {metric!r}")
    pairable = sum(1 for u in units if len(u) >= 2)
    if n < 2:
        return {"alpha": math.nan, "units": pairable, "values": int(round(n)), "observed": math.nan,
                "expected": math.nan}
    d_o = float((o * d2).sum() / n)
    d_e = float((np.outer(n_c, n_c) * d2).sum() / (n * (n - 1)))
    alpha = 1.0 - d_o / d_e if d_e > 0 else math.nan
    return {"alpha": alpha, "units": pairable, "values": int(round(n)), "observed": d_o, "expected": d_e}


def annotator_counts(dataset: Dataset, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per annotator: documents, cancelled, rated, spans and spans per label."""
    taxonomy = taxonomy or load_taxonomy()
    docs, spans = dataset.documents, dataset.spans
    who = sorted(set(docs["annotator"].dropna()) | set(spans["annotator"].dropna()))
    rows = []
    for w in who:
        d = docs[docs["annotator"] == w]
        s = spans[spans["annotator"] == w]
        row = {"annotator": w, "documents": int(len(d)), "cancelled": int(d["cancelled"].sum()),
               "rated": int(d["framing_risk"].notna().sum()), "spans": int(len(s))}
        for label in taxonomy.label_ids:
            row[label] = int((s["label"] == label).sum())
        rows.append(row)
    cols = ["annotator", "documents", "cancelled", "rated", "spans", *taxonomy.label_ids]
    return pd.DataFrame(rows, columns=cols)


def agreement(dataset: Dataset | str | os.PathLike, taxonomy: Taxonomy | None = None) -> dict:
    """Agreement figures: ``{"spans": DataFrame, "rating": dict, "annotators": DataFrame}``.

    ``rating`` is :func:`krippendorff_alpha` of the framing-risk ratings plus
    ``"scale"`` (the rating order) and ``"metric"``.
    """
    if not isinstance(dataset, Dataset):
        dataset = read_dataset(dataset)
    taxonomy = taxonomy or load_taxonomy()
    docs = dataset.documents
    rated = docs[~docs["cancelled"] & docs["framing_risk"].notna()]
    unknown = sorted(set(rated["framing_risk"]) - set(taxonomy.rating_choices))
    if unknown:
        raise AnnotatorError(f"ratings not in the taxonomy scale {list(taxonomy.rating_choices)}: {unknown}")
    units = rated.groupby("article_id", sort=True)["framing_risk"].apply(list).tolist()
    rating = krippendorff_alpha(units, taxonomy.rating_choices, "ordinal")
    rating.update({"scale": list(taxonomy.rating_choices), "metric": "ordinal", "field": taxonomy.rating_from_name})
    return {"spans": span_agreement(dataset, taxonomy), "rating": rating,
            "annotators": annotator_counts(dataset, taxonomy)}


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def agreement_to_json(result: dict) -> dict:
    """A JSON-serialisable copy of :func:`agreement`'s result (NaN -> null)."""
    def records(df):
        return [{k: _num(v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                for r in df.to_dict(orient="records")]

    return {"span_f1": records(result["spans"]),
            "framing_risk_alpha": {k: _num(v) for k, v in result["rating"].items()},
            "annotators": records(result["annotators"])}


def format_agreement(result: dict) -> str:
    """Plain-text tables of :func:`agreement`'s result."""
    lines = []
    r = result["rating"]
    alpha = "n/a" if r["alpha"] is None or math.isnan(r["alpha"]) else f"{r['alpha']:.3f}"
    lines.append(f"Krippendorff's alpha ({r['metric']}, {' < '.join(r['scale'])}) for {r['field']}: {alpha} "
                 f"({r['units']} pairable articles, {r['values']} ratings)")
    lines.append("")
    spans = result["spans"]
    if spans.empty:
        lines.append("Span F1: fewer than two annotators.")
    else:
        show = spans[["annotator_a", "annotator_b", "label", "articles", "spans_a", "spans_b", "exact_f1",
                      "partial_f1"]]
        lines.append("Span F1 per annotator pair and label (exact / partial overlap, SemEval-2020 Task 11):")
        lines.append(show.to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep="-"))
    lines.append("")
    lines.append("Per annotator:")
    lines.append(result["annotators"].to_string(index=False) if len(result["annotators"]) else "(none)")
    return "\n".join(lines)


def write_agreement_json(result: dict, path: str | os.PathLike) -> None:
    """Write :func:`agreement_to_json` to ``path`` atomically."""
    write_json_atomic(path, agreement_to_json(result), indent=2)
