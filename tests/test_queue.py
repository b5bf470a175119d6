"""The review queue against a real Label Studio: the saved tab lists unlabelled tasks in the computed order, and a refresh is idempotent."""
from __future__ import annotations

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

import annotator.studio as S
from annotator.cli import main
from annotator.corpora import load_polnear
from annotator.model.files import load_model
from annotator.studio.informativeness import informativeness
from annotator.studio.queue import TAB_TITLE, refresh_queue

PROJECT = "queue-test"
pytestmark = pytest.mark.corpora("polnear")


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def client(studio_server):
    return S.Studio(S.Connection(studio_server.url, studio_server.token, "test"), timeout=60)


@pytest.fixture(scope="module")
def project(client, model):
    arts = load_polnear().articles.iloc[:14]
    frame = pd.DataFrame({"id": arts["article_id"], "text": arts["text"], "title": arts["title"]})
    summary = S.push(frame, PROJECT, tagger=model, studio=client, progress=False)
    ids = summary["task_id"].astype(int).tolist()
    for tid in ids[:4]:  # four annotated tasks: they must stay out of the queue
        client.sdk.annotations.create(id=tid, result=[], lead_time=1.0)
    return client.get_project(PROJECT), ids


def _tab_tasks(client, project_id):
    views = [v for v in client.sdk.views.list(project=project_id) if (v.data or {}).get("title") == TAB_TITLE]
    assert len(views) == 1
    tasks = client.sdk.tasks.list(project=project_id, view=views[0].id, fields="all", page_size=100)
    return [int(t.id) for t in tasks]


def _predictions(client, task_id):
    return client.sdk.predictions.list(task=task_id)


def test_informativeness_signals_and_reasons(model):
    arts = load_polnear().articles.iloc[20:40]
    out = informativeness(model, pd.DataFrame({"id": arts["article_id"], "text": arts["text"]}))
    assert list(out["id"]) == list(arts["article_id"])
    for col in ("informativeness", "span", "document", "disagreement"):
        assert out[col].between(0, 1).all()
    assert out["informativeness"].nunique() > 10  # it tells articles apart
    assert out["reason"].str.len().gt(0).all()


def test_push_writes_the_queue_s_prediction_before_any_refresh(client, project, model):
    """One meaning for a prediction's score: push already stores the confidence the queue orders by,
    with the same spans and rating, so Label Studio's order is right before the first refresh."""
    proj, ids = project
    pushed = {tid: _predictions(client, tid)[0] for tid in ids[4:]}
    queue = refresh_queue(client, proj.id, model).set_index("task_id")
    for tid, before in pushed.items():
        (after,) = _predictions(client, tid)
        assert before.score == pytest.approx(queue.loc[tid, "score"], abs=1e-6)
        assert before.score == pytest.approx(1 - queue.loc[tid, "informativeness"], abs=1e-6)
        assert before.result == after.result  # the operating point's spans and the rating, as push wrote them


def _dm_columns(studio_server, project_id) -> set:
    """Every column Label Studio's Data Manager offers for the project, as ``hiddenColumns`` names them."""
    r = httpx.get(f"{studio_server.url}/api/dm/columns", params={"project": project_id}, timeout=60,
                  headers={"Authorization": f"Token {studio_server.token}"})
    return {f"tasks:data.{c['id']}" if c.get("parent") == "data" else f"tasks:{c['id']}"
            for c in r.json()["columns"] if not c.get("children")}


def test_tab_lists_unlabelled_tasks_in_the_computed_order(client, project, model, studio_server):
    proj, ids = project
    queue = refresh_queue(client, PROJECT, model)
    assert sorted(queue["task_id"]) == sorted(ids[4:])
    assert list(queue["rank"]) == list(range(1, len(ids) - 3))
    assert queue["informativeness"].is_monotonic_decreasing
    assert _tab_tasks(client, proj.id) == list(queue["task_id"])
    assert client.sdk.projects.get(proj.id).model_version == model.model_version
    hidden = client.sdk.views.get(str(queue.attrs["view_id"])).data["hiddenColumns"]
    shown = _dm_columns(studio_server, proj.id) - set(hidden["explore"])  # the score beside the article
    assert {"tasks:predictions_score", "tasks:data.title", "tasks:id"} <= shown and len(shown) <= 8, shown
    for tid, score in zip(queue["task_id"], queue["score"]):
        preds = _predictions(client, tid)
        assert len(preds) == 1 and preds[0].model_version == model.model_version
        assert preds[0].score == pytest.approx(score, abs=1e-6)
    for tid in ids[:4]:  # annotated tasks keep the prediction push gave them
        assert len(_predictions(client, tid)) == 1


def test_refresh_is_idempotent(client, project, model):
    proj, ids = project
    first = refresh_queue(client, proj.id, model)
    again = refresh_queue(client, PROJECT, model)
    assert list(again["task_id"]) == list(first["task_id"])
    assert again.attrs["view_id"] == first.attrs["view_id"]
    assert _tab_tasks(client, proj.id) == list(again["task_id"])
    assert all(len(_predictions(client, tid)) == 1 for tid in ids)


def test_queue_command_prints_the_top_with_reasons(client, project, studio_server, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio_server.token)
    r = CliRunner().invoke(main, ["queue", "--project", PROJECT, "-n", "3"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()[:2] in ("1 ", "2 ", "3 ")]
    assert len(lines) == 3 and all("task" in ln for ln in lines)
    assert TAB_TITLE in r.output and studio_server.token not in r.output


def test_push_command_refreshes_the_queue(client, studio_server, monkeypatch, tmp_path):
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio_server.token)
    arts = load_polnear().articles.iloc[50:54]
    src = tmp_path / "arts.jsonl"
    pd.DataFrame({"id": arts["article_id"], "text": arts["text"]}).to_json(src, orient="records", lines=True)
    r = CliRunner().invoke(main, ["push", str(src), "--project", "queue-push"])
    assert r.exit_code == 0, r.output
    assert TAB_TITLE in r.output and "4 unlabelled tasks" in r.output
    proj = client.get_project("queue-push")
    assert len(_tab_tasks(client, proj.id)) == 4
    r = CliRunner().invoke(main, ["push", str(src), "--project", "queue-push", "--no-queue"])
    assert r.exit_code == 0 and TAB_TITLE not in r.output
