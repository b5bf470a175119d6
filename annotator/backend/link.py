"""The backend as Label Studio sees it: connecting it to a project, and renaming it when a new model is served.

Label Studio 1.23 shows predictions in the labeling stream only when the project's
``model_version`` equals the ML backend's **title**, and re-predicts a task only when its
predictions lack the version ``/setup`` reports. So the backend's title *is* the served model
version: :func:`connect_project` creates (or updates) the project's ML backend with the title the
backend serves now, and :func:`rename_backend` moves the title to a new version after a retrain
(Label Studio moves ``project.model_version`` along when it was the old title), so the next task
opened in the stream gets a prediction from the new model.
"""
from __future__ import annotations

from typing import NamedTuple

from ..studio.errors import StudioError

__all__ = ["BackendAuth", "backend_version", "connect_project", "rename_backend"]


class BackendAuth(NamedTuple):
    """Basic auth of a backend (Label Studio supports none or basic auth)."""

    user: str
    password: str


def backend_version(url: str, project_id: int, auth: BackendAuth | None = None, timeout: float = 10) -> str:
    """The version the backend at ``url`` serves ``project_id`` (its ``/versions``)."""
    import httpx  # lazy: only the studio commands talk HTTP

    try:
        r = httpx.get(url.rstrip("/") + "/versions", params={"project": project_id}, timeout=timeout,
                      auth=tuple(auth) if auth else None, trust_env=False)
    except httpx.HTTPError as exc:
        raise StudioError(f"cannot reach the annotator backend at {url} ({exc.__class__.__name__}): "
                          "start it with 'annotator backend serve' or 'annotator studio up'") from None
    if r.status_code == 401:
        raise StudioError(f"the annotator backend at {url} refused the credentials (401): check "
                          "ANNOTATOR_BACKEND_USER / ANNOTATOR_BACKEND_PASSWORD")
    try:
        return str(r.json()["current"])
    except (ValueError, KeyError, TypeError):
        raise StudioError(f"{url} is not an annotator backend (GET /versions: HTTP {r.status_code})") from None


def _backends(studio, project_id: int) -> list:
    return list(studio.call("list ML backends", studio.sdk.ml.list, project=project_id) or [])


def connect_project(studio, project_id: int, url: str, *, auth: BackendAuth | None = None) -> dict:
    """Connect the backend at ``url`` to the project (create or update: idempotent) and turn on
    predictions in the labeling stream (``show_collab_predictions``, ``model_version`` = the title).

    Returns ``{"ml_backend": id, "title": version, "created": bool}``.
    """
    url = url.rstrip("/")
    title = backend_version(url, project_id, auth)
    extra = {"auth_method": "BASIC_AUTH", "basic_auth_user": auth.user, "basic_auth_pass": auth.password} \
        if auth else {"auth_method": "NONE"}
    same = [ml for ml in _backends(studio, project_id) if str(ml.url or "").rstrip("/") == url]
    if same:
        ml = studio.call("update ML backend", studio.sdk.ml.update, same[0].id, url=url, project=project_id,
                         title=title, is_interactive=False, **extra)
        created = False
    else:
        ml = studio.call("connect ML backend", studio.sdk.ml.create, project=project_id, url=url, title=title,
                         is_interactive=False, **extra, retry=False)
        created = True
    state = str(getattr(ml, "state", "") or "")
    if state in ("ER", "DI"):
        why = getattr(ml, "error_message", None) or "see the backend log"
        raise StudioError(f"Label Studio cannot use the backend at {url} (state {state}): {str(why)[:300]}. "
                          "A backend on 127.0.0.1 needs ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false "
                          "in Label Studio's environment ('annotator studio up' sets both)")
    studio.call("turn on predictions", studio.sdk.projects.update, project_id, show_collab_predictions=True,
                model_version=title)
    return {"ml_backend": ml.id, "title": title, "created": created}


def rename_backend(studio, project_id: int, old: str, new: str) -> int:
    """Retitle the project's ML backends titled ``old`` to ``new``; how many were renamed."""
    n = 0
    for ml in _backends(studio, project_id):
        if ml.title == old:
            studio.call("rename ML backend", studio.sdk.ml.update, ml.id, url=ml.url, project=project_id, title=new)
            n += 1
    project = studio.call("get project", studio.sdk.projects.get, project_id)
    if n and project.model_version != new and project.show_collab_predictions:
        studio.call("follow the new model", studio.sdk.projects.update, project_id, model_version=new)
    return n

