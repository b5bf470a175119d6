"""What a fast retrain learns from: the team's articles split (fit / held out), a budgeted sample of the base corpora.

A full build learns from every corpus article (about 7.8 M characters) and cross-validates;
retraining after each round of annotation must take under a minute, and the cost of fitting grows
with the characters fitted. So a retrain fits on the team's annotated articles, each once with a
sample weight (``team_weight``: what one team article is worth in corpus articles costs nothing),
plus a random sample of the base corpora filling the rest of ``budget_chars`` characters, and never
less than ``1 - team_share`` of it (so a large team still keeps what the corpora teach).

The held-out team articles are chosen by a hash of their id (the same article stays held out
from one retrain to the next, so figures of successive rounds compare), grouped by article.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FitPlan", "held_out_mask", "plan_fit", "sample_base", "BASE_SHARES"]

#: Share of the base sample's characters per corpus: PTC's articles are the document model's targets,
#: PolNeAR's the sources, Szeged's the unverified claims (short documents, cheap).
BASE_SHARES = {"ptc": 0.45, "polnear": 0.4, "szeged": 0.15}


def held_out_mask(article_ids, fraction: float, min_articles: int = 20) -> np.ndarray:
    """Team articles held out for the check: a stable ``fraction`` of them by a hash of the id
    (none when there are fewer than ``min_articles``; at least one otherwise)."""
    ids = [str(a) for a in article_ids]
    if fraction <= 0 or len(ids) < min_articles:
        return np.zeros(len(ids), dtype=bool)
    h = np.array([int(hashlib.sha1(a.encode("utf-8")).hexdigest()[:8], 16) / 16 ** 8 for a in ids])
    mask = h < fraction
    if not mask.any():
        mask[int(np.argmin(h))] = True
    return mask


@dataclass(frozen=True)
class FitPlan:
    """The characters of the base sample and of the team's articles (each fitted once)."""

    base_chars: int
    team_chars: int


def plan_fit(team_chars: int, budget_chars: int, team_share: float = 0.7) -> FitPlan:
    """The base sample's size in characters (module docstring): what the team's articles leave of the
    budget, at least ``1 - team_share`` of it (then the fit passes the budget by what the team passes
    ``team_share`` of it)."""
    return FitPlan(int(max(budget_chars - team_chars, budget_chars * (1 - team_share))), int(team_chars))


def _allocate(available: dict, chars: float, weights: dict) -> dict:
    """Characters per corpus: ``chars`` split by ``weights``, a corpus that has fewer than its part
    giving all it has and the rest going to the others by their weights (so the sample fills ``chars``)."""
    out, left, open_ = {}, float(chars), dict(weights)
    while open_ and left > 0:
        total = sum(open_.values()) or 1.0
        short = {c: available[c] for c, w in open_.items() if available[c] <= left * w / total}
        if not short:
            out.update({c: left * w / total for c, w in open_.items()})
            break
        out.update(short)
        left -= sum(short.values())
        open_ = {c: w for c, w in open_.items() if c not in short}
    return out


def sample_base(frame: pd.DataFrame, chars: int, random_state: int = 0, shares=None) -> pd.DataFrame:
    """A random sample of the base corpora's rows with about ``chars`` characters in all, split
    between corpora by ``shares`` (:data:`BASE_SHARES`; a corpus not listed gets an equal part of
    what is left); a corpus with fewer characters than its part is taken whole and the rest of its
    part goes to the others (all of it when ``chars`` exceeds them all)."""
    if not len(frame) or chars <= 0:
        return frame.iloc[:0]
    shares = dict(BASE_SHARES if shares is None else shares)
    corpora = list(dict.fromkeys(frame["corpus"]))
    known = sum(shares.get(c, 0.0) for c in corpora)
    others = [c for c in corpora if c not in shares]
    rest = max(0.0, 1.0 - known)
    weights = {c: shares.get(c, rest / len(others) if others else 0.0) for c in corpora}
    lengths = frame["text"].str.len()
    available = {c: float(lengths[frame["corpus"] == c].sum()) for c in corpora}
    part = _allocate(available, chars, {c: w for c, w in weights.items() if w > 0} or dict.fromkeys(corpora, 1.0))
    rng = np.random.RandomState(random_state)
    parts = []
    for c in corpora:
        rows = frame[frame["corpus"] == c]
        order = rng.permutation(len(rows))
        cum = np.cumsum(rows["text"].str.len().to_numpy()[order])
        n = len(rows) if part.get(c, 0.0) >= available[c] else int(np.searchsorted(cum, part.get(c, 0.0), side="right"))
        parts.append(rows.iloc[np.sort(order[:max(n, 1)])])
    return pd.concat(parts, ignore_index=True)
