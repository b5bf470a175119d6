"""A project's tasks on the server, keyed by ``data.article_id``: list them, import new ones exactly once.

Label Studio does not de-duplicate imports, so every task carries the article
id in its data and only missing ids are imported; after an import whose fate is
unknown (timeout, 5xx) the project is listed again before anything is re-sent.
"""
from __future__ import annotations

from typing import NamedTuple

from .errors import StudioError

__all__ = ["KnownTask", "existing_tasks", "import_tasks"]


class KnownTask(NamedTuple):
    """A task already in the project."""

    task_id: int | None
    #: model versions of its predictions
    versions: set[str]
    #: the task's ``data`` (text and article metadata)
    data: dict


class _TaskPage(NamedTuple):
    tasks: list
    total: int


def _task_page(studio, project_id: int, page: int, page_size: int) -> _TaskPage | None:
    from label_studio_sdk.core.api_error import ApiError  # lazy: the SDK loads in seconds

    try:
        pager = studio.sdk.tasks.list(project=project_id, page=page, page_size=page_size, fields="all",
                                      include="id,data,predictions_model_versions")
    except ApiError as exc:
        if exc.status_code == 404:  # past the last page
            return None
        raise
    return _TaskPage(list(pager.items or []), int(getattr(pager.response, "total", 0) or 0))


def existing_tasks(studio, project_id: int, *, page_size: int = 1000) -> dict[str, KnownTask]:
    """``{article_id: KnownTask(task_id, prediction model versions, data)}`` for a project's tasks.

    Tasks without ``data.article_id`` are keyed ``task-<id>``; ``studio`` is an
    :class:`annotator.studio.client.Studio`.
    """
    out = {}
    page = 1
    while True:
        body = studio.call("list tasks", _task_page, studio, project_id, page, page_size)
        tasks = body.tasks if body is not None else []
        for t in tasks:
            data = t.data or {}
            key = data.get("article_id")
            key = str(key) if key is not None else f"task-{t.id}"
            versions = {v.strip() for v in str(t.predictions_model_versions or "").split(",") if v.strip()}
            out.setdefault(key, KnownTask(t.id, versions, data))
        if body is None or len(tasks) < page_size or page * page_size >= body.total:
            break
        page += 1
    return out


def import_tasks(studio, project_id: int, tasks: list[dict]) -> dict[str, int]:
    """Import ``tasks`` (each with ``data.article_id``); ``{article_id: task id}`` of those now in the project."""
    keys = [t["data"]["article_id"] for t in tasks]
    try:
        res = studio.call("import tasks", studio.sdk.projects.import_tasks, id=project_id, request=tasks,
                          return_task_ids=True, retry=False)
        ids = list(res.task_ids or [])
        if len(ids) != len(tasks):
            raise StudioError(f"import returned {len(ids)} task ids for {len(tasks)} tasks")
        return dict(zip(keys, ids))
    except StudioError:
        # Unknown whether the import landed (timeout, 5xx): never import twice. Look at
        # what is there now and import only the missing tasks, with backoff.
        return _import_missing(studio, project_id, tasks, keys)


def _import_missing(studio, project_id: int, tasks: list[dict], keys: list[str]) -> dict[str, int]:
    for attempt in range(studio.retries):
        studio.pause(attempt)
        now = existing_tasks(studio, project_id)
        missing = [t for t in tasks if t["data"]["article_id"] not in now]
        try:
            if missing:
                studio.call("import tasks", studio.sdk.projects.import_tasks, id=project_id, request=missing,
                            return_task_ids=False, retry=False)
            now = existing_tasks(studio, project_id)
            return {k: now[k].task_id for k in keys if k in now}
        except StudioError:
            if attempt == studio.retries - 1:
                raise
    raise StudioError(f"import into project {project_id} failed after {studio.retries} tries")
