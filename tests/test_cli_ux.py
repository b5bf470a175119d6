"""A newcomer's first day (issue #13): one-line errors, failed rows named, exit statuses, workers that die
with their parent, and help with examples that fits an 80-column terminal."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from annotator.articles import read_articles
from annotator.cli import main
from annotator.scoring import ScoreSummary

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Officials said the notorious plan reportedly failed, according to sources close to the minister. "


def one_line_error(result, *names) -> str:
    """The single stderr line of a failed command (exit 2, no traceback), which names ``names``."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a Python exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("annotator: error: "), result.stderr
    assert all(str(n) in lines[0] for n in names), lines[0]
    return lines[0]


# --- report: an articles file instead of scores ---------------------------------------------------------------


@pytest.fixture
def articles_files(tmp_path):
    frame = pd.DataFrame({"id": ["a1", "a2"], "text": [SENTENCE, SENTENCE * 2], "title": ["one", "two"]})
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")), encoding="utf-8")
    parquet = tmp_path / "articles.parquet"
    frame.drop(columns="id").to_parquet(parquet)  # no id column either: it used to end in KeyError: 'id'
    csv = tmp_path / "articles.csv"
    frame.to_csv(csv, index=False)
    return {"jsonl": jsonl, "parquet": parquet, "csv": csv}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_report_on_articles_file_is_one_line_error(articles_files, tmp_path, fmt):
    path = articles_files[fmt]
    r = CliRunner().invoke(main, ["report", str(path), "-o", str(tmp_path / "r.html")])
    line = one_line_error(r, path)
    assert "articles file" in line and f"annotator score {path}" in line and "--articles" in line
    assert not (tmp_path / "r.html").exists()


def test_report_on_other_inputs_is_one_line_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not scores", encoding="utf-8")
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x", "risk": \n', encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    scores = tmp_path / "scores.jsonl"
    assert CliRunner().invoke(main, ["score", str(ROOT / "seeds"), "-o", str(scores), "-j", "1"]).exit_code == 0
    runner = CliRunner()
    for path, what in [(notes, "not a report input"), (table, "no 'id'"), (broken, "invalid JSON"),
                       (folder, "part-NNNNN")]:
        line = one_line_error(runner.invoke(main, ["report", str(path), "-o", str(tmp_path / "r.html")]), path)
        assert what in line
    line = one_line_error(runner.invoke(main, ["report", str(scores), "-o", str(notes / "r.html")]), notes)
    assert line.endswith("File exists")  # an OS error on a named file (mkdir of a file): one line too
    ok = runner.invoke(main, ["report", str(scores), "-o", str(tmp_path / "r.html"), "--articles", str(ROOT / "seeds")])
    assert ok.exit_code == 0, ok.output


# --- score / tag / articles: the failed rows named -------------------------------------------------------------


def test_score_missing_file_prints_the_reason(tmp_path):
    missing = tmp_path / "missing.txt"
    r = CliRunner().invoke(main, ["score", str(missing), "-o", str(tmp_path / "o.jsonl"), "-j", "1"])
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert "1 rows: 0 scored, 0 out of scope, 1 failed" in lines[0]
    assert lines[1:] == [f"annotator: failed: {missing}: cannot read (No such file or directory)"]


def test_score_names_three_failed_rows_then_counts_the_rest(tmp_path):
    missing = [tmp_path / f"missing{i}.txt" for i in range(5)]
    good = tmp_path / "good.txt"
    good.write_text(SENTENCE, encoding="utf-8")
    out = tmp_path / "o.jsonl"
    r = CliRunner().invoke(main, ["score", str(good), *map(str, missing), "-o", str(out), "-j", "2", "--chunksize", "2"])
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert "6 rows: 1 scored, 0 out of scope, 5 failed" in lines[0]
    assert lines[1:4] == [f"annotator: failed: {m}: cannot read (No such file or directory)" for m in missing[:3]]
    assert lines[4:] == [f"annotator: ... and 2 more; see the error column of {out}"]


def test_score_summary_line():
    s = ScoreSummary("out.jsonl", "jsonl", "local", rows=10, failed=2, seconds=1.0,
                     errors=(("a.csv:3", "a.csv:3: empty text"), ("b.txt", "scoring failed (ValueError: x)")))
    assert s.line().splitlines()[1:] == ["annotator: failed: a.csv:3: empty text",
                                         "annotator: failed: b.txt: scoring failed (ValueError: x)"]
    unknown = ScoreSummary("out", "jsonl", "dask", rows=10, failed=4, seconds=1.0)  # reasons not collected
    assert unknown.line().splitlines()[1:] == ["annotator: 4 failed rows; see the error column of out"]
    assert len(ScoreSummary("o", "csv", "local", rows=3, seconds=1.0).line().splitlines()) == 1


def test_wrong_text_column_gets_a_hint(tmp_path):
    table = tmp_path / "wrongcol.csv"
    table.write_text(f'id,body\nx1,"{SENTENCE}"\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["score", str(table), "-o", str(tmp_path / "o.jsonl"), "-j", "1"])
    assert r.exit_code == 1 and f"failed: {table}: no 'text' column" in r.stderr
    assert "hint: a table has no 'text' column: name its text column with --text-column" in r.stderr
    assert runner.invoke(main, ["score", str(table), "-o", str(tmp_path / "o.jsonl"), "-j", "1",
                                "--text-column", "body"]).exit_code == 0
    r = runner.invoke(main, ["tag", str(table), "-o", str(tmp_path / "t.jsonl"), "--rules-only"])
    assert r.exit_code == 1 and f"failed: {table}: no 'text' column" in r.stderr and "hint:" in r.stderr
    r = runner.invoke(main, ["articles", str(table), "-o", str(tmp_path / "a.jsonl")])
    assert r.exit_code == 0 and f"failed: {table}: no 'text' column" in r.stderr  # articles: errors are data


# --- push: a file with a wrong column makes the exit status 1 ------------------------------------------------


def test_push_wrong_column_exits_1(studio_server, tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio_server.token)
    table = tmp_path / "wrongcol.csv"
    table.write_text(f'id,body\nx1,"{SENTENCE}"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["push", str(table), str(ROOT / "seeds" / "000_10cd50cdaed94430.txt"),
                                  "--project", "issue-13 wrong column", "--no-predictions"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "1 created, 0 existing, 0 updated, 1 error" in r.stderr
    assert f"annotator: failed: {table}: no 'text' column (columns found: 'id', 'body')" in r.stderr
    assert "hint: a table has no 'text' column: convert it with 'annotator articles" in r.stderr
    again = CliRunner().invoke(main, ["push", str(ROOT / "seeds" / "000_10cd50cdaed94430.txt"),
                                      "--project", "issue-13 wrong column", "--no-predictions"])
    assert again.exit_code == 0 and "0 created, 1 existing" in again.stderr


# --- JSONL messages ------------------------------------------------------------------------------------------


def test_jsonl_control_character_message(tmp_path):
    f = tmp_path / "ctl.jsonl"
    f.write_bytes(b'{"id": "a", "text": "fine"}\n{"id": "b", "text": "tab\there"}\n')
    errors = read_articles(f)["error"].tolist()
    assert errors[0] is None
    assert errors[1] == f"{f}:2: invalid JSON (Invalid control character at column 25)"  # the tab
    assert "at at" not in errors[1]


# --- workers die with their parent ----------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Child and grandchild pids of ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a parent that does not reap it counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_gone(pids, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while (alive := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_kill_9_of_score_leaves_no_worker(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{i}", "text": f"{i}. " + SENTENCE * 15}) + "\n" for i in range(3000)),
                   encoding="utf-8")
    cmd = [sys.executable, "-c", "from annotator.cli import main; main()", "score", str(src), "-o",
           str(tmp_path / "o.jsonl"), "-j", "2", "--chunksize", "16", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, f"no workers seen (exit {proc.poll()}): {proc.stderr.read() if proc.poll() else ''}"
        assert (tmp_path / "o.jsonl.partial").is_dir() and proc.poll() is None
        proc.kill()  # SIGKILL: no handler, no clean-up in the parent
        proc.wait()
        left = _wait_gone(workers, 5)
        assert not left, f"workers still running 5 s after kill -9 of their parent: {sorted(left)}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


WATCHDOG_ONLY = """
import os, sys, time
from annotator.scoring import local
pid = os.fork()
if pid == 0:
    sys.platform = "darwin"  # no prctl: the watchdog thread alone
    local._die_with_parent(None)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_worker_watchdog_exits_when_parent_dies():
    proc = subprocess.Popen([sys.executable, "-c", WATCHDOG_ONLY], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(proc.stdout.readline())
        time.sleep(0.3)
        assert _alive(child)
        proc.kill()
        proc.wait()
        assert not _wait_gone({child}, 5), "the worker outlived its parent by 5 s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)


# --- help ------------------------------------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix=()) -> list[tuple]:
    paths = []
    for name, cmd in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(cmd, click.Group):
            paths.extend(_command_paths(cmd, (*prefix, name)))
    return paths


@pytest.mark.parametrize("path", _command_paths(main), ids=" ".join)
def test_every_command_help_has_an_example(path):
    r = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
    assert r.exit_code == 0, r.output
    assert "Example" in r.output
    examples = r.output.split("Example", 1)[1]
    assert re.search(rf"^ +annotator {re.escape(' '.join(path))}\s", examples, re.M)  # one of this command
    assert max(map(len, r.output.splitlines())) <= 80


def test_top_level_help_fits_80_columns():
    r = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(map(len, lines)) <= 80 and "..." not in r.output and "Example" in r.output
    listed = [line.split()[0] for line in lines[lines.index("Commands:") + 1:] if line.strip()]
    assert listed == sorted(main.commands)


@pytest.mark.parametrize("command,words", [("agreement", ["DATASET is a folder written by 'annotator pull'"]),
                                           ("demo", ["Scores the seed articles", "training-report.html",
                                                     "pushes the seeds"])])
def test_help_says_what_it_is(command, words):
    text = " ".join(CliRunner().invoke(main, [command, "--help"], terminal_width=80).output.split())
    assert all(w in text for w in words)
