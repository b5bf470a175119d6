"""Training the framing model: a team's pulled datasets on the corpora, weighted, with progress and figures.

``train(["my-project"])`` learns from the team's dataset with the public corpora as the base. The
team's articles count :data:`TEAM_WEIGHT` times in the span tagger (each is fitted as that many
copies, kept in one fold when the tagger is cross-validated). Their ratings are document targets
when there are enough of them (see :mod:`annotator.training.targets`); the document model takes
each rated article once, so that its out-of-fold figures stay honest.
"""
from __future__ import annotations

import importlib.metadata
import platform

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..corpora import PUBLIC_CORPORA
from ..corpus_mapping import corpus_mapping
from ..dataset import Dataset
from ..cues.tagger.estimator import CueTagger
from ..evaluation import cross_validate_tagger, start_cross_validation
from ..model.framing import FramingModel
from ..model.naming import record_bigram_names
from ..taxonomy import load_taxonomy
from .checks import genre_checks, grouped_figures
from .folds import cv_workers, fold_pool, in_background
from .metrics import document_metrics, span_counts, team_document
from .progress import Stages
from .sources import TrainingData, gather
from .targets import MIN_TEAM_RATINGS, plan_ratings, training_frame, without_team_targets

__all__ = ["train", "TEAM_WEIGHT"]

#: How many times each of the team's articles counts in the span tagger's training (the corpora
#: have thousands of articles; a team's few dozen would otherwise barely move it).
TEAM_WEIGHT = 5


def _weighted_frame(frame: pd.DataFrame, weight: int) -> pd.DataFrame:
    """The frame with ``weight - 1`` more copies of each team row, without a document target."""
    copies = frame[frame["team"]]
    if weight <= 1 or not len(copies):
        return frame
    copies = copies.assign(target=np.nan, target_source=None)
    return pd.concat([frame] + [copies] * (weight - 1), ignore_index=True)


def _weighted_dataset(data: TrainingData, weight: int) -> Dataset:
    """The dataset with the team's article rows repeated (same ids: grouped cross-validation keeps
    the copies of an article in one fold; spans are listed once)."""
    ds = data.dataset
    team = ds.articles[ds.articles["article_id"].isin(data.team_ids)]
    if weight <= 1 or not len(team):
        return ds
    return Dataset(pd.concat([ds.articles] + [team] * (weight - 1), ignore_index=True), ds.documents, ds.spans,
                   dict(ds.meta))


def _team_summary(data: TrainingData, frame: pd.DataFrame, weight: int, plan) -> dict:
    team = data.team
    docs = team.documents[~team.documents["cancelled"]]
    return {"datasets": data.team_names, "articles": int(len(team)),
            "annotators": int(len(set(docs["annotator"].dropna()) | set(team.spans["annotator"].dropna()))),
            "rated": plan.team_rated, "spans": int(len(team.spans)),
            "spans_per_label": {k: int(v) for k, v in team.spans["label"].value_counts().sort_index().items()},
            "weight": int(weight), "ratings": "target" if plan.use_team else ("check" if plan.team_rated else "none"),
            "document": None}


def _team_check(model, frame: pd.DataFrame, plan, stages) -> dict | None:
    """The team's rated articles against their ratings: out of fold, or scored by the final model."""
    rated = frame[frame["team"] & np.isfinite(frame["rating"])]
    if not len(rated):
        return None
    if plan.use_team:
        oof = pd.DataFrame({"risk": model.oof_["risk"], "target": model.oof_["target"]},
                           index=model.oof_["article_id"])
        oof = oof.loc[rated["article_id"]]
        return team_document(rated["article_id"].tolist(), oof["risk"], oof["target"], "out_of_fold")
    stages(f"scoring the team's {len(rated)} rated articles (held out from the document model)")
    risk = model.score(pd.DataFrame({"id": rated["article_id"], "text": rated["text"]}))["risk"]
    return team_document(rated["article_id"].tolist(), risk, 100 * rated["rating"].to_numpy(), "held_out")


def _document_figures(model, team_ids) -> tuple[dict, dict]:
    """(every out-of-fold target, the corpora's alone)."""
    oof = model.oof_
    corpus = ~np.isin(np.asarray(oof["article_id"], dtype=object), list(team_ids))
    risk, target = np.asarray(oof["risk"]), np.asarray(oof["target"])
    return document_metrics(risk, target), document_metrics(risk[corpus], target[corpus]) if corpus.any() else None


def _annotates(data: TrainingData) -> dict:
    """Corpus → the labels it annotates (every label for the team's datasets)."""
    mapping = corpus_mapping()
    corpora = data.dataset.articles["corpus"].unique()
    annot = {c: mapping[c]["annotates"] for c in corpora if c in mapping}
    for c in corpora:
        annot.setdefault(c, load_taxonomy().label_ids)
    return annot


def _unfitted_tagger(model: FramingModel) -> CueTagger:
    """The tagger ``model.fit`` fits (a clone of it): what each cross-validation fold fits."""
    return clone(model.tagger if model.tagger is not None else CueTagger(random_state=model.random_state))


def _span_figures(data: TrainingData, model, weight, span_cv, stages, pending=None) -> tuple:
    """(span table rows, identity-word share on PolNeAR's narrator sentences or None), out of fold:
    from ``pending`` folds (a Future of :func:`start_cross_validation`'s folds in worker processes) or,
    without them, fitted here one fold after the other."""
    annot = _annotates(data)
    if pending is not None:
        stages(f"span cross-validation: {span_cv} folds grouped by article (in worker processes)")
        table = pending.result().result(progress=stages)
    else:
        stages(f"span cross-validation: {span_cv} folds grouped by article")
        with stages.watch(prefix="span cross-validation: "):
            table = cross_validate_tagger(_weighted_dataset(data, weight), lambda: clone(model.tagger_), annot,
                                          n_splits=span_cv, progress=stages)
    share = table.attrs.get("identity_share")
    # the pooled predictions stay behind: pandas deep-copies attrs into every frame derived below
    table.attrs = {}
    team = set(data.team.articles["corpus"])
    table = span_counts(data.dataset, table, annot)
    return table.assign(team=table["corpus"].isin(team)).to_dict(orient="records"), share


def train(sources=("corpora",), *, data_dir=None, limit=None, span_cv=3, progress=None, base_corpora=PUBLIC_CORPORA,
          team_weight=TEAM_WEIGHT, min_team_ratings=MIN_TEAM_RATINGS, n_jobs=None, **params):
    """Train a :class:`~annotator.model.FramingModel` and evaluate it.

    Parameters
    ----------
    sources : sequence of str, path or Dataset
        Dataset folders from ``annotator pull`` (the team's data), corpus names, ``corpora``.
    base_corpora : sequence of str
        Corpora added when ``sources`` names none (default: the public corpora; ``()``: none).
    span_cv : int
        Folds for the cross-validated span figures of the tagger (0 skips them).
    progress : callable(str) or None
        Called with a line per stage (``[ elapsed s] ...``).
    team_weight : int
        How many times each team article counts in the span tagger (:data:`TEAM_WEIGHT`).
    min_team_ratings : int
        Rated team articles needed for the team's ratings to be document targets beside the corpora's.
    n_jobs : int or None
        Worker processes for the span cross-validation's folds, which then run beside the final
        fit (None: one per CPU and one more, at most ``span_cv``); 1 fits the folds in this process
        after the final fit, one after the other. Each fold is deterministic: the figures are the
        same. The workers run at a lower priority, forked from a fork server (spawned where there is
        none; see :mod:`annotator.training.folds`): a script calling ``train`` needs the usual
        ``if __name__ == "__main__":`` guard (without it the workers fail and the folds are fitted
        here, after the final fit).
    **params
        :class:`FramingModel` parameters.

    Returns
    -------
    FramingModel
        Fitted, with ``metrics_`` (see :mod:`annotator.training.metrics`), ``data_summary_`` (counts:
        all, ``team``, ``corpora``), ``bigram_names_`` and ``versions_``.
    """
    stages = Stages(progress)
    workers = cv_workers(span_cv, n_jobs)
    with fold_pool(workers) as pool:  # entered first: the workers' start overlaps the loading
        model = _train(sources, data_dir, limit, span_cv, stages, base_corpora, team_weight, min_team_ratings,
                       pool, workers, params)
    model.metrics_["seconds"] = round(stages.elapsed(), 1)
    stages("done")
    return model


def _train(sources, data_dir, limit, span_cv, stages, base_corpora, team_weight, min_team_ratings, pool, workers,
           params):
    """:func:`train` with its fold workers' ``pool`` (None: the folds are fitted here after the fit)."""
    data = gather(sources, data_dir=data_dir, limit=limit, base_corpora=base_corpora, progress=stages)
    frame = training_frame(data.dataset, data.team_ids)
    plan = plan_ratings(frame, min_team_ratings)
    frame = frame if plan.use_team else without_team_targets(frame)
    notes = data.notes + ([plan.note] if plan.note else [])
    for note in notes:
        stages(note)
    n_team = int(frame["team"].sum())
    stages(f"training data: {len(frame):,} articles" + (f" ({n_team:,} the team's, each counted {team_weight}x in "
                                                         "the tagger)" if n_team else "")
           + f", {int(np.isfinite(frame['target']).sum()):,} with a document target")
    fit_frame = _weighted_frame(frame, team_weight)
    model = FramingModel(**params)
    pending = None
    if pool is not None:  # the folds are independent of the final fit: they run beside it
        stages(f"span cross-validation: {span_cv} folds started in {workers} worker processes")
        pending = in_background(start_cross_validation, _weighted_dataset(data, team_weight), _unfitted_tagger(model),
                                _annotates(data), span_cv, pool)
    with stages.watch():
        model.fit(fit_frame, fit_frame["target"].to_numpy())
    stages("fitted the tagger and the document model")
    metrics = _figures(data, frame, model, plan, notes, n_team, team_weight, stages)
    if span_cv:
        metrics["spans"], metrics["identity_share"] = _span_figures(data, model, team_weight, span_cv, stages,
                                                                     pending)
    model.metrics_ = metrics
    model.data_summary_ = data.dataset.summary() | {
        "document_targets": {k: int(v) for k, v in pd.Series(frame["target_source"]).value_counts().items()},
        "team": _counts(data.team) if n_team else None, "corpora": _counts(data.corpus_part)}
    model.versions_ = _versions()
    return model


def _figures(data, frame, model, plan, notes, n_team, team_weight, stages) -> dict:
    """The document figures (and the team's), with the bigram names recorded on ``model``."""
    model.bigram_names_ = record_bigram_names(model, frame.loc[np.isfinite(frame["target"]), "text"])
    overall, corpora = _document_figures(model, data.team_ids)
    metrics = {"document": overall, "notes": notes,
               "corpora": {"articles": {k: int(v) for k, v in frame.loc[~frame["team"], "corpus"].value_counts()
                                        .sort_index().items()}, "document": corpora}}
    stages("document checks: grouped figures, PolNeAR mainstream and Wikipedia score distributions")
    metrics["checks"] = {"grouped": grouped_figures(model.oof_) | {"folds": int(model.cv)},
                         "genres": genre_checks(model, data.corpus_part.articles)}
    if n_team:
        metrics["team"] = _team_summary(data, frame, team_weight, plan)
        metrics["team"]["document"] = _team_check(model, frame, plan, stages)
    return metrics


def _counts(dataset: Dataset) -> dict:
    """:meth:`Dataset.summary` and the number of rated articles."""
    docs = dataset.documents[~dataset.documents["cancelled"]].dropna(subset=["framing_risk"])
    return dataset.summary() | {"rated_articles": int(docs["article_id"].nunique())}


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("annotator", "scikit-learn", "numpy", "scipy", "pandas", "skops"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out
