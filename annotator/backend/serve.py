"""Running the backend: the app under waitress (a production WSGI server), its state file, and as a background process.

:func:`serve` loads the base model once, sweeps what a killed training job left, starts the
training worker and serves on 127.0.0.1 (by default) with a bounded pool of request threads.
:func:`start_background` / :func:`stop_background` / :func:`server_state` run it beside the local
Label Studio (``annotator studio up``) and find it again (``server.json`` in the data dir).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from ..errors import AnnotatorError
from ..io import write_json_atomic
from ..studio.client import connect
from ..studio.files import read_json, utc_now
from ..studio.queue import refresh_queue
from ..studio.server import alive, free_port, port_busy
from .app import MAX_BODY, BackendApp
from .models import ModelHolder
from .registry import Registry, default_data_dir, project_ids
from .trainer import Trainer

__all__ = ["ServeOptions", "serve", "build_app", "start_background", "stop_background", "server_state",
           "STATE_FILE", "LOG_FILE", "auth_from_env"]

STATE_FILE = "server.json"
LOG_FILE = "backend.log"


class ServeOptions(NamedTuple):
    """How the backend runs (``annotator backend serve`` options)."""

    host: str = "127.0.0.1"
    port: int = 9090
    data_dir: str | None = None
    model: str | None = None
    studio_url: str | None = None
    threads: int = 4
    debounce: float = 10.0
    train: bool = True
    #: characters fitted in a retrain, team articles and base sample (``None``: the retrain's default;
    #: a small number makes retrains fast, for trials and tests)
    train_budget: int | None = None
    base_corpora: tuple = ()


def auth_from_env() -> tuple | None:
    """Basic auth from ``ANNOTATOR_BACKEND_USER`` and ``ANNOTATOR_BACKEND_PASSWORD`` (both, or none)."""
    user, password = os.environ.get("ANNOTATOR_BACKEND_USER"), os.environ.get("ANNOTATOR_BACKEND_PASSWORD")
    if bool(user) != bool(password):
        raise AnnotatorError("set both ANNOTATOR_BACKEND_USER and ANNOTATOR_BACKEND_PASSWORD for basic auth, "
                             "or neither")
    return (user, password) if user else None


def build_app(opts: ServeOptions, *, api_key: str | None = None) -> BackendApp:
    """The app with its base model loaded, the data dir swept and the training worker started."""
    data_dir = Path(opts.data_dir) if opts.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    for pid in project_ids(data_dir):
        for path in Registry(data_dir, pid).sweep():
            logging.getLogger("annotator.backend").info("removed %s (left by an interrupted job)", path.name)
    holder = ModelHolder(data_dir, opts.model)
    holder.load_base()
    app = BackendApp(holder, None, studio_url=opts.studio_url, api_key=api_key, auth=auth_from_env())
    if opts.train:
        options = {"budget_chars": opts.train_budget, "base_corpora": list(opts.base_corpora) or None,
                   "data_dir": os.environ.get("ANNOTATOR_DATA_DIR")}
        app.trainer = Trainer(data_dir, holder, app.connection, debounce=opts.debounce, options=options,
                              on_new_model=[queue_refresher(holder)]).start()
    return app


def queue_refresher(holder: ModelHolder):
    """The hook that, after each retrain, rescores the project's unlabelled tasks with the new model
    and refreshes its "Most informative first" tab (:func:`annotator.studio.queue.refresh_queue`),
    with the predictions' ``model_version`` the backend's new title."""

    def refresh_queue_after_retrain(project_id: int, version: str, url: str, api_key: str | None) -> None:
        refresh_queue(connect(url, api_key), project_id, holder.get(project_id).model, model_version=version)

    return refresh_queue_after_retrain


def serve(opts: ServeOptions) -> None:
    """Serve until SIGTERM/SIGINT (blocking); ``server.json`` says where while it runs."""
    from waitress.server import create_server  # optional: the studio extra

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" lines on every burst
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per Label Studio call (URLs, no secrets)
    api_key = os.environ.get("LABEL_STUDIO_API_KEY") if opts.studio_url else None
    app = build_app(opts, api_key=api_key)
    server = create_server(app, host=opts.host, port=opts.port, threads=max(1, opts.threads),
                           max_request_body_size=MAX_BODY, connection_limit=64, channel_timeout=120,
                           ident="annotator-backend")
    url = f"http://{opts.host}:{server.effective_port}"
    data_dir = app.holder.data_dir
    write_json_atomic(data_dir / STATE_FILE, {"pid": os.getpid(), "url": url, "started_at": utc_now(),
                                              "base": app.holder.base().version, "auth": app._auth is not None},
                      private=True)
    logging.getLogger("annotator.backend").info("annotator backend serving %s at %s (%d threads)",
                                                app.holder.base().version, url, opts.threads)

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        if app.trainer:
            app.trainer.stop()
        server.close()
        st = read_json(data_dir / STATE_FILE)
        if st and st.get("pid") == os.getpid():
            (data_dir / STATE_FILE).unlink(missing_ok=True)


def server_state(data_dir=None) -> dict | None:
    """``server.json`` of a running backend (``None`` when none runs there)."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    st = read_json(data_dir / STATE_FILE)
    return st if st and st.get("pid") and alive(int(st["pid"])) else None


def start_background(opts: ServeOptions, *, env: dict | None = None, timeout: float = 120) -> dict:
    """Start ``annotator backend serve`` detached (log in the data dir) and wait until ``/health`` answers."""
    import httpx  # lazy: only the studio commands talk HTTP

    data_dir = Path(opts.data_dir) if opts.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = server_state(data_dir)
    if running:
        return running
    port = opts.port if opts.port and not port_busy(opts.port) else free_port()
    cmd = [sys.executable, "-m", "annotator", "backend", "serve", "--host", opts.host, "--port", str(port),
           "--data-dir", str(data_dir), "--threads", str(opts.threads), "--debounce", str(opts.debounce)]
    cmd += ["--model", str(opts.model)] if opts.model else []
    cmd += ["--studio-url", opts.studio_url] if opts.studio_url else []
    cmd += ["--train-budget", str(opts.train_budget)] if opts.train_budget else []
    cmd += [] if opts.train else ["--no-train"]
    with open(data_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env or dict(os.environ), start_new_session=True)
    url, deadline = f"http://{opts.host}:{port}", time.monotonic() + timeout
    auth = auth_from_env()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AnnotatorError(f"the annotator backend stopped at start (status {proc.returncode}): "
                                 f"see {data_dir / LOG_FILE}")
        try:
            if httpx.get(url + "/health", timeout=2, auth=auth, trust_env=False).status_code == 200:
                return server_state(data_dir) or {"pid": proc.pid, "url": url}
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise AnnotatorError(f"the annotator backend did not answer /health within {timeout:g} s: see "
                         f"{data_dir / LOG_FILE}")


def stop_background(data_dir=None, timeout: float = 20) -> bool:
    """Stop the backend recorded in ``server.json`` (SIGTERM to its pid); ``False`` if none ran."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    st = server_state(data_dir)
    if not st:
        return False
    pid = int(st["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return True
