"""The demo: score the seeds with the shipped model, write both reports, push them to Label Studio with the ML backend."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .articles import read_articles, write_articles_jsonl
from .backend.link import connect_project
from .backend.serve import ServeOptions, start_background
from .model import load_model
from .paths import seed_texts
from .report import scoring_report, training_report
from .scoring import score
from .studio import LocalStudio, connect, push

__all__ = ["DemoResult", "run_demo", "DEMO_PROJECT"]

#: The Label Studio project the demo pushes the seeds to.
DEMO_PROJECT = "annotator demo"


@dataclass
class DemoResult:
    """What the demo made: the scores, the files written and, with the studio, where to look."""

    scores: pd.DataFrame
    files: dict = field(default_factory=dict)
    studio_url: str | None = None
    project_url: str | None = None


def _score_seeds(out: Path, echo) -> tuple:
    """Read and score the seeds; write ``spans.jsonl`` (as ``annotator tag`` writes) and ``scores.jsonl``."""
    articles = read_articles(seed_texts())
    model = load_model()
    scores = score(articles, model)
    tagged = scores.assign(status=scores["status"].replace({"scored": "tagged"}),
                           spans=[sp if isinstance(sp, list) else [] for sp in scores["spans"]])
    write_articles_jsonl(tagged[["id", "status", "reason", "spans", "error"]], out / "spans.jsonl")  # as `tag` writes
    write_articles_jsonl(scores, out / "scores.jsonl")
    echo(f"scored {len(scores)} seed articles with {model.model_version}: {out / 'scores.jsonl'} "
         f"(spans alone: {out / 'spans.jsonl'})")
    labels = [c[2:] for c in scores.columns if c.startswith("n_")]
    for row in scores.itertuples():
        counts = ", ".join(f"{getattr(row, 'n_' + lab)} {lab}" for lab in labels)
        echo(f"  {row.id}: risk {row.risk:5.1f} ({row.band}); {counts}")
    return articles, model, scores


def _push_seeds(articles, model, result: DemoResult, echo) -> None:
    """Start the local Label Studio and push the seeds with the model's pre-annotations."""
    local = LocalStudio()
    st = local.up()
    echo(f"Label Studio is up at {st['url']}; login and API token in {st['credentials']}")
    conn = connect(st["url"], (local.credentials() or {}).get("api_key"))  # the local server, whatever the env says
    summary = push(articles, DEMO_PROJECT, tagger=model, studio=conn)
    counts = summary["status"].value_counts().to_dict()
    pid = summary["project_id"].iloc[0] if "project_id" in summary else None
    result.studio_url = st["url"]
    result.project_url = f"{st['url']}/projects/{pid}" if pid is not None else st["url"]
    echo(f"pushed the seeds to project '{DEMO_PROJECT}' ({counts}); open " + result.project_url)
    if pid is not None:
        env = dict(os.environ, LABEL_STUDIO_API_KEY=(local.credentials() or {}).get("api_key") or "")
        backend = start_background(ServeOptions(studio_url=st["url"]), env=env)
        link = connect_project(conn, int(pid), backend["url"])
        echo(f"the annotator ML backend is up at {backend['url']}, connected to the project (serving "
             f"{link['title']}): tasks get live predictions, and it retrains on the annotations you submit")
    echo("stop the servers with: annotator studio down")


def run_demo(out_dir="out/demo", *, studio: bool = True, echo=print) -> DemoResult:
    """The main job on the embedded defaults: score the seeds, write the reports, push the seeds to Label Studio.

    Parameters
    ----------
    out_dir : path-like, default ``out/demo``
        Folder for ``spans.jsonl``, ``scores.jsonl``, ``training-report.html``, ``scores-report.html``
        (and their JSON summaries).
    studio : bool, default True
        Start the local Label Studio and push the seeds to the project :data:`DEMO_PROJECT` with the shipped
        model's pre-annotations.
    echo : callable, default print
        Called with each line of progress.

    Returns
    -------
    DemoResult
    """
    out = Path(out_dir)
    articles, model, scores = _score_seeds(out, echo)
    result = DemoResult(scores, {"spans": out / "spans.jsonl", "scores": out / "scores.jsonl",
                                 "training_report": out / "training-report.html",
                                 "scores_report": out / "scores-report.html"})
    training_report(model, result.files["training_report"])
    scoring_report(scores, result.files["scores_report"], articles=articles)
    echo(f"reports: {result.files['training_report']} and {result.files['scores_report']} "
         "(JSON summaries beside them)")
    if studio:
        _push_seeds(articles, model, result, echo)
    return result
