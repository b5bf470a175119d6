"""Batch scoring (annotator.scoring, 'annotator score'): real files, real model, real processes."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from annotator.paths import DATA_DIR
from annotator.articles import read_articles
from annotator.cli import main
from annotator.errors import AnnotatorError
from annotator.scoring import output_columns, read_scores, score, score_files
from annotator.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
PTC = DATA_DIR / "ptc-semeval2020" / "train-articles"
TAX = load_taxonomy()
LABELS = TAX.label_ids
COLUMNS = output_columns()


# --- the model ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model():
    """The shipped framing model (models/framing.skops)."""
    from annotator.model import load_model

    return load_model()


class Failing:
    """Wraps a model; raises on texts containing MARK (as a model may on pathological text)."""

    MARK = "\u2603FAIL\u2603"

    def __init__(self, inner):
        self.inner = inner
        self.model_version = "failing-wrapper"

    def score(self, frame):
        if frame["text"].str.contains(self.MARK, regex=False).any():
            raise RecursionError("pathological text")
        return self.inner.score(frame)

    @property
    def tagger_(self):
        """The inner model's tagger, as a faithful wrapper forwards it (its operating point picks the spans)."""
        return self.inner.tagger_


# --- inputs -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def texts(require_corpora):
    """Real news text: the PTC training articles, cut to 200-900 characters (fast to score)."""
    require_corpora("ptc")
    files = sorted(PTC.glob("*.txt"))
    out = []
    for i, p in enumerate(files[:120]):
        t = p.read_text(encoding="utf-8").strip()
        out.append(t[: 200 + (i * 97) % 700])
    return out


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


def corpus(texts, n: int, offset: int = 0) -> list:
    return [{"id": f"a{offset + i}", "text": texts[(offset + i) % len(texts)], "outlet": "ptc"} for i in range(n)]


def records(path: Path) -> list:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def make_inputs(tmp: Path, texts, kind: str) -> list:
    """Real input files of one reader format holding texts[:8]."""
    rows = corpus(texts, 8)
    if kind == "txt":
        paths = []
        for r in rows[:3]:
            (tmp / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8")
            paths.append(tmp / f"{r['id']}.txt")
        return paths
    if kind == "folder":
        for r in rows:
            sub = tmp / "folder" / ("b" if r["id"] in ("a2", "a5") else "a")
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8")
        return [tmp / "folder"]
    if kind == "csv":
        pd.DataFrame(rows).to_csv(tmp / "in.csv", index=False)
        return [tmp / "in.csv"]
    if kind == "jsonl":
        return [write_jsonl(tmp / "in.jsonl", rows)]
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), tmp / "in.parquet", row_group_size=3)
        return [tmp / "in.parquet"]
    raise ValueError(kind)


# --- score(): the Python API ----------------------------------------------------------------------------


def test_score_frame_contract(model, texts):
    frame = pd.DataFrame({"id": ["x", "y", "bad", "z"], "text": [texts[0], texts[1], None, texts[2]],
                          "source": ["s:1", "s:2", "s:3", "s:4"], "error": [None, None, "s:3: empty text", None]},
                         index=[10, 11, 12, 13])
    out = score(frame, model)
    assert list(out.columns) == COLUMNS
    assert list(out.index) == [10, 11, 12, 13]
    assert out["id"].tolist() == ["x", "y", "bad", "z"]
    assert out["source"].tolist() == ["s:1", "s:2", "s:3", "s:4"]
    ok = out.drop(index=12)
    assert ok["error"].isna().all()
    assert ((ok["risk"] >= 0) & (ok["risk"] <= 100)).all()
    assert set(ok["band"]) <= set(TAX.rating_choices)
    for _, row in ok.iterrows():
        for lab in LABELS:
            assert row[f"n_{lab}"] == sum(d["label"] == lab for d in row["spans"])
        for d in row["spans"]:
            assert list(d)[:6] == ["label", "start", "end", "text", "score", "voice"]
            assert set(d) <= {"label", "start", "end", "text", "score", "voice", "attributed_to"}
            assert d["voice"] in ("narrator", "quoted")
            assert "attributed_to" not in d or d["voice"] == "quoted"
            assert d["label"] in LABELS
            assert frame.loc[row.name, "text"][d["start"]:d["end"]] == d["text"]
    bad = out.loc[12]
    assert bad["error"] == "s:3: empty text" and math.isnan(bad["risk"]) and bad["band"] is None
    assert bad["spans"] is None and pd.isna(bad[f"n_{LABELS[0]}"])
    # deterministic, and the same whatever the batch
    again = pd.concat([score(frame.iloc[[i]], model) for i in range(len(frame))])
    pd.testing.assert_frame_equal(out, again)


def test_score_rows_on_which_the_model_raises_become_error_rows(model, texts):
    bad = texts[3] + Failing.MARK
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(7)],
                          "text": [texts[0], bad, texts[1], texts[2], bad, texts[4], texts[5]]})
    out = score(frame, Failing(model))
    assert out["error"].notna().tolist() == [False, True, False, False, True, False, False]
    assert out.loc[1, "error"].startswith("r1: scoring failed (RecursionError: pathological text")
    good = [0, 2, 3, 5, 6]
    pd.testing.assert_frame_equal(out.loc[good], score(frame.loc[good], model))


def test_score_invalid_model_output_is_an_error_row(model, texts):
    class Broken:
        def score(self, frame):
            out = model.score(frame)
            out.loc[out.index[0], "risk"] = float("nan")
            out.loc[out.index[1], "band"] = "unheard-of"
            return out

    out = score(pd.DataFrame({"id": ["a", "b", "c"], "text": texts[:3]}), Broken())
    assert [e is not None and "invalid model output" in e for e in out["error"]] == [True, True, False]


# --- score_files: every reader format in, every format out ------------------------------------------


@pytest.mark.parametrize("kind", ["txt", "folder", "csv", "jsonl", "parquet"])
def test_every_reader_format_in(tmp_path, model, texts, kind):
    inputs = make_inputs(tmp_path, texts, kind)
    articles = read_articles(inputs)
    summary = score_files(inputs, tmp_path / "out.jsonl", model=model, jobs=1, chunksize=3)
    got = records(tmp_path / "out.jsonl")
    assert summary.rows == len(got) == len(articles) and summary.failed == 0 and summary.exit_code == 0
    assert [r["id"] for r in got] == articles["id"].tolist()
    assert [r["source"] for r in got] == articles["source"].tolist()
    assert [list(r) for r in got] == [COLUMNS] * len(got)
    expected = score(articles, model)
    pd.testing.assert_frame_equal(read_scores(tmp_path / "out.jsonl"), expected.reset_index(drop=True))


def test_every_format_out_holds_the_same_records(tmp_path, model, texts):
    src = write_jsonl(tmp_path / "in.jsonl", corpus(texts, 9) + ["{broken", {"id": "e", "text": " "}])
    frames = {}
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        summary = score_files([src], out, model=model, jobs=1, chunksize=4)
        assert summary.format == fmt and summary.rows == 11 and summary.failed == 2
        frames[fmt] = read_scores(out)
        assert not (tmp_path / f"out.{fmt}.partial").exists()
    pd.testing.assert_frame_equal(frames["csv"], frames["jsonl"])
    pd.testing.assert_frame_equal(frames["parquet"], frames["jsonl"])
    # CSV: nested spans as JSON text, nulls as empty cells
    raw = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(raw.columns) == COLUMNS
    assert json.loads(raw.loc[0, "spans"]) == frames["jsonl"].loc[0, "spans"]
    assert raw.loc[9, "risk"] == "" and raw.loc[9, "error"].endswith("invalid JSON (Expecting property name enclosed "
                                                                       "in double quotes at column 2)")
    # Parquet: a typed schema
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.names == COLUMNS
    assert schema.field("risk").type == pa.float64() and schema.field(f"n_{LABELS[0]}").type == pa.int64()
    assert pa.types.is_list(schema.field("spans").type)
    # --format wins over the extension
    score_files([src], tmp_path / "out.txt", model=model, format="csv", jobs=1)
    assert (tmp_path / "out.txt").read_bytes() == (tmp_path / "out.csv").read_bytes()
    with pytest.raises(AnnotatorError, match="cannot tell the output format"):
        score_files([src], tmp_path / "out.txt", model=model, jobs=1)


def test_bad_rows_are_error_rows_never_missing(tmp_path, model, texts):
    good = tmp_path / "good.txt"
    good.write_text(texts[0], encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (tmp_path / "wrong-encoding.txt").write_bytes("caf\u00e9 ".encode("utf-8") + b"\x81\x8d\x8f\x90\x9d" * 5)
    big_text = ("\n\n".join(texts) + "\n\n") * (5 * 2**20 // len("\n\n".join(texts)) + 1)
    big_text = big_text[: 5 * 2**20]
    (tmp_path / "big.txt").write_text(big_text, encoding="utf-8")
    jsonl = write_jsonl(tmp_path / "rows.jsonl", [
        {"id": "j1", "text": texts[1]},
        '{"id": "j2", "text": "broken line',
        {"id": "j3", "text": ""},
        {"id": "j4", "text": texts[2] + Failing.MARK},
        "[1, 2]",
        {"id": "j6", "text": "zero\u0000byte"},
        {"id": "j7", "text": texts[3]},
    ])
    inputs = [good, tmp_path / "empty.txt", tmp_path / "binary.txt", tmp_path / "wrong-encoding.txt",
              tmp_path / "big.txt", tmp_path / "missing.txt", tmp_path / "notes.docx", jsonl]
    out = tmp_path / "out.jsonl"
    t0 = time.perf_counter()
    summary = score_files(inputs, out, model=Failing(model), jobs=1, chunksize=4)
    elapsed = time.perf_counter() - t0
    got = records(out)
    articles = read_articles(inputs)
    assert len(got) == len(articles) == summary.rows == 14
    assert [r["source"] for r in got] == articles["source"].tolist()
    assert [r["id"] for r in got] == articles["id"].tolist()
    failed = {r["id"]: r["error"] for r in got if r["error"]}
    assert set(failed) == {"empty", "binary", "wrong-encoding", "missing", "notes", f"{jsonl}:2", "j3", "j4",
                           f"{jsonl}:5", "j6"}
    assert summary.failed == 10 and summary.exit_code == 1
    assert failed["j4"] == f"{jsonl}:4: scoring failed (RecursionError: pathological text)"
    assert "binary" in failed["binary"] and "not UTF-8 or cp1252" in failed["wrong-encoding"]
    big = got[4]
    assert big["id"] == "big" and big["error"] is None and big["band"] in TAX.rating_choices
    assert big["spans"] and max(d["end"] for d in big["spans"]) <= len(big_text)
    for r in got:
        assert (r["error"] is None) == (r["risk"] is not None) == (r["spans"] is not None)
    print(f"14 rows incl. a 5 MB article scored in {elapsed:.1f} s")


def test_jobs_1_and_2_write_identical_records(tmp_path, model, texts):
    rows = corpus(texts, 300) + ["not json"] + corpus(texts, 50, offset=300)
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    s1 = score_files([src], tmp_path / "j1.jsonl", model=model, jobs=1, chunksize=16)
    s2 = score_files([src], tmp_path / "j2.jsonl", model=model, jobs=2, chunksize=16)
    assert (s1.rows, s1.failed) == (s2.rows, s2.failed) == (351, 1)
    assert (tmp_path / "j1.jsonl").read_bytes() == (tmp_path / "j2.jsonl").read_bytes()
    got = records(tmp_path / "j2.jsonl")
    assert [r["source"] for r in got] == [f"{src}:{i}" for i in range(1, 352)]
    # with another thread running, workers are not forked but started from a fork server (model pickled)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        score_files([src], tmp_path / "j2.parquet", model=model, jobs=2, chunksize=16)
    finally:
        stop.set()
        other.join()
    pd.testing.assert_frame_equal(read_scores(tmp_path / "j2.parquet"), read_scores(tmp_path / "j1.jsonl"))


# --- resume ---------------------------------------------------------------------------------------------


class Interrupting:
    """The model, but Ctrl-C arrives during its ``after``-th call (same fingerprint as the plain one)."""

    model_version = "interrupt-test"

    def __init__(self, inner, after=None):
        self.inner, self.after, self.calls = inner, after, 0

    def score(self, frame):
        self.calls += 1
        if self.after is not None and self.calls >= self.after:
            raise KeyboardInterrupt
        return self.inner.score(frame)

    @property
    def tagger_(self):
        """The inner model's tagger, as a faithful wrapper forwards it (its operating point picks the spans)."""
        return self.inner.tagger_


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_interrupted_run_resumes_to_the_same_output(tmp_path, model, texts, fmt):
    src = write_jsonl(tmp_path / "in.jsonl", corpus(texts, 60) + ["{"] + corpus(texts, 20, offset=60))
    whole = tmp_path / f"whole.{fmt}"
    score_files([src], whole, model=Interrupting(model), jobs=1, chunksize=7)
    out = tmp_path / f"out.{fmt}"
    with pytest.raises(KeyboardInterrupt):
        score_files([src], out, model=Interrupting(model, after=5), jobs=1, chunksize=7)
    assert not out.exists()
    state = json.loads((tmp_path / f"out.{fmt}.partial" / "state.json").read_text())
    assert state["rows"] == 28
    summary = score_files([src], out, model=Interrupting(model), jobs=1, chunksize=7, resume=True)
    assert summary.resumed_rows == 28 and summary.rows == 81 and summary.failed == 1
    if fmt != "parquet":
        assert out.read_bytes() == whole.read_bytes()
    pd.testing.assert_frame_equal(read_scores(out), read_scores(whole))
    assert not (tmp_path / f"out.{fmt}.partial").exists()


def test_resume_is_refused_when_inputs_model_or_options_differ(tmp_path, model, texts):
    src = write_jsonl(tmp_path / "in.jsonl", corpus(texts, 30))
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_files([src], out, model=Interrupting(model, after=2), jobs=1, chunksize=10)
    other = Interrupting(model)
    other.model_version = "another-model"
    with pytest.raises(AnnotatorError, match="cannot resume: the interrupted run had a different model"):
        score_files([src], out, model=other, jobs=1, chunksize=10, resume=True)
    with pytest.raises(AnnotatorError, match="different options"):
        score_files([src], out, model=Interrupting(model), jobs=1, format="csv", resume=True)
    with pytest.raises(AnnotatorError, match="different inputs"):
        score_files([src, src], out, model=Interrupting(model), jobs=1, resume=True)
    with pytest.raises(AnnotatorError, match="the interrupted run used --engine local"):
        score_files([src], out, model=Interrupting(model), engine="dask", resume=True)
    write_jsonl(src, corpus(texts, 31))  # the input changed since
    with pytest.raises(AnnotatorError, match=r"out.jsonl.partial: cannot resume: .*different inputs"):
        score_files([src], out, model=Interrupting(model), jobs=1, resume=True)
    assert (tmp_path / "out.jsonl.partial" / "state.json").exists() and not out.exists()
    # without --resume the leftover is discarded and the run starts again
    summary = score_files([src], out, model=Interrupting(model), jobs=1)
    assert summary.rows == 31 and summary.resumed_rows == 0


# --- the CLI in a real subprocess: kill -9 / Ctrl-C, then --resume -----------------------------------------


def cli_command(args: list) -> list:
    """``annotator score ...`` in a fresh interpreter."""
    return [sys.executable, "-c", "from annotator.cli import main; main()", "score", *map(str, args)]


def run_until(cmd, state_path: Path, min_rows: int, sig) -> subprocess.CompletedProcess:
    """Start ``cmd`` in its own process group; once ``min_rows`` are recorded done, send ``sig`` to the group."""
    # a shell that runs the tests in the background (`make test &`) ignores SIGINT, and the child would
    # inherit that: Ctrl-C is restored to its default in the child, as in a terminal
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                rows = json.loads(state_path.read_text())["rows"]
            except (OSError, ValueError, KeyError):
                rows = 0
            if rows >= min_rows:
                break
            if proc.poll() is not None:
                pytest.fail(f"run ended before it could be interrupted: {proc.communicate()}")
            time.sleep(0.02)
        else:
            pytest.fail("no progress")
        os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.fixture(scope="module")
def long_input(tmp_path_factory, model, texts):
    """800 rows (one broken line) and their uninterrupted scores."""
    tmp = tmp_path_factory.mktemp("long")
    rows = corpus(texts, 800)
    rows[500] = "{broken"
    src = write_jsonl(tmp / "in.jsonl", rows)
    whole = tmp / "whole.jsonl"
    assert score_files([src], whole, model=model, jobs=1, chunksize=200).rows == 800
    return src, whole


@pytest.mark.parametrize("fmt,jobs,sig", [("jsonl", 2, signal.SIGKILL), ("parquet", 1, signal.SIGKILL),
                                          ("csv", 2, signal.SIGINT)])
def test_cli_killed_run_resumes_to_the_same_output(tmp_path, long_input, fmt, jobs, sig):
    src, whole = long_input
    out = tmp_path / f"out.{fmt}"
    args = [src, "-o", out, "-j", jobs, "--chunksize", 20]
    state = tmp_path / f"out.{fmt}.partial" / "state.json"
    killed = run_until(cli_command(args), state, 100, sig)
    if sig == signal.SIGKILL:
        assert killed.returncode == -signal.SIGKILL
    else:
        assert killed.returncode == 130, killed.stderr
        assert b"--resume to continue" in killed.stderr
    done = json.loads(state.read_text())["rows"]
    assert 100 <= done < 800 and not out.exists()
    if fmt == "jsonl":  # as if killed mid-write: a torn line after the last recorded chunk
        with open(tmp_path / "out.jsonl.partial" / "data.jsonl", "ab") as f:
            f.write(b'{"id": "torn')
    resumed = subprocess.run(cli_command([*args, "--resume"]), capture_output=True, timeout=300)
    assert resumed.returncode == 1, resumed.stderr  # the broken line is a failed row
    assert f"{done:,} of them from the interrupted run".encode() in resumed.stderr
    assert b"800 rows: 799 scored, 0 out of scope, 1 failed" in resumed.stderr
    if fmt == "jsonl":
        assert out.read_bytes() == whole.read_bytes()
    pd.testing.assert_frame_equal(read_scores(out), read_scores(whole))
    assert not (tmp_path / f"out.{fmt}.partial").exists()


def test_cli_exit_status_and_summary(tmp_path, model, texts):
    src = write_jsonl(tmp_path / "in.jsonl", corpus(texts, 3))
    bad = write_jsonl(tmp_path / "bad.jsonl", corpus(texts, 2) + ["{"])
    runner = CliRunner()
    ok = runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "-j", "1"])
    assert ok.exit_code == 0, ok.output
    assert "3 rows: 3 scored, 0 out of scope, 0 failed" in ok.output
    assert "scoring:" not in ok.output  # no bar when stderr is not a terminal, unless asked for
    shown = runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "p.jsonl"), "-j", "1", "--progress"])
    assert shown.exit_code == 0 and "scoring:" in shown.stderr and "3/3" in shown.stderr
    some = runner.invoke(main, ["score", str(bad), "-o", str(tmp_path / "b.csv"), "-j", "1"])
    assert some.exit_code == 1 and "3 rows: 2 scored, 0 out of scope, 1 failed" in some.output
    assert len(read_scores(tmp_path / "b.csv")) == 3
    usage = runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "o.xyz")])
    assert usage.exit_code == 2 and "cannot tell the output format" in usage.output
    assert runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "-j", "0"]).exit_code == 2
    nomodel = runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "--model",
                                   str(tmp_path / "nope.skops")])
    assert nomodel.exit_code == 2 and "annotator: error:" in nomodel.output
    mixed = runner.invoke(main, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "local",
                                 "--scheduler", "tcp://127.0.0.1:1"])
    assert mixed.exit_code == 2


def test_progress_total_of_jsonl_counts_lines_without_parsing(tmp_path):
    """The progress bar's total (so it can show an ETA): lines of JSONL inputs, rows of folders;
    CSV stays unknown (quoted fields may span lines)."""
    from annotator.scoring.progress import cheap_total as _cheap_total

    a = tmp_path / "a.jsonl"
    a.write_bytes(b'{"id": "1", "text": "x"}\n{"id": "2", "text": "y"}\n{"id": "3", "text": "z"}')  # no final newline
    b = tmp_path / "b.jsonl"
    b.write_bytes(b'{"id": "4", "text": "w"}\n')
    assert _cheap_total([str(a), str(b)]) == 4
    c = tmp_path / "c.csv"
    c.write_text('id,text\n1,"two\nlines"\n')
    assert _cheap_total([str(a), str(c)]) is None
