"""PNG screenshots of the model in the loop: a task predicted live by the ML backend, and the queue tab.

    python scripts/backend_screenshots.py [--out docs/img]      # part of `make screenshots`

Starts a throwaway Label Studio on 127.0.0.1 (a copy of the migrated template, run with the two
settings a loopback backend needs, :func:`annotator.studio.server_env`; your own local server is
not touched), pushes the seeds **without** pre-annotations, starts ``annotator backend serve`` on a
free port (no retraining) and connects it to the project
(:func:`annotator.backend.link.connect_project`). Then, with headless Chromium (Playwright driving
Debian's ``/usr/bin/chromium``, or ``$CHROMIUM``), it logs in and opens the riskiest seed: Label
Studio asks the backend's ``/predict`` for it as it opens, so every span shown comes from the
backend (checked through the API: no prediction before, exactly one after, of the backend's
version, and one more ``/predict`` in the backend's log). Finally it refreshes the project's queue
(:func:`annotator.studio.queue.refresh_queue`) and opens the saved tab "Most informative first".
Writes:

* ``OUT/studio-live-prediction.png``: the task as opened, with the backend's spans and rating;
* ``OUT/studio-queue-tab.png``: the Data Manager on the "Most informative first" tab, the
  unlabelled tasks lowest prediction score (most informative) first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from annotator.articles import read_articles
from annotator.backend.link import connect_project
from annotator.model import load_model
from annotator.paths import seed_texts
from annotator.report.screenshot import CHROMIUM_FLAGS
from annotator.studio import TemplateServer, connect, free_port, push, template_cache_dir
from annotator.studio.queue import TAB_TITLE, refresh_queue

PROJECT = "annotator live backend"
VIEWPORT = {"width": 1280, "height": 800}


def _start_backend(work: Path) -> tuple[subprocess.Popen, str]:
    """``annotator backend serve`` on a free port (predictions only); the process and its URL."""
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", work / "backend.log"
    cmd = [sys.executable, "-m", "annotator", "backend", "serve", "--port", str(port),
           "--data-dir", str(work / "backend"), "--no-train"]
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the backend stopped at start: {log.read_text(errors='replace')[-1500:]}")
        try:
            if httpx.get(url + "/health", timeout=2, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise SystemExit(f"the backend did not answer /health in 300 s (log: {log})")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _push_plain(studio) -> tuple[int, dict]:
    """The seeds as tasks without predictions; ``(project id, {article id: task id})``."""
    summary = push(read_articles(seed_texts()), PROJECT, tagger=None, studio=studio, progress=False)
    tasks = dict(zip(summary["article_id"], summary["task_id"].astype(int)))
    return int(summary.attrs["project_id"]), tasks


def _riskiest(model) -> str:
    scores = model.score(read_articles(seed_texts()), evidence=0)
    return str(scores.sort_values("risk", ascending=False)["id"].iloc[0])


def _predictions(studio, task: int) -> list:
    """The task's stored predictions (the list endpoint: it does not ask the backend itself)."""
    return list(studio.sdk.predictions.list(task=task))


def _predict_calls(work: Path) -> int:
    return (work / "backend.log").read_text(errors="replace").count("POST /predict 200")


def _login(page, url: str, creds: dict) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", creds["email"])
    page.fill("input[name=password]", creds["password"])
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)


def _shoot_task(page, url: str, project: int, task: int, png: Path) -> None:
    page.goto(f"{url}/projects/{project}/data?task={task}")
    page.wait_for_selector(".htx-highlight", timeout=180_000)
    page.wait_for_timeout(1500)  # let the side panels settle
    page.screenshot(path=str(png))


def _shoot_queue(page, url: str, project: int, view_id: int, png: Path) -> None:
    page.goto(f"{url}/projects/{project}/data?tab={view_id}")
    page.wait_for_selector(f"text={TAB_TITLE}", timeout=60_000)
    page.wait_for_selector(".dm-table__row-wrapper, [class*=row-wrapper]", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(png))


def _optimise(png: Path) -> None:
    """Fewer colours and zlib's best: a UI screenshot loses nothing visible at 256 colours."""
    try:
        from PIL import Image  # optional: only to shrink the files
    except ImportError:
        return
    with Image.open(png) as img:
        small = img.convert("RGB").quantize(colors=256)
    small.save(png, optimize=True)


def _live_prediction(studio, srv, work: Path, page, out: Path) -> tuple:
    """Push, connect the backend, open the riskiest task; ``(project id, backend title, model)``."""
    project, tasks = _push_plain(studio)
    proc, backend_url = _start_backend(work)
    try:
        link = connect_project(studio, project, backend_url)
        model = load_model()
        task = int(tasks[_riskiest(model)])
        assert not _predictions(studio, task), "the task had a prediction before it was opened"
        calls = _predict_calls(work)
        _login(page, srv.url, srv.credentials)
        _shoot_task(page, srv.url, project, task, out / "studio-live-prediction.png")
        preds = _predictions(studio, task)
        assert len(preds) == 1 and preds[0].model_version == link["title"], preds
        assert _predict_calls(work) > calls, "the backend's log shows no /predict for the opened task"
        print(f"task {task}: live prediction from the backend, model_version {preds[0].model_version}, "
              f"{len(preds[0].result)} result items, score {preds[0].score}")
    finally:
        _stop(proc)
    return project, link["title"], model


def _queue_tab(studio, srv, project: int, model, title: str, page, out: Path) -> None:
    """Refresh the project's queue under the backend's title and open the tab."""
    view = refresh_queue(studio, project, model, model_version=title)
    print(f"queue refreshed: {len(view)} unlabelled tasks; top: {view['article_id'].iloc[0]} "
          f"({view['reason'].iloc[0]})")
    _shoot_queue(page, srv.url, project, int(view.attrs["view_id"]), out / "studio-queue-tab.png")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs/img"))
    args = ap.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("backend_screenshots: chromium not found (make chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright  # optional: the test extra

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="annotator-shots-") as work, \
            TemplateServer(template_cache_dir(), Path(work), progress=True) as srv, sync_playwright() as p:
        studio = connect(srv.url, srv.credentials["api_key"])
        browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS[1:]))
        try:
            page = browser.new_page(viewport=VIEWPORT)
            project, title, model = _live_prediction(studio, srv, Path(work), page, args.out)
            _queue_tab(studio, srv, project, model, title, page, args.out)
        finally:
            browser.close()
    for name in ("studio-live-prediction.png", "studio-queue-tab.png"):
        _optimise(args.out / name)
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
