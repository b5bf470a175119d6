"""How much an annotator's answer on an article would teach the model: three signals, a weighted sum, and the reason.

For each unlabelled article, from one pass of the framing model:

* **spans near the threshold** (``span``): the share of tokens whose probability for some label is
  within a factor e in odds of that label's decision threshold, per 100 tokens, as
  ``rate / (rate + 8)``: 0.5 at 8 per 100 tokens, the median of 60 PTC and PolNeAR articles under
  the shipped model (range 3-13). These are the places where the model's span decision could go either way; the team's
  spans steer the tagger, so these answers move it most.
* **rating near a band edge** (``document``): ``1 - d / 15`` for a risk ``d`` points from the nearest
  band edge (0 beyond 15 points): the article whose band the model is least sure of.
* **rules against the tagger** (``disagreement``): rule hits whose tokens the learned tagger scores
  below its low threshold for the rule's label, as ``n / (n + 1)``. The team's answer there decides
  whether the retrain keeps the rule (a lexicon entry the team never marks is dropped).

The informativeness is the weighted sum (:data:`WEIGHTS`: 0.45, 0.35, 0.2), not the max: an article
uncertain on several counts teaches more than one uncertain on one, and a max would let the
noisiest signal (document edges: a third of all articles are within 15 points of one) decide
alone. The reason printed with it is the signal that contributed most.

Every writer of a prediction (``annotator push``, the ML backend's ``/predict``, the queue's refresh)
stores the same number as the prediction's ``score``: the model's *confidence*,
:func:`confidence` = ``1 - informativeness``, Label Studio's own meaning of a prediction score
(its "Uncertainty sampling" serves the lowest first). The article's 0-100 risk is in the rating.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.calibration import band_edges

__all__ = ["informativeness", "scored_informativeness", "confidence", "WEIGHTS", "NEAR_EDGE", "COLUMNS"]

#: Weights of the span, document and disagreement signals.
WEIGHTS = {"span": 0.45, "document": 0.35, "disagreement": 0.2}
#: Points from a band edge within which a rating counts as uncertain.
NEAR_EDGE = 15.0
#: A token is near a threshold when its log-odds are within this of the threshold's.
NEAR_LOGIT = 1.0
#: Near-threshold tokens per 100 at which the span signal is 0.5 (the median article's rate).
SPAN_HALF = 8.0
COLUMNS = ["id", "informativeness", "span", "document", "disagreement", "risk", "band", "reason"]


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _span_signal(tagger, batch, k):
    """(signal, near-threshold tokens per label) of article ``k`` of a TaggedBatch."""
    a, b = int(batch.offsets[k]), int(batch.offsets[k + 1])
    if b <= a:
        return 0.0, {}
    near = np.abs(_logit(batch.probs[a:b]) - _logit(tagger.thresholds_)[None, :]) < NEAR_LOGIT
    per_label = {lab: int(n) for lab, n in zip(tagger.labels_, near.sum(axis=0)) if n}
    rate = 100.0 * near.any(axis=1).sum() / (b - a)
    return rate / (rate + SPAN_HALF), per_label


def _disagreements(tagger, matcher, batch, k, text):
    """Rule hits of article ``k`` whose tokens the learned tagger scores below the label's low threshold."""
    a, b = int(batch.offsets[k]), int(batch.offsets[k + 1])
    index = {lab: j for j, lab in enumerate(tagger.labels_)}
    starts, ends, probs = batch.starts[a:b], batch.ends[a:b], batch.probs[a:b]
    out = []
    for hit in matcher.apply_text(text):
        j = index.get(hit.label)
        if j is None:
            continue
        inside = (starts < hit.end) & (ends > hit.start)
        if inside.any() and probs[inside, j].max() < tagger.low_thresholds_[j]:
            out.append((hit.label, text[hit.start:hit.end]))
    return out


def _reason(parts, risk, edges, labels_near, disagree) -> str:
    top = max(WEIGHTS, key=lambda k: WEIGHTS[k] * parts[k])
    if parts[top] <= 0:
        return "nothing uncertain"
    if top == "document":
        edge = min(edges, key=lambda e: abs(risk - e))
        return f"risk {risk:.1f} is {abs(risk - edge):.1f} points from the band edge at {edge:.0f}"
    if top == "span":
        lab = ", ".join(f"{k} {v}" for k, v in sorted(labels_near.items(), key=lambda kv: -kv[1])[:3])
        return f"{sum(labels_near.values())} token decisions near the threshold ({lab})"
    words = ", ".join(sorted({f"'{w}' ({lab})" for lab, w in disagree})[:3])
    return f"{len(disagree)} rule hit(s) the learned tagger rejects: {words}"


def confidence(info: float) -> float:
    """The prediction score every writer stores: ``1 - informativeness`` (module docstring)."""
    return round(1.0 - float(info), 6)


def _rows(model, matcher, edges, ids, texts, scored, batch):
    """The :data:`COLUMNS` rows of ``texts`` (``scored``: the model's score frame of them; ``batch``:
    the tagger's pass over them, the one the score came from)."""
    tagger = model.tagger_
    rows = []
    for k, text in enumerate(texts):
        risk = float(scored["risk"].iloc[k])
        span, near = _span_signal(tagger, batch, k)
        disagree = _disagreements(tagger, matcher, batch, k, text)
        parts = {"span": span, "document": max(0.0, 1.0 - min(abs(risk - e) for e in edges) / NEAR_EDGE),
                 "disagreement": len(disagree) / (len(disagree) + 1.0)}
        rows.append({"id": ids[k], **{k_: round(v, 4) for k_, v in parts.items()},
                     "informativeness": round(sum(WEIGHTS[k_] * v for k_, v in parts.items()), 6),
                     "risk": risk, "band": scored["band"].iloc[k],
                     "reason": _reason(parts, risk, edges, near, disagree)})
    return rows


def scored_informativeness(model, frame: pd.DataFrame, *, batch_size: int = 256) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(scored, info)``: the model's score frame of the articles (``id``, ``text``; spans, risk,
    band; no evidence) and their :data:`COLUMNS` (:func:`informativeness`), in the input order, from
    one scoring pass (what push, the backend and the queue write predictions from)."""
    if not len(frame):
        return pd.DataFrame(columns=["id", "risk", "band", "spans"]), pd.DataFrame(columns=COLUMNS)
    matcher = model.tagger_.frozen_rules().matcher()
    edges = band_edges()
    scored, rows = [], []
    for lo in range(0, len(frame), batch_size):
        part = frame.iloc[lo:lo + batch_size]
        ids, texts = part["id"].astype(str).tolist(), part["text"].tolist()
        batch = model.tagger_.analyze_batch(texts)  # one tagger pass for the score and the signals
        sc = model.score(pd.DataFrame({"id": ids, "text": texts}), evidence=0, batch=batch)
        scored.append(sc.reset_index(drop=True))
        rows += _rows(model, matcher, edges, ids, texts, sc, batch)
    return pd.concat(scored, ignore_index=True), pd.DataFrame(rows, columns=COLUMNS)


def informativeness(model, frame: pd.DataFrame, *, batch_size: int = 256) -> pd.DataFrame:
    """Informativeness of each article (``id``, ``text``) under a framing model (module docstring).

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, in the input order: the weighted sum in [0, 1], each signal, the model's
        risk and band, and the reason (the signal that contributed most).
    """
    return scored_informativeness(model, frame, batch_size=batch_size)[1]
