"""The ML backend against a real Label Studio and a real backend process started here.

The module's fixtures build one story step by step: push articles without predictions, start
``annotator backend serve`` (a subprocess; fast retrains: 600,000 characters fitted, 1 s debounce),
connect it to the project through the API, open tasks, submit annotations, wait for the retrain,
kill the backend during a second retrain and restart it.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from annotator import studio as S
from annotator.articles import read_articles
from annotator.backend import BackendApp, ModelHolder, connect_project
from annotator.studio.server import free_port
from annotator.taxonomy import load_taxonomy

pytestmark = [pytest.mark.studio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "issue-16 live backend"
TAX = load_taxonomy()


class Backend:
    """A backend process on a free port (stopped by its pid)."""

    def __init__(self, data_dir: Path, studio_server, *extra):
        self.data_dir, self.studio_server, self.extra = data_dir, studio_server, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout: float = 180) -> "Backend":
        env = dict(os.environ, LABEL_STUDIO_API_KEY=self.studio_server.token)
        cmd = [sys.executable, "-m", "annotator", "backend", "serve", "--port", str(self.port), "--data-dir",
               str(self.data_dir), "--studio-url", self.studio_server.url, "--debounce", "1",
               "--train-budget", "600000", *self.extra]
        with open(self.data_dir.parent / f"backend-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"backend exited: {self.log()[-2000:]}"
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"backend did not answer /health within {timeout} s: {self.log()[-2000:]}")

    def log(self) -> str:
        return (self.data_dir.parent / f"backend-{self.port}.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def post(self, path: str, body, **kw) -> httpx.Response:
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return httpx.post(self.url + path, content=content, timeout=120, **kw)

    def status(self) -> dict:
        return httpx.get(self.url + "/status", timeout=30).json()


@pytest.fixture(scope="module")
def client(studio_server):
    return S.Studio(S.Connection(studio_server.url, studio_server.token, "test"), timeout=60)


@pytest.fixture(scope="module")
def articles():
    return read_articles(str(ROOT / "seeds"))


@pytest.fixture(scope="module")
def backend(tmp_path_factory, studio_server):
    b = Backend(tmp_path_factory.mktemp("backend") / "data", studio_server).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def project(client, articles, backend):
    """The project: the seeds pushed without predictions, the backend connected through the API."""
    summary = S.push(articles, PROJECT, tagger=None, studio=client, progress=False)
    pid = int(summary.attrs["project_id"])
    link = connect_project(client, pid, backend.url)
    return {"id": pid, "tasks": [int(t) for t in summary["task_id"]], "link": link, "texts": list(articles["text"])}


def _task(studio_server, tid: int) -> dict:
    r = httpx.get(f"{studio_server.url}/api/tasks/{tid}", headers={"Authorization": f"Token {studio_server.token}"},
                  timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _wait(predicate, timeout: float, what: str, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_connect_through_the_api_is_idempotent(client, project, backend):
    base = httpx.get(backend.url + "/versions", params={"project": project["id"]}).json()["current"]
    assert project["link"]["created"] and project["link"]["title"] == base
    again = connect_project(client, project["id"], backend.url)
    assert not again["created"] and again["ml_backend"] == project["link"]["ml_backend"]
    mls = list(client.sdk.ml.list(project=project["id"]))
    assert len(mls) == 1 and mls[0].title == base and mls[0].state == "CO", mls
    proj = client.sdk.projects.get(project["id"])
    assert proj.show_collab_predictions and proj.model_version == base


def test_opening_a_task_gets_a_live_prediction(project, studio_server, backend):
    task = _task(studio_server, project["tasks"][0])
    preds = task["predictions"]
    assert len(preds) == 1, preds
    base = project["link"]["title"]
    assert preds[0]["model_version"] == base
    direct = backend.post("/predict", {"tasks": [{"id": 1, "data": {"text": project["texts"][0]}}],
                                       "project": str(project["id"])}).json()["results"][0]
    assert preds[0]["result"] == direct["result"] and preds[0]["score"] == pytest.approx(direct["score"])
    regions = [r for r in preds[0]["result"] if r["from_name"] == TAX.span_from_name]
    assert regions and all(0 <= r["score"] <= 1 for r in regions), [r["score"] for r in regions]
    assert [r for r in preds[0]["result"] if r["from_name"] == TAX.rating_from_name]


def test_predict_gives_one_result_per_task_in_order(backend, project):
    texts = ["Sources told reporters the terrorists fled.", "", "An official statement by the ministry."]
    r = backend.post("/predict", {"tasks": [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)],
                                  "project": f"{project['id']}.1700000000"})
    results = r.json()["results"]
    assert r.status_code == 200 and len(results) == 3
    assert results[1]["result"] == [] and results[0]["result"]
    assert [x["value"]["text"] for x in results[0]["result"] if "start" in x["value"]][0] in texts[0]


@pytest.fixture(scope="module")
def retrained(project, client, studio_server, backend):
    """Three tasks annotated through the API (the prediction accepted plus one more loaded term), retrained."""
    pid = project["id"]
    times = []
    with httpx.Client(base_url=backend.url, timeout=30) as http:  # one connection: time the handler, not TLS set-up
        for _ in range(5):  # a webhook only enqueues: time it (these are debounced into the same retrain)
            t0 = time.perf_counter()
            r = http.post("/webhook", json={"action": "ANNOTATION_CREATED", "project": {"id": pid}})
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200 and r.json()["status"] == "queued"
    for tid in project["tasks"][:3]:
        pred = _task(studio_server, tid)["predictions"][0]["result"]
        client.sdk.annotations.create(id=tid, result=pred, lead_time=5.0)
    version = f"annotator-p{pid}-v1"

    def done():
        p = backend.status()["projects"].get(str(pid), {})
        last = p.get("last_training") or {}
        assert last.get("status") != "failed", last  # say why at once rather than time out
        return p.get("current") == version and last.get("version") == version

    _wait(done, 600, f"retrain to {version}", every=2)
    last = backend.status()["projects"][str(pid)]["last_training"]
    assert last["status"] == "ok", last
    return {"version": version, "webhook_seconds": times}


def test_webhook_returns_at_once(retrained):
    assert statistics.median(retrained["webhook_seconds"]) < 0.1, retrained["webhook_seconds"]


def test_annotations_trigger_a_retrain_and_new_predictions_come_from_it(retrained, project, client, studio_server,
                                                                        backend):
    version, pid = retrained["version"], project["id"]
    last = backend.status()["projects"][str(pid)]["last_training"]
    assert last["status"] == "ok" and last["counts"]["annotated_articles"] == 3, last
    assert "retitled" in last["renamed"], last
    mls = list(client.sdk.ml.list(project=pid))
    assert [m.title for m in mls] == [version]
    assert client.sdk.projects.get(pid).model_version == version
    untouched = project["tasks"][4]  # never opened: its first prediction comes from the new model
    preds = _task(studio_server, untouched)["predictions"]
    assert [p["model_version"] for p in preds] == [version]
    reg = json.loads((backend.data_dir / "projects" / str(pid) / "registry.json").read_text())
    assert reg["current"] == version and [v["version"] for v in reg["versions"]] == [version]
    assert (backend.data_dir / "projects" / str(pid) / reg["versions"][0]["file"]).is_file()


def test_a_retrain_refreshes_the_queue(retrained, project, client, backend):
    from annotator.studio.queue import TAB_TITLE

    pid = project["id"]
    last = backend.status()["projects"][str(pid)]["last_training"]
    assert not last.get("hooks"), last  # the queue hook ran without an error
    views = [v for v in client.sdk.views.list(project=pid) if (v.data or {}).get("title") == TAB_TITLE]
    assert len(views) == 1, [v.data for v in client.sdk.views.list(project=pid)]


def test_kill_during_training_keeps_the_previous_model(retrained, project, backend):
    pid = project["id"]
    assert backend.post("/webhook", {"action": "START_TRAINING", "project": {"id": pid}}).status_code == 200
    job = _wait(lambda: (backend.status()["training"] or {}).get("running"), 60, "training to start", every=0.3)
    time.sleep(4)  # into the job (pulling, fitting)
    backend.stop(signal.SIGKILL)
    _wait(lambda: not _alive(job["pid"]), 20, f"the job {job['pid']} to end with its server")
    backend.start()
    models = backend.data_dir / "projects" / str(pid) / "models"
    assert not [p for p in (backend.data_dir / "projects" / str(pid)).rglob("*.tmp")]
    assert sorted(p.name for p in models.iterdir()) == [f"{retrained['version']}.skops"]
    r = backend.post("/predict", {"tasks": [{"id": 1, "data": {"text": project["texts"][1]}}], "project": str(pid)})
    assert r.json()["results"][0]["model_version"] == retrained["version"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.parametrize("path, body, reason", [
    ("/predict", b"{not json", "not JSON"),
    ("/predict", b"", "empty body"),
    ("/predict", b"[1, 2]", "JSON list"),
    ("/predict", {"tasks": []}, "non-empty list"),
    ("/predict", {"tasks": [{"id": 1}]}, "no 'data'"),
    ("/predict", {"tasks": [{"id": 7, "data": {"other": "x"}}]}, "no text in data.text"),
    ("/predict", {"tasks": [{"data": {"text": "x"}}], "project": "abc"}, "not a project id"),
    ("/webhook", b"\xff\xfe", "not JSON"),
    ("/webhook", {"project": {"id": 1}}, "'action'"),
    ("/webhook", {"action": "ANNOTATION_CREATED"}, "names no project"),
    ("/setup", {"project": "1.2"}, "'schema'"),
])
def test_malformed_bodies_get_400_with_one_line(backend, path, body, reason):
    r = backend.post(path, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert reason in error and "\n" not in error and "Traceback" not in r.text


def test_setup_refuses_a_label_config_the_model_cannot_serve(backend):
    first = next(x for x in TAX.label_ids if x not in TAX.reliability_labels)  # no reliability choice names it
    other = TAX.xml.replace(f'value="{first}"', 'value="rumour"', 1)
    r = backend.post("/setup", {"project": "1.2", "schema": other})
    assert r.status_code == 400
    assert f"span labels missing from the project: {first}" in r.json()["error"]
    assert "span labels added in the project: rumour" in r.json()["error"]
    ok = backend.post("/setup", {"project": "1.2", "schema": TAX.xml, "hostname": "http://x", "access_token": "t"})
    assert ok.status_code == 200 and ok.json()["model_version"]
    assert "access_token" not in backend.log() and "\"t\"" not in backend.log()


def test_basic_auth(tmp_path):
    app = BackendApp(ModelHolder(tmp_path), auth=("ana", "s3cret"))

    def call(header=None):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/health", "wsgi.input": None}
        if header:
            environ["HTTP_AUTHORIZATION"] = header
        seen = {}
        body = app(environ, lambda status, headers: seen.update(status=status))
        return seen["status"], json.loads(body[0])

    assert call()[0].startswith("401")
    assert call("Basic " + base64.b64encode(b"ana:wrong").decode())[0].startswith("401")
    status, body = call("Basic " + base64.b64encode(b"ana:s3cret").decode())
    assert status.startswith("200") and body["status"] == "UP"
