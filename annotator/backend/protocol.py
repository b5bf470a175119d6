"""Label Studio's ML backend protocol: request bodies checked (a one-line reason when malformed), responses built.

What Label Studio 1.23.2 sends (``label_studio/ml/api_connector.py``):

* ``POST /setup``: ``{project: "<id>.<created ts>", schema: <label config XML>, hostname, access_token,
  extra_params}``, answered ``{model_version}``;
* ``POST /predict``: ``{tasks: [task JSON], project, label_config, params}``, answered
  ``{results: [{result, score, model_version}]}``, exactly one per task, in order (a count mismatch
  drops them all);
* ``POST /webhook``: ``{action, project: {id, title...}, task, annotation}`` for every event, and
  ``{action: "START_TRAINING", project: {...}}`` for "Start training".

Predictions are built as ``annotator push`` builds them (:func:`annotator.studio.preannotate.preannotate`
and :func:`annotator.studio.predictions.build_prediction`): spans with per-region scores, the
reliability pre-fill, the framing-risk rating from the band (the risk in its note), score = the
model's confidence, 1 - informativeness (the queue's meaning).
"""
from __future__ import annotations

import json
import re
from typing import NamedTuple

from ..errors import AnnotatorError
from ..studio.predictions import build_prediction
from ..studio.preannotate import preannotate
from ..studio.projects import compare_configs
from ..taxonomy import Taxonomy

__all__ = ["BadRequest", "parse_json", "project_id", "SetupRequest", "parse_setup", "PredictRequest",
           "parse_predict", "WebhookEvent", "parse_webhook", "TRAINING_ACTIONS", "predict_results", "check_config"]

#: Webhook actions that queue a retrain (the others are acknowledged and ignored).
TRAINING_ACTIONS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED",
                              "ANNOTATIONS_DELETED", "ANNOTATION_DELETED", "START_TRAINING"})


class BadRequest(AnnotatorError):
    """A request the backend refuses with 400 and this one-line reason."""


class SetupRequest(NamedTuple):
    project_id: int
    schema: str
    hostname: str | None
    access_token: str | None


class PredictRequest(NamedTuple):
    project_id: int | None
    tasks: list
    texts: list


class WebhookEvent(NamedTuple):
    action: str
    project_id: int | None
    project_title: str | None


def parse_json(body: bytes) -> dict:
    """The JSON object in ``body``; :class:`BadRequest` otherwise."""
    if not body:
        raise BadRequest("empty body: expected a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(data, dict):
        raise BadRequest(f"body is a JSON {type(data).__name__}, expected an object")
    return data


def project_id(value, field: str = "project") -> int | None:
    """A project id from Label Studio's ``"<id>.<created ts>"``, an int, or a project object with ``id``."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        raise BadRequest(f"{field} is not a project id: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (m := re.fullmatch(r"(\d+)(?:\.\d+)?", value.strip())):
        return int(m.group(1))
    raise BadRequest(f"{field} is not a project id: {str(value)[:40]!r}")


def parse_setup(data: dict) -> SetupRequest:
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.strip():
        raise BadRequest("setup needs 'schema', the project's label config XML")
    pid = project_id(data.get("project"))
    if pid is None:
        raise BadRequest("setup needs 'project' (\"<id>.<created ts>\")")
    return SetupRequest(pid, schema, data.get("hostname") or None, data.get("access_token") or None)


def check_config(ours: Taxonomy, schema: str) -> None:
    """:class:`BadRequest` spelling out how ``schema`` differs from the label set the model serves."""
    diffs, _cosmetic = compare_configs(ours, schema)
    if diffs:
        raise BadRequest("this label config cannot be served by the annotator model: " + "; ".join(diffs))


def parse_predict(data: dict, text_field: str) -> PredictRequest:
    """The tasks and their article texts (``data[text_field]``); :class:`BadRequest` naming the first bad task."""
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise BadRequest("predict needs 'tasks', a non-empty list of tasks")
    texts = []
    for i, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise BadRequest(f"task {i} has no 'data' object")
        text = task["data"].get(text_field)
        if not isinstance(text, str):
            raise BadRequest(f"task {i} (id {task.get('id')}) has no text in data.{text_field}")
        texts.append(text)
    return PredictRequest(project_id(data.get("project")), tasks, texts)


def parse_webhook(data: dict) -> WebhookEvent:
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise BadRequest("webhook needs 'action', the event name")
    proj = data.get("project")
    title = proj.get("title") if isinstance(proj, dict) else None
    pid = project_id(proj)
    if pid is None and isinstance(data.get("task"), dict):
        pid = project_id(data["task"].get("project"), "task.project")
    if pid is None and action in TRAINING_ACTIONS:
        raise BadRequest(f"webhook {action} names no project")
    return WebhookEvent(action, pid, title if isinstance(title, str) else None)


def predict_results(model, version: str, texts: list[str], taxonomy: Taxonomy) -> list[dict]:
    """One prediction per text, in order, as ``annotator push`` builds them, with ``model_version`` = ``version``."""
    keep = [i for i, t in enumerate(texts) if t.strip()]
    pres = dict(zip(keep, preannotate(model, [texts[i] for i in keep]))) if keep else {}
    out = []
    for i, text in enumerate(texts):
        pre = pres.get(i)
        if pre is None:  # an empty article: nothing to predict, still one item for the task
            out.append({"result": [], "model_version": version})
            continue
        out.append(build_prediction(text, pre.spans, version, taxonomy, risk=pre.risk, band=pre.band, score=pre.score))
    return out
