"""One training job, run in its own process: pull the project, fit on its annotations and the base corpora, save.

``python -m annotator.backend.job SPEC.json`` (started by :class:`annotator.backend.trainer.Trainer`):
the spec names the Label Studio URL and project, the model file to write, the result file and the
training options; the API key comes in the environment (``LABEL_STUDIO_API_KEY``), never on the
command line. The model is written through :func:`annotator.model.files.save_skops` (atomic), then
the result JSON (atomic); the server lists the model in the registry only after reading the
result. The job ends itself when its server dies (a watchdog on the parent pid), so a killed
server leaves at most a temporary file, which the next start sweeps away.

Exit status: 0 trained (or nothing to train on: ``status`` says), 3 Label Studio unreachable,
1 anything else (``message`` in the result file says what).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

from ..corpora import PUBLIC_CORPORA
from ..errors import AnnotatorError
from ..io import write_json_atomic
from ..model.files import load_model, save_skops
from ..studio.client import connect
from ..studio.errors import StudioError
from ..studio.files import read_json
from ..studio.pull import pull
from ..studio.rest import is_up
from ..training.retrain import BUDGET_CHARS, retrain

__all__ = ["run_job", "main", "UNREACHABLE"]

#: Exit status of a job that could not reach Label Studio (the server retries it with backoff).
UNREACHABLE = 3
#: How much the job lowers its CPU priority (``nice``): predictions meanwhile stay fast.
JOB_NICENESS = 10


def _fit_new_model(base_path, dataset, options: dict):
    """The one place a retrain is fitted: ``(model, report)``.

    :func:`annotator.training.retrain.retrain` from the served base model (``base_path``; ``None``:
    the shipped one) on the pulled dataset and a sample of the base corpora (``budget_chars``
    characters in all), the team weighted; ``report`` holds its counts, held-out figures and notes.
    """
    out = retrain(load_model(base_path), dataset, base_corpora=tuple(options.get("base_corpora") or PUBLIC_CORPORA),
                  budget_chars=int(options.get("budget_chars") or BUDGET_CHARS), data_dir=options.get("data_dir"),
                  progress=lambda line: print(line, file=sys.stderr, flush=True))
    return out.model, {"counts": out.counts, "held_out": out.held_out, "notes": out.notes,
                       "fit_seconds": out.seconds, "base_version": out.base_version}


def _watch_parent(parent: int) -> None:
    """End this process when the server that started it is gone (killed: no cleanup runs there)."""
    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(70)
            time.sleep(0.5)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _counts(dataset) -> dict:
    docs = dataset.documents[~dataset.documents["cancelled"]]
    annotated = set(docs["article_id"]) | set(dataset.spans["article_id"])
    return {"tasks": int(len(dataset.articles)), "annotated_articles": int(len(annotated)),
            "documents": int(len(docs)), "spans": int(len(dataset.spans)),
            "rated": int(docs["framing_risk"].notna().sum()) if "framing_risk" in docs else 0}


def run_job(spec: dict) -> dict:
    """Run the job ``spec`` describes and return its result (also written to ``spec["result"]``)."""
    started = time.monotonic()
    result = {"project_id": spec["project_id"], "version": spec["version"]}
    try:
        studio = connect(spec["url"], os.environ.get("LABEL_STUDIO_API_KEY"), timeout=spec.get("timeout", 60))
        title = studio.call("get project", studio.sdk.projects.get, int(spec["project_id"])).title
        dataset = pull(title, studio=studio)
    except StudioError as exc:  # a refusal (unknown project, bad key) is final; a server that is down is retried
        result.update(status="failed" if is_up(spec["url"], timeout=5) else "unreachable", message=str(exc))
        return result
    counts = _counts(dataset)
    result.update(project_title=title, counts=counts)
    if not counts["annotated_articles"]:
        result.update(status="skipped", message="the project has no submitted annotation yet")
        return result
    model, report = _fit_new_model(spec.get("base_model"), dataset, spec.get("options") or {})
    model.model_version = spec["version"]
    save_skops(model, spec["out"])
    result.update(status="ok", counts={**counts, **report.pop("counts", {})}, figures=report,
                  seconds=round(time.monotonic() - started, 1), file=str(Path(spec["out"]).name))
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec_path = Path(argv[0])
    spec = read_json(spec_path)
    _watch_parent(int(spec.get("parent_pid") or os.getppid()))
    os.nice(JOB_NICENESS)  # background work: the server's predictions get the cores first
    try:
        result = run_job(spec)
    except (AnnotatorError, OSError, ValueError) as exc:
        result = {"project_id": spec.get("project_id"), "version": spec.get("version"), "status": "failed",
                  "message": str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}
    except Exception as exc:  # a bug: the traceback goes to the job log, one line to the registry
        traceback.print_exc()
        result = {"project_id": spec.get("project_id"), "version": spec.get("version"), "status": "failed",
                  "message": f"{exc.__class__.__name__}: {str(exc)[:200]} (traceback in the job log)"}
    write_json_atomic(spec["result"], result)
    return {"ok": 0, "skipped": 0, "unreachable": UNREACHABLE}.get(result["status"], 1)


if __name__ == "__main__":
    sys.exit(main())
