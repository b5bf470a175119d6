"""The Label Studio commands: ``studio up/down/status``, ``push``, ``pull`` and ``agreement`` on a pulled dataset."""
from __future__ import annotations

import os
import sys

import click

from .articles import span_options
from .group import SHOW_FAILED, failed_lines, text_column_hint

__all__ = ["studio_group", "push_command", "pull_command", "agreement_command"]


def _studio_options(f):
    f = click.option("--url", default=None, help="Label Studio URL (else LABEL_STUDIO_URL, the config file, "
                                                   "or the local server).")(f)
    f = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="Local server data dir (default ~/.local/share/annotator/studio).")(f)
    f = click.option("--timeout", type=click.FloatRange(min=1), default=60, show_default=True,
                     help="Seconds to wait for each request.")(f)
    return f


@click.group("studio", short_help="Start, stop or check the local Label Studio.")
def studio_group():
    """Run the local Label Studio (127.0.0.1, data in the user data dir).

    \b
    Examples:
      annotator studio up            # then open the URL it prints
      annotator studio status
      annotator studio down
    """


@studio_group.command("up", short_help="Start the local Label Studio on 127.0.0.1.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data dir (default ~/.local/share/annotator/studio, or ANNOTATOR_STUDIO_DIR).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: a free one).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
              help="Seconds to wait for the server to answer /health.")
@click.option("--backend/--no-backend", default=True, show_default=True,
              help="Also start the annotator ML backend beside it (predictions, retraining).")
@click.option("--backend-port", type=click.IntRange(1, 65535), default=9090, show_default=True,
              help="Port of the backend (a free one when taken).")
def studio_up(data_dir, port, timeout, backend, backend_port):
    """Start Label Studio on 127.0.0.1 (first start migrates its database: usually 1-3 minutes),
    and the annotator ML backend beside it ('annotator push' connects it to the project).

    \b
    Examples:
      annotator studio up
      annotator studio up --port 8080 --data-dir ~/studio-week12
      annotator studio up --no-backend
    """
    from ..studio import LocalStudio

    local = LocalStudio(data_dir)
    st = local.up(port, timeout=timeout)
    click.echo(f"Label Studio is up at {st['url']} (pid {st['pid']})")
    click.echo(f"login and API token: {st['credentials']} (mode 0600)")
    if backend:
        from ..backend import ServeOptions, start_background

        env = dict(os.environ, LABEL_STUDIO_API_KEY=(local.credentials() or {}).get("api_key") or "")
        b = start_background(ServeOptions(port=backend_port, studio_url=st["url"]), env=env)
        click.echo(f"annotator backend is up at {b['url']} (pid {b['pid']}): 'annotator push --project NAME' "
                   "connects it")


@studio_group.command("down", short_help="Stop the local Label Studio.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data dir of the server.")
def studio_down(data_dir):
    """Stop the local Label Studio (SIGTERM to its PID).

    \b
    Example:
      annotator studio down
    """
    from ..studio import LocalStudio

    from ..backend import stop_background

    local = LocalStudio(data_dir)
    click.echo("Label Studio stopped" if local.down() else f"Label Studio was not running ({local.data_dir})")
    if stop_background():
        click.echo("annotator backend stopped")


@studio_group.command("status", short_help="Say whether the local Label Studio is up, and its URL.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data dir of the server.")
def studio_status(data_dir):
    """Say whether the local Label Studio is up, and its URL.

    \b
    Example:
      annotator studio status
    """
    from ..studio import LocalStudio

    st = LocalStudio(data_dir).status()
    if st["running"]:
        click.echo(f"up: {st['url']} (pid {st['pid']}{'' if st['healthy'] else ', not answering /health'}); "
                   f"credentials in {st['credentials']}")
    else:
        click.echo(f"down ({st['data_dir']})")
    from ..backend import server_state

    b = server_state()
    click.echo(f"annotator backend: up at {b['url']} (pid {b['pid']})" if b else "annotator backend: down")


@studio_group.group("user", short_help="Add annotators to the local Label Studio.")
def studio_user_group():
    """Annotators of the local Label Studio.

    \b
    Example:
      annotator studio user add ana@example.org
    """


@studio_user_group.command("add", short_help="Add an annotator and say how they log in.")
@click.argument("email")
@click.option("--password-file", type=click.Path(dir_okay=False), default=None,
              help="File whose first line is their password. Default: a random one, kept in annotators.json.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data dir of the server.")
def studio_user_add(email, password_file, data_dir):
    """Add an annotator (EMAIL) to the local Label Studio and say how they log in.

    \b
    Examples:
      annotator studio user add ana@example.org
      annotator studio user add ben@example.org --password-file ben.txt
    """
    from ..studio import add_local_user

    added = add_local_user(email, password_file=password_file, data_dir=data_dir)
    click.echo(f"added {added.email} to Label Studio at {added.url}\nthey log in at {added.login_url} as "
               f"{added.email} with the password in {added.password_file}")


@click.command("push", short_help="Import articles into Label Studio with pre-annotations.")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("--project", required=True, help="Label Studio project title (created when missing).")
@click.option("--tagger", "--model", "tagger_path", type=click.Path(dir_okay=False), default=None,
              help="Cue tagger or framing model (.skops) for pre-annotations. Default: the shipped one.")
@click.option("--rules-only", is_flag=True, help="Pre-annotate with the cue rules only.")
@click.option("--no-predictions", is_flag=True, help="Push tasks without pre-annotations.")
@span_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Tasks per import request.")
@click.option("--summary", type=click.Path(dir_okay=False), default=None,
              help="Write the per-article summary (article_id, task_id, status, detail) to this CSV.")
@click.option("--backend", "backend_url", default=None,
              help="ML backend to connect to the project (default: the local one when it runs; 'none': none). "
                   "Basic auth from ANNOTATOR_BACKEND_USER / ANNOTATOR_BACKEND_PASSWORD.")
@click.option("--no-queue", is_flag=True, help="Do not refresh the 'Most informative first' tab.")
@_studio_options
def push_command(inputs, project, tagger_path, rules_only, no_predictions, min_score, all_candidates, chunk_size,
                 summary, url, data_dir, timeout, backend_url, no_queue):
    """Import articles into a Label Studio project as tasks with pre-annotations.

    INPUT is anything 'annotator articles' reads. Idempotent: articles already
    in the project (same article id) are not imported again; with a new tagger
    model_version they get its prediction. With a framing model the review
    queue is refreshed too (see 'annotator queue'; --no-queue skips it).

    Exit status: 0 when every article was pushed (or already there); 1 when
    some were not (bad files or rows: the first few are named); 2 on usage or
    fatal errors (server unreachable, bad token).

    Pre-annotated spans are those at or above the model's operating point
    (each region shows its score); --min-score or --all-candidates change that.

    \b
    Examples:
      annotator studio up
      annotator push news/ --project "Week 12"
      annotator push a.csv --project "Week 12" --rules-only --summary push.csv
      annotator push news/ --project "Week 12" --backend http://ml-host:9090
    """
    from ..cues import RulesTagger
    from ..studio import connect, push

    if no_predictions:
        tagger = None
    elif rules_only:
        tagger = RulesTagger()
    else:
        from ..model import load_model, load_tagger
        from ..studio import holds_framing_model  # a framing model also pre-fills the rating; a tagger: spans

        tagger = (load_model if holds_framing_model(tagger_path) else load_tagger)(tagger_path)
    studio = connect(url, data_dir=data_dir, timeout=timeout)
    out = push(list(inputs), project, tagger=tagger, studio=studio, chunk_size=chunk_size, min_score=min_score,
               all_candidates=all_candidates)
    if summary:
        from ..studio import write_csv

        write_csv(out, summary)
    counts = out["status"].value_counts()
    parts = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("created", "existing", "updated", "error"))
    oos = int(out["detail"].str.startswith("out of scope").sum())
    scope = f"; {oos} out of scope, without a prediction (see their 'scope' field)" if oos else ""
    click.echo(f"annotator: project {project!r} at {studio.url}: {parts}{scope}", err=True)
    _connect_backend(studio, out.attrs["project_id"], backend_url)
    _refresh_queue(studio, project, tagger, no_queue)
    errors = out[out["status"] == "error"]
    if len(errors):
        reasons = [str(r.detail) if str(r.article_id) in str(r.detail) else f"{r.article_id}: {r.detail}"
                   for r in errors.head(SHOW_FAILED).itertuples()]
        where = f"the detail column of {summary}" if summary else "them all with --summary push.csv"
        hint = text_column_hint(reasons, "text", "convert it with 'annotator articles FILE --text-column NAME "
                                                 "-o articles.jsonl' and push articles.jsonl")
        for line in failed_lines(reasons, len(errors), where) + ([hint] if hint else []):
            click.echo(line, err=True)
        sys.exit(1)


def _connect_backend(studio, project_id: int, backend_url: str | None) -> None:
    """Connect the ML backend (``--backend``, else the local one when it runs) to the project."""
    from ..backend import BackendAuth, auth_from_env, connect_project, server_state

    if backend_url == "none":
        return
    if backend_url is None:
        local = server_state()
        if not local:
            return
        backend_url = local["url"]
    auth = auth_from_env()
    done = connect_project(studio, project_id, backend_url, auth=BackendAuth(*auth) if auth else None)
    click.echo(f"annotator: {'connected' if done['created'] else 'reconnected'} the ML backend {backend_url} "
               f"(serving {done['title']}); predictions on in the labeling stream", err=True)


def _refresh_queue(studio, project, tagger, skip) -> None:
    """The review queue after a push with a framing model (:func:`annotator.studio.queue.refresh_queue`)."""
    from ..studio import is_framing_model

    if skip or tagger is None or not is_framing_model(tagger):
        return
    from ..studio.queue import TAB_TITLE, refresh_queue

    queue = refresh_queue(studio, project, tagger)
    click.echo(f"annotator: the tab {TAB_TITLE!r} serves the {len(queue)} unlabelled tasks, most informative first "
               "('annotator queue' prints why)", err=True)


@click.command("pull", short_help="Export a Label Studio project's annotations as a dataset.")
@click.option("--project", required=True, help="Label Studio project title.")
@click.option("-o", "--output", type=click.Path(file_okay=False), required=True,
              help="Dataset folder to write (replaced atomically).")
@click.option("--mismatches", type=click.Path(dir_okay=False), default=None,
              help="Write spans whose stored text differs from the article to this CSV.")
@_studio_options
def pull_command(project, output, mismatches, url, data_dir, timeout):
    """Export a project's annotations into a dataset (articles, documents, spans).

    The dataset folder holds articles.parquet, documents.parquet (one row per
    annotator judgement), spans.parquet and meta.json; 'annotator agreement',
    'annotator train' and 'annotator report --dataset' read it.

    \b
    Examples:
      annotator pull --project "Week 12" -o datasets/week12
      annotator pull --project "Week 12" -o ds --mismatches mismatches.csv
    """
    from ..studio import connect, pull, span_mismatches, write_csv

    studio = connect(url, data_dir=data_dir, timeout=timeout)
    ds = pull(project, output, studio=studio)  # its StudioWarnings print as one line each (AnnotatorGroup)
    if mismatches:
        write_csv(span_mismatches(ds), mismatches)
    m = ds.meta
    click.echo(f"annotator: {len(ds.articles)} articles, {len(ds.documents)} judgements "
               f"({m['cancelled']} cancelled, {m['drafts_excluded']} drafts excluded), {len(ds.spans)} spans "
               f"from {ds.documents['annotator'].nunique()} annotators, written to {output}", err=True)


@click.command("agreement", short_help="Annotator agreement on a pulled dataset (span F1, alpha).")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the figures as JSON to this file.")
def agreement_command(dataset, json_out):
    """Inter-annotator agreement: span F1 per label and pair, Krippendorff's alpha for the rating.

    DATASET is a folder written by 'annotator pull' (articles.parquet,
    documents.parquet, spans.parquet, meta.json): the annotations of one
    Label Studio project. Articles judged by two or more annotators are
    compared.

    \b
    Examples:
      annotator pull --project "Week 12" -o datasets/week12
      annotator agreement datasets/week12 --json agreement.json
    """
    from ..agreement import agreement, format_agreement, write_agreement_json

    result = agreement(dataset)
    click.echo(format_agreement(result))
    if json_out:
        write_agreement_json(result, json_out)
