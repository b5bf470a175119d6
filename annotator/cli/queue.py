"""The ``queue`` command: score a project's unlabelled tasks, refresh the "Most informative first" tab, print its top."""
from __future__ import annotations

import click

from .studio import _studio_options

__all__ = ["queue_command"]


@click.command("queue", short_help="Refresh the review queue and print its top.")
@click.option("--project", required=True, help="Label Studio project title.")
@click.option("-n", "top", type=click.IntRange(min=1), default=20, show_default=True, help="Tasks to print.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="Framing model (.skops) that scores the tasks. Default: the shipped one.")
@click.option("--model-version", default=None,
              help="model_version of the predictions (default: the model's; the project's is set to it).")
@_studio_options
def queue_command(project, top, model_path, model_version, url, data_dir, timeout):
    """Score every unlabelled task of a project by how much its annotation would
    teach the model (spans near the threshold, a rating near a band edge, rules
    the learned tagger rejects), store the model's confidence (1 - that) as the
    task's prediction score, and refresh the saved tab "Most informative first"
    (unlabelled tasks, lowest score first). Then print the top of the queue with
    the reason for each. Idempotent: one tab, one prediction per unlabelled task.

    \b
    Examples:
      annotator queue --project "Week 12"
      annotator queue --project "Week 12" -n 5 --model models/retrained.skops
    """
    from ..model import load_model
    from ..studio import connect
    from ..studio.queue import TAB_TITLE, refresh_queue

    model = load_model(model_path)
    studio = connect(url, data_dir=data_dir, timeout=timeout)
    out = refresh_queue(studio, project, model, model_version=model_version)
    click.echo(f"annotator: project {project!r} at {studio.url}: {len(out)} unlabelled tasks scored with "
               f"{out.attrs['model_version']}; the tab {TAB_TITLE!r} serves them in this order", err=True)
    for r in out.head(top).itertuples():
        click.echo(f"{r.rank:>4}  task {r.task_id:<7} informativeness {r.informativeness:.3f}  risk {r.risk:5.1f}  "
                   f"{r.article_id}: {r.reason}")
