"""Document targets and the training frame: propaganda density, annotators' ratings, which ones are used.

The document target, in [0, 1]:

* articles with annotators' ``framing_risk`` ratings: the mean rating mapped to the band centres
  (low → 1/6, elevated → 1/2, high → 5/6), so calibrated scores land in the band the annotators chose.
  The team's ratings are used only when there are enough of them (:data:`MIN_TEAM_RATINGS`, or when
  nothing else gives a target); fewer are kept as a check of the model instead (column ``rating``);
* PTC articles (no ratings): the article's propaganda density, the share of its characters inside
  any SemEval-2020 technique span, as a percentile among the PTC articles (so a score of 50 is the
  median PTC density, 80 the 80th percentile);
* hyperpartisan articles: the rating their label stands for (corpora.toml: hyperpartisan → high,
  not → low), as its band centre (5/6, 1/6);
* other corpus articles: no document target (they train the span tagger only);
* an article the scope check rules out (:mod:`annotator.articles.scope`: not English, not prose)
  has no document target either: it would never be scored, so its target could only teach the
  score about text it is never used on (the hyperpartisan set holds one Chinese page).

Column ``group`` says what cross-validation holds out together: a hyperpartisan article's site,
otherwise the article itself (PTC has no outlet field).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..articles.scope import scope_reasons
from ..corpus_mapping import corpus_mapping
from ..dataset import Dataset
from ..errors import AnnotatorError
from ..taxonomy import load_taxonomy

__all__ = ["propaganda_density", "document_labels", "ratings", "training_frame", "RatingsPlan", "plan_ratings", "MIN_TEAM_RATINGS",
           "MIN_TARGETS", "without_team_targets"]

#: The team's ratings become document targets beside the corpora's from this many rated articles on
#: (fewer would be drowned, or would pull the scale about, among 371 PTC targets; they check the model).
MIN_TEAM_RATINGS = 20
#: Articles with a document target the document model needs at least (5 folds of 2).
MIN_TARGETS = 10


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


def document_labels(dataset: Dataset) -> pd.DataFrame:
    """``article_id``, ``target`` (the band centre of the rating a corpus label stands for) and ``site``."""
    table = dataset.meta.get("document_labels")
    if table is None or not len(table):
        return pd.DataFrame(columns=["article_id", "target", "site"])
    choices = load_taxonomy().rating_choices
    centre = {c: (i + 0.5) / len(choices) for i, c in enumerate(choices)}
    return pd.DataFrame({"article_id": table["article_id"], "target": table["rating"].map(centre),
                         "site": table["site"]})


def ratings(dataset: Dataset) -> pd.Series:
    """Mean rating per rated article, as the band centre in [0, 1] (cancelled judgements left out)."""
    tax = load_taxonomy()
    docs = dataset.documents.dropna(subset=["framing_risk"])
    docs = docs[~docs["cancelled"]]
    if not len(docs):
        return pd.Series(dtype=float)
    levels = {c: (i + 0.5) / len(tax.rating_choices) for i, c in enumerate(tax.rating_choices)}
    return docs.assign(v=docs["framing_risk"].map(levels)).groupby("article_id")["v"].mean()


@dataclass(frozen=True)
class RatingsPlan:
    """Whether the team's ratings are document targets, and the line that says why."""

    use_team: bool
    team_rated: int
    note: str | None = None


def plan_ratings(frame: pd.DataFrame, min_team_ratings=MIN_TEAM_RATINGS) -> RatingsPlan:
    """Decide on the team's ratings in a :func:`training_frame` (its ``team`` and ``rating`` columns).

    Used when at least ``min_team_ratings`` team articles are rated with two different values, or
    when nothing else gives a document target; otherwise a check only, said in one line.
    """
    team = frame["team"].to_numpy(bool)
    rated = team & np.isfinite(frame["rating"].to_numpy(float))
    n, distinct = int(rated.sum()), len(np.unique(frame["rating"][rated]))
    others = int((np.isfinite(frame["target"]) & ~team).sum())
    if not n:
        return RatingsPlan(False, 0, "the team's data has no framing-risk rating: the document score learns from "
                                     "the corpora's targets only" if team.any() else None)
    if not others:
        if n < MIN_TARGETS or distinct < 2:
            raise AnnotatorError(
                f"the document score needs {MIN_TARGETS}+ rated articles with at least two different ratings, and "
                f"the team's data has {n} with {distinct} (no corpus here gives a target): rate more articles, or "
                "train with the corpora as the base (the default; ptc gives every article a target)")
        return RatingsPlan(True, n, f"document target: the team's ratings of {n} articles (no corpus target)")
    if n >= min_team_ratings and distinct >= 2:
        return RatingsPlan(True, n, f"document target: the team's ratings of {n} articles beside {others} "
                                    "corpus targets")
    why = f"fewer than {min_team_ratings}" if n < min_team_ratings else "all the same rating"
    return RatingsPlan(False, n, f"the team rated {n} articles ({why}): the document score learns from the "
                                 f"corpora's {others} targets only, and the team's ratings check it")


def without_team_targets(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the team's ratings kept in ``rating`` but not as document targets."""
    out = frame.copy()
    team = out["team"].to_numpy(bool) & (out["target_source"] == "annotator_rating").to_numpy()
    out.loc[team, "target"] = np.nan
    out.loc[team, "target_source"] = None
    return out


def training_frame(dataset: Dataset, team_ids=frozenset()) -> pd.DataFrame:
    """One row per article: ``article_id``, ``text``, ``corpus``, ``spans``, ``annotated``, ``team``,
    ``rating`` (the mean rating as a band centre, NaN when unrated), ``target`` (see the module docstring;
    NaN when none), ``target_source`` and ``group``. The team's ratings are targets here; :func:`plan_ratings` says
    whether they stay (:func:`without_team_targets`)."""
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
    group = pd.Series(arts["article_id"].to_numpy(), index=arts["article_id"], dtype=object)
    labelled = document_labels(dataset)
    labelled = labelled[labelled["article_id"].isin(target.index)]
    if len(labelled):
        target.loc[labelled["article_id"]] = labelled["target"].to_numpy(dtype=float)
        source.loc[labelled["article_id"]] = "hyperpartisan_label"
        group.loc[labelled["article_id"]] = ("site:" + labelled["site"].astype(str)).to_numpy()
    rated = ratings(dataset)
    rated = rated[rated.index.isin(target.index)]
    target.loc[rated.index] = rated
    source.loc[rated.index] = "annotator_rating"
    has = np.flatnonzero(np.isfinite(target.to_numpy()))
    out = [i for i, r in zip(has, scope_reasons(arts["text"].iloc[has].tolist())) if r is not None]
    target.iloc[out] = np.nan
    source.iloc[out] = None
    return pd.DataFrame({
        "article_id": arts["article_id"].tolist(), "text": arts["text"].tolist(), "corpus": arts["corpus"].tolist(),
        "spans": [spans[a] for a in arts["article_id"]], "annotated": annotated,
        "team": arts["article_id"].isin(team_ids).to_numpy(),
        "rating": rated.reindex(arts["article_id"]).to_numpy(dtype=float),
        "target": target.to_numpy(), "target_source": source.to_numpy(), "group": group.to_numpy(),
    })
