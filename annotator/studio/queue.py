"""The review queue: informativeness stored as each unlabelled task's prediction score, and a saved tab ordered by it.

:func:`refresh_queue` scores every unlabelled task of a project
(:func:`~annotator.studio.informativeness.informativeness`), replaces its predictions by one
prediction of the model (spans, rating) whose ``score`` is the model's *confidence*,
``1 - informativeness`` (the meaning push and the ML backend give it too, so the order is right
before the first refresh), and creates or refreshes one saved Data Manager tab,
:data:`TAB_TITLE`: unlabelled tasks only, lowest score first. Storing the confidence rather than
the informativeness keeps Label Studio's own meaning of the score: its "Uncertainty sampling"
(``projects/functions/next_task.py``: lowest prediction score first) serves the same order as the
tab. Label Studio counts only predictions whose ``model_version`` is the project's
``model_version``, so the project's is set to the one written (by default the model's).

The tab shows the article's title, id, date and outlet, the prediction score it is ordered by
and the model version that wrote it; Label Studio's other columns are hidden.

Predictions are replaced through the Data Manager action ``delete_tasks_predictions`` on the
unlabelled tasks and one bulk ``import_predictions``: two requests whatever the number of tasks,
and exactly one prediction per unlabelled task afterwards. Labelled tasks are not touched.
"""
from __future__ import annotations

import json

import pandas as pd

from ..cues.operating import apply_cutoffs, span_cutoffs
from ..taxonomy import load_taxonomy
from .errors import StudioError
from .informativeness import confidence, scored_informativeness
from .predictions import build_prediction
from .task_data import METADATA

__all__ = ["refresh_queue", "queue_view", "unlabelled_tasks", "TAB_TITLE", "QUEUE_COLUMNS"]

TAB_TITLE = "Most informative first"
QUEUE_COLUMNS = ["rank", "task_id", "article_id", "informativeness", "score", "span", "document", "disagreement",
                 "risk", "band", "reason"]
_UNLABELLED = {"conjunction": "and", "items": [{"filter": "filter:tasks:total_annotations", "operator": "equal",
                                                 "type": "Number", "value": 0}]}
#: Label Studio 1.23's task columns (``GET /api/dm/columns``) besides the data fields.
_TASK_COLUMNS = ("id", "inner_id", "completed_at", "total_annotations", "cancelled_annotations", "total_predictions",
                 "annotators", "annotations_results", "annotations_ids", "predictions_score",
                 "predictions_model_versions", "predictions_results", "file_upload", "storage_filename", "created_at",
                 "updated_at", "updated_by", "avg_lead_time", "draft_exists")
#: The columns the tab shows (a tab saved without ``hiddenColumns`` shows all of them, the score far
#: off to the right): in the table, the article and the score it is ordered by; in the labeling
#: stream's task list, title and score.
_SHOWN = {"explore": ("id", "data.title", "data.article_id", "data.date", "data.outlet", "total_predictions",
                      "predictions_score", "predictions_model_versions"),
          "labeling": ("data.title", "predictions_score")}


def _project(client, project):
    """The project object for a title, an id or a project object."""
    if isinstance(project, int):
        return client.call("get project", client.sdk.projects.get, project)
    if isinstance(project, str):
        return client.get_project(project)
    return project


def unlabelled_tasks(client, project_id: int, text_field: str, *, page_size: int = 1000) -> pd.DataFrame:
    """``task_id``, ``article_id``, ``text`` of the project's tasks with no annotation, in id order."""
    rows, page = [], 1
    while True:
        pager = client.call("list tasks", client.sdk.tasks.list, project=project_id, page=page, page_size=page_size,
                            fields="all", include="id,data,total_annotations,cancelled_annotations",
                            query=json.dumps({"filters": _UNLABELLED}))
        items = list(pager.items or [])
        for t in items:
            data = t.data or {}
            if int(t.total_annotations or 0) == 0 and int(t.cancelled_annotations or 0) == 0:
                rows.append({"task_id": int(t.id), "article_id": str(data.get("article_id", f"task-{t.id}")),
                             "text": str(data.get(text_field, ""))})
        total = int(getattr(pager.response, "total", 0) or 0)
        if len(items) < page_size or page * page_size >= total:
            break
        page += 1
    return pd.DataFrame(rows, columns=["task_id", "article_id", "text"]).sort_values("task_id", ignore_index=True)


def _hidden_columns(text_field: str) -> dict:
    columns = [*_TASK_COLUMNS, "data", *(f"data.{k}" for k in (text_field, *METADATA, "article_id", "scope"))]
    return {mode: [f"tasks:{c}" for c in columns if c not in shown] for mode, shown in _SHOWN.items()}


def queue_view(client, project_id: int, text_field: str = "text"):
    """Create the saved tab :data:`TAB_TITLE` or bring the one there up to date (extra copies are deleted)."""
    data = {"title": TAB_TITLE, "ordering": ["tasks:predictions_score"], "filters": _UNLABELLED,
            "hiddenColumns": _hidden_columns(text_field)}
    views = [v for v in client.call("list tabs", client.sdk.views.list, project=project_id)
             if (v.data or {}).get("title") == TAB_TITLE]
    for extra in views[1:]:
        client.call("delete tab", client.sdk.views.delete, str(extra.id))
    if views:
        return client.call("update tab", client.sdk.views.update, str(views[0].id), data=data, project=project_id)
    return client.call("create tab", client.sdk.views.create, data=data, project=project_id, retry=False)


def _predictions(tasks, scored, frame, model_version, taxonomy, unit, cutoffs) -> list:
    """One prediction per task, as push builds it: the operating point's spans, the rating, the confidence."""
    out = []
    for task_id, text, spans, risk, band, info in zip(tasks["task_id"], tasks["text"], scored["spans"],
                                                      scored["risk"], scored["band"], frame["informativeness"]):
        p = build_prediction(text, apply_cutoffs(spans, cutoffs), model_version, taxonomy, unit, risk=risk, band=band,
                             score=confidence(info))
        p.update(task=int(task_id))
        out.append(p)
    return out


def refresh_queue(client, project, model, *, model_version: str | None = None, unit: str = "codepoint",
                  taxonomy=None) -> pd.DataFrame:
    """Score the project's unlabelled tasks, store the scores, refresh the tab (module docstring).

    Parameters
    ----------
    client : Studio
        :func:`annotator.studio.connect`'s client.
    project : str, int or project object
        The project's title or id.
    model : FramingModel
        The model in service (after a retrain, the new one).
    model_version : str, optional
        The predictions' ``model_version`` (default ``model.model_version``); the project's
        ``model_version`` is set to it, so that Label Studio orders by these scores.
    unit : str
        Offset unit of the server (see :mod:`annotator.studio.offsets`).

    Returns
    -------
    DataFrame
        :data:`QUEUE_COLUMNS`, most informative first (``rank`` 1): what the tab serves.
        ``attrs["view_id"]`` is the tab's id.
    """
    taxonomy = taxonomy or load_taxonomy()
    proj = _project(client, project)
    version = str(model_version or model.model_version)
    tasks = unlabelled_tasks(client, proj.id, taxonomy.text_field)
    out = pd.DataFrame(columns=QUEUE_COLUMNS)
    if len(tasks):
        articles = pd.DataFrame({"id": tasks["article_id"], "text": tasks["text"]})
        scored, frame = scored_informativeness(model, articles)
        ids = tasks["task_id"].tolist()
        client.call("delete predictions", client.sdk.actions.create, id="delete_tasks_predictions", project=proj.id,
                    selected_items={"all": False, "included": ids})
        preds = _predictions(tasks, scored, frame, version, taxonomy, unit, span_cutoffs(model.tagger_))
        client.call("import predictions", client.sdk.projects.import_predictions, id=proj.id, request=preds,
                    retry=False)
        out = frame.assign(task_id=ids, article_id=tasks["article_id"].tolist(),
                           score=[p["score"] for p in preds])
        out = out.sort_values(["score", "task_id"], ignore_index=True)
        out.insert(0, "rank", range(1, len(out) + 1))
        out = out[QUEUE_COLUMNS]
    if getattr(proj, "model_version", None) != version:
        client.call("set model version", client.sdk.projects.update, proj.id, model_version=version)
    view = queue_view(client, proj.id, taxonomy.text_field)
    if view is None:
        raise StudioError(f"project {proj.id}: Label Studio did not return the {TAB_TITLE!r} tab")
    out.attrs.update({"view_id": int(view.id), "project_id": int(proj.id), "model_version": version})
    return out
