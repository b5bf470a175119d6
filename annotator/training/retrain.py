"""Fast retraining on a team's pulled annotations: :func:`retrain` gives a new model in under a minute, and its held-out figures.

``annotator train`` rebuilds everything and cross-validates (minutes). :func:`retrain` is the path
the annotation loop takes after each round (the ML backend calls it): it fits a
:class:`~annotator.model.framing.FramingModel` with the base model's parameters on the team's
annotated articles, each fitted once with a sample weight of ``team_weight``, plus a random sample
of the base corpora, within a budget of characters (:mod:`annotator.training.retrain_data`); up to :data:`DOC_TARGETS`
more PTC articles train the document score alone (the tagger does not learn from them); the
document model's out-of-fold calibration uses 3 folds; there is no span cross-validation. The frozen cue rules are
then adapted to the team's convention (:mod:`annotator.training.team_rules`: a lexicon entry the
team never marks is dropped). A stable share of the team's articles (by a hash of the id) is held
out and scored by the base model and by the new one: those are the figures a retrain reports.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from ..corpora import PUBLIC_CORPORA, load_corpora
from ..dataset import Dataset, read_dataset
from ..errors import AnnotatorError
from ..model.framing import FramingModel
from ..model.version import version_digest
from ..spans import span_prf
from ..taxonomy import load_taxonomy
from .metrics import team_document
from .retrain_data import held_out_mask, plan_fit, sample_base
from .run import _versions
from .sources import gather
from .targets import MIN_TEAM_RATINGS, plan_ratings, training_frame, without_team_targets
from .team_rules import adapt_rules

__all__ = ["Retrained", "retrain", "describe_retrain", "held_out_figures", "RETRAIN_WEIGHT", "BUDGET_CHARS", "HOLDOUT", "DOC_TARGETS"]

#: How many base-corpus articles one team article is worth in a retrain (its sample weight). Measured
#: on the learning-curve bench (README): 5 made spans worse than the base model when the team follows
#: the corpora's convention; 2 keeps them at the base model's and still passes the convention test.
RETRAIN_WEIGHT = 2
#: Characters fitted in all (team articles + base sample; the document-only targets come on top): 500
#: team articles (5.8 M characters fitted) are estimated at about 55 s on a quiet 2-core machine.
BUDGET_CHARS = 5_000_000
#: Share of the team's articles held out for the figures (none below 20 annotated articles).
HOLDOUT = 0.15
#: Corpus articles with a document target (PTC's) added beside the sample for the document model only
#: (the tagger does not learn from them): without them a large team leaves the score a dozen targets.
DOC_TARGETS = 200


@dataclass
class Retrained:
    """A retrain's result.

    Attributes
    ----------
    model : FramingModel
        Fitted; ``model_version`` is new; ``metrics_["retrain"]`` holds the fields below.
    model_version, base_version : str
    counts : dict
        ``team_articles`` (annotated), ``team_fitted``, ``team_held_out``, ``team_weight``,
        ``team_spans`` per label, ``team_rated``, ``base_articles`` per corpus (the sample the tagger
        learns from), ``document_only`` (corpus articles for the document score alone), ``chars_fitted``.
    held_out : dict
        On the held-out team articles: ``n``, per label ``{"base": P/R/F1, "new": P/R/F1}``
        (partial-overlap credit) and ``document`` (rated ones: base and new, else None).
    seconds : float
        Wall time of the whole retrain.
    notes : list of str
        What was done with the data and the rules.
    """

    model: FramingModel
    model_version: str
    base_version: str
    counts: dict = field(default_factory=dict)
    held_out: dict = field(default_factory=dict)
    seconds: float = 0.0
    notes: list = field(default_factory=list)


@lru_cache(maxsize=2)
def _corpus_frame(names: tuple, data_dir) -> pd.DataFrame:
    """The base corpora as a training frame (loaded once per process: a backend retrains often)."""
    return training_frame(load_corpora(names, data_dir=data_dir))


def _team_frame(tables) -> tuple[pd.DataFrame, list, set]:
    """The team's annotated articles as a training frame (rows marked ``team``), the notes, and the id
    of every article in the tables, annotated or not (none of them enters the corpus sample)."""
    sources = [read_dataset(s) if not isinstance(s, Dataset) else s
               for s in (tables if isinstance(tables, (list, tuple)) else [tables])]
    every = {str(a) for ds in sources for a in ds.articles["article_id"]}
    data = gather(sources, base_corpora=())
    if not data.team_ids:
        raise AnnotatorError("no annotated article in the team's tables: annotate some, then retrain")
    frame = training_frame(data.dataset, data.team_ids)
    return frame[frame["team"]].reset_index(drop=True), list(data.notes), every


def _target_rows(corpus, base, n, random_state):
    """Up to ``n`` corpus rows with a document target outside the sample, annotated for no label."""
    rows = corpus[np.isfinite(corpus["target"].to_numpy(float)) & ~corpus["article_id"].isin(set(base["article_id"]))]
    rows = rows.sample(min(n, len(rows)), random_state=random_state) if len(rows) > n else rows
    return rows.assign(annotated=[set()] * len(rows))


def retrain(base_model, tables, *, team_weight=RETRAIN_WEIGHT, budget_chars=BUDGET_CHARS, holdout=HOLDOUT,
            base_corpora=PUBLIC_CORPORA, base_frame=None, doc_targets=DOC_TARGETS, data_dir=None,
            min_team_ratings=MIN_TEAM_RATINGS, random_state=0, adapt=True, progress=None) -> Retrained:
    """Fit a new framing model on a team's annotations with a sample of the base corpora (module docstring).

    Parameters
    ----------
    base_model : FramingModel
        The model in service: its parameters are reused, and it is scored beside the new one.
    tables : Dataset, dataset folder, or a list of them
        What ``annotator pull`` writes (articles nobody annotated are left out of the fit, and no
        article of the tables, annotated or not, enters the corpus sample).
    team_weight : float
        How many base-corpus articles one team article is worth (:data:`RETRAIN_WEIGHT`): its sample
        weight in the tagger's fits, and within the team's document targets.
    budget_chars : int
        Characters fitted in all (:data:`BUDGET_CHARS`; the time grows with it).
    holdout : float
        Share of the team's articles held out for the figures (0: none, all are fitted).
    base_corpora : sequence of str
        Corpora sampled under the team's articles (``()``: the team's alone; then its ratings must
        give the document targets).
    base_frame : DataFrame, optional
        The base as a :func:`~annotator.training.targets.training_frame` to sample from instead of
        ``base_corpora`` (e.g. the corpora without a held-out set).
    doc_targets : int
        Corpus articles with a document target added for the document model alone (:data:`DOC_TARGETS`).
    min_team_ratings : int
        Rated team articles needed for the ratings to be document targets (else they check it).
    adapt : bool
        Drop the rules the team's annotations contradict (:func:`~annotator.training.team_rules.adapt_rules`).
    progress : callable(str) or None
        Called with a line per step.

    Returns
    -------
    Retrained
    """
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    team, notes, project_ids = _team_frame(tables)
    held = held_out_mask(team["article_id"], holdout)
    team_fit, team_held = team[~held].reset_index(drop=True), team[held].reset_index(drop=True)
    corpus = base_frame if base_frame is not None else \
        _corpus_frame(tuple(base_corpora), data_dir) if base_corpora else team.iloc[:0]
    # the project's articles, annotated or waiting, stay out of the sample: a corpus article pushed to be
    # annotated would otherwise teach its corpus gold before the team has judged it
    corpus = corpus[~corpus["article_id"].astype(str).isin(project_ids | set(team["article_id"].astype(str)))]
    plan = plan_fit(int(team_fit["text"].str.len().sum()), budget_chars)
    base = sample_base(corpus, plan.base_chars, random_state)
    targets = _target_rows(corpus, base, doc_targets, random_state)
    frame = pd.concat([base, targets, team_fit], ignore_index=True)
    ratings = plan_ratings(frame, min_team_ratings)
    notes += [ratings.note] if ratings.note else []
    if not ratings.use_team:
        team_fit = without_team_targets(team_fit)
    fit = pd.concat([base, targets, team_fit], ignore_index=True)
    weight = np.where(np.arange(len(fit)) >= len(base) + len(targets), float(team_weight), 1.0)
    say(f"fitting on {len(team_fit)} team articles (weight {team_weight:g}) and {len(base)} corpus articles "
        f"(+{len(targets)} for the document score) "
        f"({int(fit['text'].str.len().sum()):,} characters); {len(team_held)} team articles held out")
    params = {**base_model.get_params(deep=False), "cv": 3, "random_state": random_state}
    model = FramingModel(**params).fit(fit, fit["target"].to_numpy(), sample_weight=weight)
    if adapt:
        model.tagger_.rules_, changes = adapt_rules(model.tagger_.rules_, team_fit)
        model.tagger_.__dict__.pop("_lookup_cache", None)  # the rule matcher is rebuilt from the new rules
        notes += changes.notes()
    model.model_version = "framing-" + version_digest(model)[:10]
    say(f"fitted {model.model_version}; scoring the held-out articles")
    figures = held_out_figures(base_model, model, team_held)
    counts = {"team_articles": int(len(team)), "team_fitted": int(len(team_fit)), "team_held_out": int(len(team_held)),
              "team_weight": float(team_weight), "team_rated": int(np.isfinite(team["rating"]).sum()),
              "team_spans": _span_counts(team), "chars_fitted": int(fit["text"].str.len().sum()),
              "base_articles": {k: int(v) for k, v in base["corpus"].value_counts().sort_index().items()},
              "document_only": int(len(targets))}
    out = Retrained(model, model.model_version, getattr(base_model, "model_version", ""), counts, figures,
                    round(time.perf_counter() - t0, 1), notes)
    _record(model, out, team_weight)
    say(f"done in {out.seconds:.1f} s")
    return out


def _span_counts(team) -> dict:
    counts: dict = {}
    for spans in team["spans"]:
        for lab, _, _ in spans:
            counts[lab] = counts.get(lab, 0) + 1
    return dict(sorted(counts.items()))


def _record(model, out: Retrained, team_weight) -> None:
    """What a model file carries: the retrain's figures in ``metrics_``, counts in ``data_summary_``."""
    model.metrics_ = {"retrain": {"base_version": out.base_version, "counts": out.counts, "held_out": out.held_out,
                                  "seconds": out.seconds, "notes": out.notes, "team_weight": float(team_weight)},
                      "notes": out.notes, "document": None, "corpora": {"articles": out.counts["base_articles"],
                                                                         "document": None}}
    model.data_summary_ = {"articles": out.counts["team_fitted"] + sum(out.counts["base_articles"].values()),
                           "team": {"articles": out.counts["team_articles"], "rated_articles": out.counts["team_rated"],
                                    "spans_per_label": out.counts["team_spans"]},
                           "corpora": {"articles_per_corpus": out.counts["base_articles"]}}
    model.bigram_names_ = {}
    model.versions_ = _versions()


def _prf(gold, pred) -> dict:
    r = span_prf(gold, pred)
    return {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in r.items()}


def held_out_figures(base_model, model, held: pd.DataFrame) -> dict:
    """Span P/R/F1 per label (partial-overlap credit, over the articles annotated for it) and the
    rated articles' document figures, of ``base_model`` and ``model`` on the ``held`` rows."""
    if not len(held):
        return {"n": 0}
    frame = pd.DataFrame({"id": held["article_id"].astype(str), "text": held["text"]})
    scored = {"base": base_model.score(frame, evidence=0), "new": model.score(frame, evidence=0)}
    out = {"n": int(len(held)), "labels": {}}
    for lab in load_taxonomy().label_ids:
        rows = [i for i, a in enumerate(held["annotated"]) if lab in a]
        if not rows:
            continue
        gold = [[(s, e) for (l_, s, e) in held["spans"].iloc[i] if l_ == lab] for i in rows]
        out["labels"][lab] = {name: _prf(gold, [[(d["start"], d["end"]) for d in sc["spans"].iloc[i]
                                                  if d["label"] == lab] for i in rows])
                              for name, sc in scored.items()}
    rated = np.isfinite(held["rating"].to_numpy(float))
    out["document"] = None if not rated.any() else {
        name: {k: v for k, v in team_document(held.loc[rated, "article_id"].tolist(), sc["risk"].to_numpy()[rated],
                                              100 * held.loc[rated, "rating"].to_numpy(), "held_out").items()
               if k != "rows"} for name, sc in scored.items()}
    return out



def describe_retrain(out: Retrained) -> str:
    """The retrain's counts, notes and held-out figures as text (what ``annotator retrain`` prints)."""
    c = out.counts
    lines = [f"{out.model_version} (from {out.base_version}) in {out.seconds:.1f} s: {c['team_fitted']} team articles "
             f"(weight {c['team_weight']:g}), corpus sample {c['base_articles']}, {c['document_only']} for the document score"]
    lines += [f"  {note}" for note in out.notes]
    held = out.held_out
    if not held.get("n"):
        return "\n".join(lines + ["  no team article held out (fewer than 20, or holdout 0): no figures"])
    lines.append(f"held-out team articles ({held['n']}), span F1 base -> new (partial-overlap credit):")
    for lab, r in held["labels"].items():
        lines.append(f"  {lab:<18} {r['base']['f1']:.3f} -> {r['new']['f1']:.3f}  ({r['base']['n_gold']} gold spans)")
    if held.get("document"):
        b, n = held["document"]["base"], held["document"]["new"]
        lines.append(f"  rating: MAE {b['mae']:.1f} -> {n['mae']:.1f} points on {n['n']} rated articles")
    return "\n".join(lines)
