"""``pull``: a project's annotations -> a :class:`annotator.dataset.Dataset`, through the snapshot export API."""
from __future__ import annotations

import json
import os
import time
import warnings

from ..dataset import Dataset, write_dataset
from ..taxonomy import TaxonomyError, parse_taxonomy
from .client import Studio, connect
from .errors import StudioError, StudioWarning
from .files import utc_now
from .tables import tasks_to_dataset

__all__ = ["export_tasks", "pull"]


def export_tasks(studio: Studio, project_id: int, *, timeout: float = 900, keep: bool = False) -> list[dict]:
    """All tasks of a project as full Label Studio JSON, through the snapshot export API.

    Annotations carry ``completed_by`` as ``{id, email, ...}``; predictions and
    drafts are ids only. The snapshot is deleted from the server afterwards
    unless ``keep``.
    """
    sdk = studio.sdk
    exp = studio.call("create export", sdk.projects.exports.create, project_id,
                      title=f"annotator pull {utc_now()}",
                      serialization_options={"predictions": {"only_id": True}, "drafts": {"only_id": True},
                                             "annotations__completed_by": {"only_id": False}},
                      # without a job queue Label Studio builds the snapshot inside this request
                      request_options={"timeout_in_seconds": max(studio.timeout, timeout)},
                      retry=False)
    _wait_for_export(studio, project_id, exp.id, timeout)

    def download():
        return b"".join(sdk.projects.exports.download(project_id, exp.id, export_type="JSON",
                                                      request_options={"timeout_in_seconds": max(studio.timeout, 300)}))

    raw = studio.call("download export", download)
    if not keep:
        try:
            studio.call("delete export", sdk.projects.exports.delete, project_id, exp.id, retry=False)
        except StudioError:
            pass
    try:
        return json.loads(raw)
    except ValueError:
        raise StudioError(f"Label Studio sent an export of project {project_id} that is not JSON") from None


def _wait_for_export(studio: Studio, project_id: int, export_id: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        st = studio.call("export status", studio.sdk.projects.exports.get, project_id, export_id)
        status = str(getattr(st, "status", "") or "")
        if status == "completed":
            return
        if status == "failed":
            raise StudioError(f"Label Studio could not export project {project_id} (export {export_id} failed): "
                              "see the server log")
        if time.monotonic() > deadline:
            raise StudioError(f"export of project {project_id} not ready after {timeout:.0f} s: retry later")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def pull(project: str, out: str | os.PathLike | None = None, *, url: str | None = None, api_key: str | None = None,
         studio: Studio | None = None, offset_unit: str = "codepoint", data_dir=None,
         export_timeout: float = 900) -> Dataset:
    """Export a project through the snapshot API into a :class:`Dataset` (written atomically to ``out``).

    * ``articles``: one row per task (text and metadata from the task data;
      ``corpus`` is the project title; tasks without ``article_id`` get
      ``task-<id>``), annotated or not.
    * ``documents``: one row per (task, annotator): the annotator's email (or
      user id), framing-risk rating, ``lead_time``, ``created_at``,
      ``updated_at``, ``cancelled`` (a skipped annotation: no rating, no spans).
      When one user has several annotations on a task, the latest wins.
      Drafts (unsubmitted work) are excluded; ``meta["drafts_excluded"]``
      counts them.
    * ``spans``: one row per labelled region of a submitted annotation, with
      the reliability choice of the same region id. Offsets are Python
      indices; ``text`` is the article text at them. Spans whose text stored by
      Label Studio differs (whitespace aside) are listed in
      ``meta["span_mismatches"]`` (:func:`span_mismatches` gives a DataFrame)
      and reported with a :class:`StudioWarning`.

    The label roles come from the project's own config, so a pull works even if
    our ``framing.xml`` has moved on. A re-pull replaces ``out``.
    """
    studio = studio or connect(url, api_key, data_dir=data_dir)
    proj = studio.get_project(project)
    try:
        taxonomy = parse_taxonomy(proj.label_config or "", f"project {project!r} config")
    except TaxonomyError as exc:
        raise StudioError(f"project {project!r} at {studio.url} is not an annotator project: {exc}") from None
    tasks = export_tasks(studio, proj.id, timeout=export_timeout)
    meta = {"source": "label-studio", "url": studio.url, "project": project, "project_id": proj.id,
            "label_studio_version": studio.version, "pulled_at": utc_now(), "config_hash": taxonomy.config_hash}
    ds = tasks_to_dataset(tasks, taxonomy, project, unit=offset_unit, meta=meta)
    n = len(ds.meta["span_mismatches"])
    if n:
        first = ds.meta["span_mismatches"][0]
        warnings.warn(f"{n} span(s) whose stored text differs from the article at their offsets "
                      f"(first: article {first['article_id']} [{first['start']}, {first['end']}) "
                      f"{first['stored_text'][:40]!r} vs {first['article_text'][:40]!r}); "
                      "the dataset keeps the article text", StudioWarning, stacklevel=2)
    if out is not None:
        write_dataset(ds, out)
    return ds
