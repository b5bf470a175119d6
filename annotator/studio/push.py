"""``push``: articles -> tasks with pre-annotations in a Label Studio project, idempotently.

Tasks are keyed by ``data.article_id`` (:mod:`annotator.studio.tasks`): a new
article becomes a task (data from :mod:`.task_data`) with the pre-annotator's
prediction (:mod:`.preannotate`, :mod:`.predictions`); an existing task gets a
prediction only when the ``model_version`` is new to it; annotations are never
touched. An article out of the model's scope (:mod:`annotator.articles.scope`: not
English news prose) becomes a task without a prediction, its data field ``scope``
saying why (shown under the title and as a Data Manager column).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
from tqdm.auto import tqdm

from ..articles import iter_articles
from ..articles.scope import scope_reasons
from ..errors import AnnotatorError
from ..taxonomy import Taxonomy, load_taxonomy
from .client import Studio, connect
from .preannotate import Preannotation, preannotate, version_suffix
from .predictions import build_prediction
from .task_data import json_value, task_data
from .tasks import KnownTask, existing_tasks, import_tasks

__all__ = ["push", "PushRow", "SUMMARY_COLUMNS", "scope_note"]

SUMMARY_COLUMNS = ["article_id", "task_id", "status", "detail"]


def scope_note(reason: str) -> str:
    """The ``scope`` data field of an out-of-scope task: why it has no pre-annotation and no score."""
    return (f"Out of scope ({reason}): no pre-annotation and no risk score; the framing model reads "
            f"English news prose only.")


class PushRow(NamedTuple):
    """One row of the push summary (``status``: created, existing, updated or error)."""

    article_id: str | None
    task_id: int | None
    status: str
    detail: str


class _Update(NamedTuple):
    """An existing task that gets a prediction of the new model version."""

    article_id: str
    task_id: int
    text: str


@dataclass
class _Push:
    """What one push writes where, and what it has seen so far."""

    studio: Studio
    project_id: int
    taxonomy: Taxonomy
    tagger: object
    model_version: str | None
    unit: str
    known: dict[str, KnownTask]
    seen: set[str] = field(default_factory=set)
    spans: dict = field(default_factory=dict)  # min_score / all_candidates for preannotate
    scope_check: bool = True


@dataclass
class _ChunkPlan:
    """A chunk sorted out: finished rows (``None`` where a server call decides), new articles, updates."""

    rows: list
    new: list = field(default_factory=list)
    new_pos: list[int] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    update_pos: list[int] = field(default_factory=list)


def push(articles, project: str, *, tagger=None, url: str | None = None, api_key: str | None = None,
         studio: Studio | None = None, taxonomy: Taxonomy | None = None, chunk_size: int = 1000,
         progress: bool = True, offset_unit: str = "codepoint", data_dir=None, min_score=None,
         all_candidates=False, scope_check: bool = True) -> pd.DataFrame:
    """Import articles into the Label Studio project ``project`` as tasks with pre-annotations.

    Parameters
    ----------
    articles : DataFrame, path(s) or iterable of DataFrames
        A frame in the :mod:`annotator.articles` shape (``id``/``article_id``,
        ``text``, ``title``, ``date``, ``outlet``, ``url``, ``error``), or inputs
        for :func:`annotator.articles.iter_articles`. Rows with ``error`` set are
        reported (status ``error``) and not pushed.
    project : str
        Project title; created from ``taxonomy`` when missing. An existing
        project must have the same label set (else :class:`StudioError`).
    tagger : object, optional
        The pre-annotator (:mod:`annotator.studio.preannotate`): a framing model
        (:func:`annotator.model.load_model`; spans, the reliability its rule gives
        anonymous sources, the framing-risk rating from its band, score = the
        model's confidence, 1 - informativeness) or a cue tagger, anything with ``model_version`` and ``tag(texts) -> list of
        span dicts`` (:func:`annotator.model.load_tagger`, ``RulesTagger``; spans
        and reliability, no rating, no score). Each new task gets a prediction;
        existing tasks without a prediction of this ``model_version`` get one
        added (annotations are never touched). ``None``: no predictions.
    studio, url, api_key, data_dir :
        The server: a :class:`Studio`, or what :func:`resolve_connection` takes.
    chunk_size : int
        Tasks per ``import_tasks`` call.
    min_score, all_candidates :
        Which spans pre-annotate: by default those at or above the tagger's operating point
        (per-label thresholds of stated held-out precision); ``min_score``: one threshold for
        every label; ``all_candidates``: every candidate. Each region carries its score. Other
        than the default, the predictions' ``model_version`` says so (``@all-candidates``).
    scope_check : bool
        Articles that are not English news prose (:func:`annotator.articles.scope.check_scope`)
        become tasks with no prediction and a ``scope`` data field saying why (the
        summary's ``detail`` too). False pre-annotates every article.

    Returns
    -------
    pandas.DataFrame
        ``article_id, task_id, status, detail, project_id`` with status ``created``
        (new task), ``existing`` (already there, nothing to add), ``updated``
        (prediction of a new model version added) or ``error`` (bad input row,
        duplicate id; ``detail`` says why).

    Idempotent: tasks are keyed by ``data.article_id``; pushing the same
    articles again creates no task.
    """
    taxonomy = taxonomy or load_taxonomy()
    studio = studio or connect(url, api_key, data_dir=data_dir)
    proj, created = studio.ensure_project(project, taxonomy)
    version = (str(getattr(tagger, "model_version", "")) + version_suffix(min_score, all_candidates)
               if tagger is not None else None)
    run = _Push(studio, proj.id, taxonomy, tagger, version, offset_unit,
                {} if created else existing_tasks(studio, proj.id),
                spans={"min_score": min_score, "all_candidates": all_candidates}, scope_check=scope_check)
    rows: list[PushRow] = []
    total = len(articles) if isinstance(articles, pd.DataFrame) else None
    bar = tqdm(total=total, unit="article", desc=f"push {project}", disable=not progress, file=sys.stderr,
               leave=False)
    try:
        for chunk in _article_chunks(articles, chunk_size):
            rows.extend(_push_chunk(run, _normalise_articles(chunk)))
            bar.update(len(chunk))
    finally:
        bar.close()
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["task_id"] = out["task_id"].astype("Int64")
    out["project_id"] = pd.Series([proj.id] * len(out), dtype="Int64")
    out.attrs.update({"project_id": proj.id, "project": project, "url": studio.url, "created_project": created})
    return out


def _push_chunk(run: _Push, chunk: pd.DataFrame) -> list[PushRow]:
    """The summary rows of one chunk, in input order, after importing its new tasks and predictions."""
    plan = _plan_chunk(run, chunk)
    if plan.new:
        for pos, row in zip(plan.new_pos, _import_new(run, plan.new)):
            plan.rows[pos] = row
    if plan.updates:
        for pos, row in zip(plan.update_pos, _add_predictions(run, plan.updates)):
            plan.rows[pos] = row
    return plan.rows


def _plan_chunk(run: _Push, chunk: pd.DataFrame) -> _ChunkPlan:
    plan = _ChunkPlan(rows=[None] * len(chunk))
    for pos, rec in enumerate(chunk.itertuples(index=False)):
        aid = json_value(rec.article_id)
        aid = None if aid is None else str(aid)
        err = json_value(rec.error)
        if err:
            plan.rows[pos] = PushRow(aid, None, "error", str(err))
        elif aid is None or not isinstance(json_value(rec.text), str) or not rec.text:
            plan.rows[pos] = PushRow(aid, None, "error", "missing article id or text")
        elif aid in run.seen:
            known = run.known.get(aid)
            plan.rows[pos] = PushRow(aid, known.task_id if known is not None else None, "error",
                                     "duplicate article id in the input (first occurrence pushed)")
        else:
            run.seen.add(aid)
            known = run.known.get(aid)
            if known is None:
                plan.new.append(rec)
                plan.new_pos.append(pos)
            elif run.model_version and run.model_version not in known.versions:
                plan.updates.append(_Update(aid, known.task_id, known.data.get(run.taxonomy.text_field) or ""))
                plan.update_pos.append(pos)
            else:
                plan.rows[pos] = PushRow(aid, known.task_id, "existing", "")
    return plan


def _prediction(run: _Push, text: str, pre: Preannotation) -> dict:
    return build_prediction(text, pre.spans, run.model_version, run.taxonomy, run.unit, risk=pre.risk, band=pre.band,
                            score=pre.score)


def _task(run: _Push, rec, pre: Preannotation | None, reason: str | None) -> dict:
    """The task JSON of one article: its data (:func:`.task_data.task_data`, plus ``scope``: None, or why it
    is out of scope) and the prediction when pre-annotated."""
    task = {"data": {**task_data(rec, run.taxonomy.text_field), "scope": None if reason is None else scope_note(reason)}}
    if pre is not None:
        task["predictions"] = [_prediction(run, rec.text, pre)]
    return task


def _scope(run: _Push, texts: list) -> list:
    """Why each text is out of scope (None: in scope, or no check)."""
    return scope_reasons(texts) if run.scope_check else [None] * len(texts)


def _preannotations(run: _Push, texts: list, reasons: list) -> list:
    """The pre-annotation of each in-scope text (None for the others, and without a pre-annotator)."""
    pres = [None] * len(texts)
    todo = [i for i, r in enumerate(reasons) if r is None]
    if run.tagger is not None and todo:
        for i, pre in zip(todo, preannotate(run.tagger, [texts[i] for i in todo], **run.spans)):
            pres[i] = pre
    return pres


def _import_new(run: _Push, recs: list) -> list[PushRow]:
    texts = [r.text for r in recs]
    reasons = _scope(run, texts)
    pres = _preannotations(run, texts, reasons)
    tasks = [_task(run, rec, pre, reason) for rec, pre, reason in zip(recs, pres, reasons)]
    ids = import_tasks(run.studio, run.project_id, tasks)
    out = []
    for t, reason in zip(tasks, reasons):
        aid = t["data"]["article_id"]
        tid = ids.get(aid)
        run.known[aid] = KnownTask(tid, {run.model_version} if run.model_version and reason is None else set(),
                                   t["data"])
        detail = "" if reason is None else f"out of scope ({reason}): no prediction"
        out.append(PushRow(aid, tid, "created", detail) if tid is not None
                   else PushRow(aid, None, "error", "not imported"))
    return out


def _add_predictions(run: _Push, updates: list[_Update]) -> list[PushRow]:
    texts = [u.text for u in updates]
    reasons = _scope(run, texts)
    pres = _preannotations(run, texts, reasons)
    preds = []
    for u, pre in zip(updates, pres):
        if pre is not None:
            p = _prediction(run, u.text, pre)
            p["task"] = u.task_id
            preds.append(p)
    if preds:
        run.studio.call("import predictions", run.studio.sdk.projects.import_predictions, id=run.project_id,
                        request=preds, retry=False)
    rows = []
    for u, reason in zip(updates, reasons):
        if reason is not None:
            rows.append(PushRow(u.article_id, u.task_id, "existing", f"out of scope ({reason}): no prediction"))
            continue
        run.known[u.article_id].versions.add(run.model_version)
        rows.append(PushRow(u.article_id, u.task_id, "updated", f"prediction {run.model_version} added"))
    return rows


def _article_chunks(articles, chunk_size: int) -> Iterator[pd.DataFrame]:
    if isinstance(articles, pd.DataFrame):
        for i in range(0, len(articles), chunk_size):
            yield articles.iloc[i:i + chunk_size]
        return
    if isinstance(articles, (str, os.PathLike)):
        articles = [articles]
    articles = list(articles)
    if articles and all(isinstance(a, pd.DataFrame) for a in articles):
        for frame in articles:
            yield from _article_chunks(frame, chunk_size)
        return
    yield from iter_articles(articles, chunksize=chunk_size)


def _normalise_articles(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if "article_id" not in frame.columns:
        if "id" not in frame.columns:
            raise AnnotatorError("articles need an 'id' (or 'article_id') column")
        frame["article_id"] = frame["id"]
    for col in ("text", "title", "date", "outlet", "url", "error"):
        if col not in frame.columns:
            frame[col] = None
    return frame
