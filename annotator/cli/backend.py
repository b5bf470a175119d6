"""The ``backend`` commands: serve the model to Label Studio, list its versions, roll back, show its status."""
from __future__ import annotations

import re

import click

__all__ = ["backend_group"]


def _data_dir_option(f):
    return click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                        help="Backend data dir (default ~/.local/share/annotator/backend, or "
                             "ANNOTATOR_BACKEND_DIR).")(f)


@click.group("backend", short_help="Serve the model to Label Studio, retrain it live.")
def backend_group():
    """The model in the annotation loop: a Label Studio ML backend that predicts and retrains.

    \b
    Examples:
      annotator backend serve --port 9090
      annotator backend status
      annotator backend models
      annotator backend rollback annotator-p3-v2
    """


@backend_group.command("serve", short_help="Run the ML backend (127.0.0.1, waitress).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=9090, show_default=True)
@_data_dir_option
@click.option("--model", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Base model (.skops). Default: the shipped one.")
@click.option("--studio-url", default=None,
              help="Label Studio that retrains pull from (key: LABEL_STUDIO_API_KEY). Default: the URL and "
                   "token each project's /setup call sends.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Request threads.")
@click.option("--debounce", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds after a project's last annotation before it retrains.")
@click.option("--no-train", is_flag=True, help="Predict only; ignore training webhooks.")
@click.option("--train-budget", type=click.IntRange(min=10_000), default=None,
              help="Characters fitted in a retrain, the team's articles and a sample of the base corpora "
                   "(default 5,000,000: under a minute). Small values make fast retrains for trials and tests.")
@click.option("--base-corpus", "base_corpora", multiple=True, help="Base corpora of a retrain (default: all).")
def serve_command(host, port, data_dir, model, studio_url, threads, debounce, no_train, train_budget, base_corpora):
    """Serve predictions to Label Studio and retrain on the team's annotations.

    Basic auth: set ANNOTATOR_BACKEND_USER and ANNOTATOR_BACKEND_PASSWORD (and
    give Label Studio the same). With --studio-url, the API key is read from
    LABEL_STUDIO_API_KEY. Stops on SIGTERM or Ctrl-C.

    \b
    Examples:
      annotator backend serve
      annotator backend serve --studio-url https://ls.example.org
      annotator backend serve --train-budget 300000 --debounce 2
    """
    from ..backend import ServeOptions, serve

    serve(ServeOptions(host=host, port=port, data_dir=data_dir, model=model, studio_url=studio_url, threads=threads,
                       debounce=debounce, train=not no_train, train_budget=train_budget,
                       base_corpora=tuple(base_corpora)))


def _get(data_dir, path: str, method: str = "GET", body: dict | None = None) -> dict | None:
    """``path`` of the running backend as JSON (``None`` when none runs)."""
    import httpx  # lazy: only the studio commands talk HTTP

    from ..backend import auth_from_env, server_state
    from ..errors import AnnotatorError

    st = server_state(data_dir)
    if not st:
        return None
    try:
        r = httpx.request(method, st["url"] + path, json=body, timeout=60, auth=auth_from_env(), trust_env=False)
    except httpx.HTTPError as exc:
        raise AnnotatorError(f"the backend at {st['url']} (pid {st['pid']}) does not answer: {exc}") from None
    if r.status_code != 200:
        raise AnnotatorError(f"the backend at {st['url']} said HTTP {r.status_code}: "
                             f"{r.json().get('error', '') if r.content else ''}")
    return r.json() | {"url": st["url"], "pid": st["pid"]}


@backend_group.command("status", short_help="Show the served models, the queue, Label Studio.")
@_data_dir_option
def status_command(data_dir):
    """Show the running backend: model per project, queue, last training, Label Studio.

    \b
    Example:
      annotator backend status
    """
    st = _get(data_dir, "/status")
    if st is None:
        click.echo("annotator backend: not running (start it with 'annotator backend serve' or 'annotator studio up')")
        return
    click.echo(f"annotator backend at {st['url']} (pid {st['pid']}), base model {st['base']}, "
               f"up {st['uptime_seconds']} s")
    for url, state in st.get("label_studio", {}).items():
        click.echo(f"Label Studio {url}: {state}")
    training = st.get("training") or {}
    run = training.get("running")
    click.echo(f"training: {run['version']} for project {run['project_id']} since {run['seconds']} s"
               if run else "training: idle" if st.get("training") else "training: off (--no-train)")
    for q in training.get("queue", []):
        click.echo(f"queued: project {q['project_id']} in {q['in_seconds']} s"
                   + (f" (retry {q['attempt']})" if q.get("attempt") else ""))
    ls = training.get("label_studio") or {}
    if ls.get("reachable") is False:
        click.echo(f"last contact with Label Studio failed ({ls['checked_at']}): {ls['message']}")
    for pid, p in st["projects"].items():
        last = p.get("last_training") or {}
        said = f"{last.get('status')} {last.get('finished_at', '')}: {last.get('message') or last.get('version', '')}" \
            if last else "never trained"
        click.echo(f"project {pid}: serving {p['current']} ({p['versions']} trained versions); last training {said}")


@backend_group.command("models", short_help="List the trained model versions.")
@click.option("--project", "project_id", type=int, default=None, help="Project id (default: every project).")
@_data_dir_option
def models_command(project_id, data_dir):
    """List each project's trained models: version, when, counts, held-out figures.

    \b
    Examples:
      annotator backend models
      annotator backend models --project 3
    """
    from ..backend import Registry, default_data_dir, project_ids

    root = data_dir or default_data_dir()
    pids = [project_id] if project_id is not None else project_ids(root)
    if not pids:
        click.echo(f"no trained model yet in {root}")
    for pid in pids:
        reg = Registry(root, pid)
        current = reg.read()["current"]
        click.echo(f"project {pid} (serving {current or 'the base model'}):")
        for v in reg.versions():
            counts = ", ".join(f"{k} {v.counts[k]}" for k in ("annotated_articles", "team_fitted", "team_held_out",
                                                             "spans") if k in v.counts)
            click.echo(f"  {'*' if v.version == current else ' '} {v.version}  {v.created_at}  {v.seconds:.0f} s  "
                       f"[{counts}]" + _held_out_line(v.figures.get("held_out") or {}))


def _held_out_line(held: dict) -> str:
    """Span F1 per label on the held-out team articles, new model (base model), when there were some."""
    per = [(label, f) for label, f in (held.get("labels") or {}).items() if "new" in f and "base" in f]
    if not held.get("n") or not per:
        return ""
    return f"  held out ({held['n']}): " + ", ".join(f"{label} F1 {f['new'].get('f1', 0):.2f} "
                                                    f"({f['base'].get('f1', 0):.2f})" for label, f in per)


@backend_group.command("rollback", short_help="Serve an older model version of a project.")
@click.argument("version")
@click.option("--project", "project_id", type=int, default=None,
              help="Project id (read from VERSION when it is annotator-pID-vN; needed for 'base').")
@_data_dir_option
def rollback_command(version, project_id, data_dir):
    """Serve VERSION (or 'base', the base model) to its project from now on.

    The running backend swaps at once and retitles the project's ML backend in
    Label Studio; a stopped one serves it at its next start.

    \b
    Examples:
      annotator backend rollback annotator-p3-v2
      annotator backend rollback base --project 3
    """
    from ..backend import Registry, default_data_dir
    from ..errors import AnnotatorError

    m = re.fullmatch(r"annotator-p(\d+)-v\d+", version)
    pid = project_id if project_id is not None else int(m.group(1)) if m else None
    if pid is None:
        raise AnnotatorError(f"say which project {version!r} is for: --project ID")
    answer = _get(data_dir, "/rollback", "POST", {"project": pid, "version": version})
    if answer is None:
        Registry(data_dir or default_data_dir(), pid).set_current(None if version == "base" else version)
        click.echo(f"project {pid} will be served {version} when the backend starts")
        return
    click.echo(f"project {pid}: serving {answer['current']} (was {answer['previous']}); {answer['label_studio']}")
