"""The backend's registry, request checks and offline commands (no server, no model load)."""
from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from annotator.backend import Registry, VersionEntry
from annotator.backend.protocol import BadRequest, parse_predict, parse_webhook, project_id
from annotator.backend.trainer import Trainer
from annotator.cli import main
from annotator.errors import AnnotatorError


def _model(reg: Registry, version: str) -> VersionEntry:
    reg.models_dir.mkdir(parents=True, exist_ok=True)
    reg.model_path(version).write_bytes(b"PK fake model")
    return VersionEntry(version, f"models/{version}.skops", "2026-12-02T00:00:00+00:00",
                        {"annotated_articles": 30, "team_held_out": 5},
                        {"held_out": {"n": 5, "labels": {"loaded_term": {"base": {"f1": 0.25}, "new": {"f1": 0.5}}}}}, 4.0)


def test_registry_versions_current_and_rollback(tmp_path):
    reg = Registry(tmp_path, 7)
    assert reg.current() is None and reg.next_version() == "annotator-p7-v1"
    reg.add(_model(reg, "annotator-p7-v1"))
    reg.add(_model(reg, "annotator-p7-v2"))
    assert reg.current().version == "annotator-p7-v2"
    reg.set_current("annotator-p7-v1")
    assert reg.current().version == "annotator-p7-v1"
    assert reg.next_version() == "annotator-p7-v3"  # never reused after a rollback
    with pytest.raises(AnnotatorError, match="no model version 'annotator-p7-v9'"):
        reg.set_current("annotator-p7-v9")
    reg.set_current(None)
    assert reg.current() is None


def test_registry_refuses_a_missing_file(tmp_path):
    reg = Registry(tmp_path, 1)
    with pytest.raises(AnnotatorError, match="model file missing"):
        reg.add(VersionEntry("annotator-p1-v1", "models/annotator-p1-v1.skops", "", {}, {}, 0.0))
    assert reg.versions() == []


def test_sweep_removes_what_a_killed_job_leaves(tmp_path):
    reg = Registry(tmp_path, 2)
    reg.add(_model(reg, "annotator-p2-v1"))
    partial = reg.models_dir / ".annotator-p2-v2.skops.x1y2.tmp"
    partial.write_bytes(b"half")
    orphan = reg.model_path("annotator-p2-v2")  # complete, but the job was killed before it was listed
    orphan.write_bytes(b"PK")
    removed = reg.sweep()
    assert sorted(p.name for p in removed) == sorted([partial.name, orphan.name])
    assert [p.name for p in reg.models_dir.iterdir()] == ["annotator-p2-v1.skops"]


def test_project_ids_in_label_studio_forms():
    assert project_id("12.1700000000") == 12 and project_id(12) == 12 and project_id({"id": 5}) == 5
    assert project_id(None) is None
    for bad in ("x", True, "1.2.3"):
        with pytest.raises(BadRequest):
            project_id(bad)


def test_parse_predict_and_webhook():
    req = parse_predict({"tasks": [{"id": 1, "data": {"text": "a"}}, {"id": 2, "data": {"text": ""}}],
                         "project": "3.17"}, "text")
    assert req.project_id == 3 and req.texts == ["a", ""]
    ev = parse_webhook({"action": "ANNOTATION_CREATED", "project": {"id": 4, "title": "W"}, "task": {"id": 9}})
    assert ev.project_id == 4 and ev.project_title == "W"
    assert parse_webhook({"action": "ANNOTATION_UPDATED", "task": {"project": 6}}).project_id == 6
    assert parse_webhook({"action": "PROJECT_UPDATED"}).project_id is None  # not a training event: fine


def test_queue_debounces_and_caps_the_wait(tmp_path):
    t = Trainer(tmp_path, holder=None, connection=lambda pid: None, debounce=10, max_wait=15)  # not started
    first = t.enqueue(1)["in_seconds"]
    assert 9 <= first <= 10
    assert len(t.queue()) == 1
    t.enqueue(1)
    assert len(t.queue()) == 1  # one entry per project however many events
    t._first[1] -= 10  # the burst began 10 s ago: the retrain is due by max_wait (15 s after it)
    assert t.enqueue(1)["in_seconds"] <= 5.1


def test_backend_commands_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_BACKEND_DIR", str(tmp_path))
    reg = Registry(tmp_path, 3)
    reg.add(_model(reg, "annotator-p3-v1"))
    reg.add(_model(reg, "annotator-p3-v2"))
    runner = CliRunner()
    r = runner.invoke(main, ["backend", "status"])
    assert r.exit_code == 0 and "not running" in r.output
    r = runner.invoke(main, ["backend", "models"])
    assert r.exit_code == 0 and "project 3 (serving annotator-p3-v2)" in r.output
    assert "* annotator-p3-v2" in r.output and "held out (5): loaded_term F1 0.50 (0.25)" in r.output
    r = runner.invoke(main, ["backend", "rollback", "annotator-p3-v1"])
    assert r.exit_code == 0 and "when the backend starts" in r.output
    assert reg.current().version == "annotator-p3-v1"
    r = runner.invoke(main, ["backend", "rollback", "annotator-p3-v7"])
    assert r.exit_code == 2 and "no model version 'annotator-p3-v7'" in r.output
    r = runner.invoke(main, ["backend", "rollback", "base"])
    assert r.exit_code == 2 and "--project ID" in r.output


def test_unreachable_label_studio_is_retried_and_reported(tmp_path):
    """A real job process against a port nobody listens on: reported, and queued again with backoff."""
    from annotator.backend import ModelHolder
    from annotator.studio.server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    t = Trainer(tmp_path, ModelHolder(tmp_path), lambda pid: (url, "s3cret-key-123"), debounce=0,
                retry_delays=(60, 120)).start()
    try:
        t.enqueue(5)
        deadline = time.monotonic() + 120
        while (Registry(tmp_path, 5).read()["last_training"] or {}).get("status") != "unreachable":
            assert time.monotonic() < deadline, Registry(tmp_path, 5).read()
            time.sleep(0.5)
        last = Registry(tmp_path, 5).read()["last_training"]
        assert "cannot connect to Label Studio" in last["message"] and last["retry"] == "1 of 2 in 60 s"
        assert [q["attempt"] for q in t.queue()] == [1] and 50 < t.queue()[0]["in_seconds"] <= 60
        assert t.status()["label_studio"]["reachable"] is False
        assert "s3cret-key-123" not in (tmp_path / "projects" / "5" / "registry.json").read_text()
    finally:
        t.stop()


def test_backend_status_output(monkeypatch):
    """``annotator backend status`` on what a running backend's /status answers (shape taken from a real one)."""
    import annotator.cli.backend as cli_backend

    answer = {"base": "framing-957312f0d6", "uptime_seconds": 18, "url": "http://127.0.0.1:9090", "pid": 4242,
              "label_studio": {"http://127.0.0.1:8080": "unreachable"},
              "projects": {"1": {"current": "annotator-p1-v2", "versions": 2,
                                 "last_training": {"status": "unreachable", "finished_at": "2026-12-02T01:00:00+00:00",
                                                   "message": "cannot connect", "retry": "1 of 5 in 5 s"}}},
              "training": {"queue": [{"project_id": 1, "in_seconds": 4.2, "attempt": 1}],
                           "running": {"project_id": 3, "version": "annotator-p3-v1", "pid": 99,
                                       "started_at": "2026-12-02T01:00:00+00:00", "seconds": 8.0},
                           "label_studio": {"reachable": False, "checked_at": "2026-12-02T01:00:00+00:00",
                                            "message": "cannot connect to Label Studio"}}}
    monkeypatch.setattr(cli_backend, "_get", lambda data_dir, path, *a, **k: answer)
    r = CliRunner().invoke(main, ["backend", "status"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "annotator backend at http://127.0.0.1:9090 (pid 4242), base model framing-957312f0d6, up 18 s"
    assert "Label Studio http://127.0.0.1:8080: unreachable" in lines
    assert "training: annotator-p3-v1 for project 3 since 8.0 s" in lines
    assert "queued: project 1 in 4.2 s (retry 1)" in lines
    assert any(x.startswith("project 1: serving annotator-p1-v2 (2 trained versions); last training unreachable")
               for x in lines)
