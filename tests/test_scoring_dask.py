"""The Dask engine of annotator.scoring on a real LocalCluster (2 worker processes on 127.0.0.1): partitions
by size, the model on every worker, kill -9 of a worker, failed partitions and resume, fsspec URLs."""
from __future__ import annotations

import codecs
import json
import os
import random
import re
import signal
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from annotator.articles import read_articles
from annotator.cli import main
from annotator.errors import AnnotatorError
from annotator.scoring import expand_inputs, read_scores, score_files
from annotator.scoring.inputs import ReaderOptions
from annotator.scoring.partitions import auto_partition_size, number_partitions, parse_size, plan_input
from annotator.scoring.ranges import partition_chunks

pytest.importorskip("dask.distributed")
from test_scoring import corpus, model, texts, write_jsonl  # noqa: E402,F401  (fixtures too)

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a task fails when 2 workers died running it."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as c:
            yield c


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory, texts):
    """A partitioned dataset: a folder of JSONL parts and Parquet parts (plus files readers must skip)."""
    root = tmp_path_factory.mktemp("dataset")
    data = root / "data"
    data.mkdir()
    write_jsonl(data / "part-0.jsonl", corpus(texts, 40))
    write_jsonl(data / "part-1.jsonl", corpus(texts, 25, offset=40) + ["{broken", {"id": "e", "text": ""}])
    pq.write_table(pa.Table.from_pylist(corpus(texts, 30, offset=70)), data / "part-2.parquet", row_group_size=8)
    sub = data / "more"
    sub.mkdir()
    write_jsonl(sub / "part-3.jsonl", corpus(texts, 5, offset=100))
    (data / "_SUCCESS").write_text("")
    (data / ".part-0.jsonl.crc").write_text("x")
    return data


LOCAL_SUMMARIES: dict = {}


def local_reference(tmp_path, inputs, model, fmt="jsonl"):
    """The local engine's output of ``inputs`` (its summary kept in ``LOCAL_SUMMARIES`` under the path)."""
    out = tmp_path / f"local.{fmt}"
    LOCAL_SUMMARIES[out] = score_files(inputs, out, model=model, jobs=1, chunksize=16)
    return out


def test_expand_inputs_partitions(partitioned):
    parts = expand_inputs([partitioned])
    assert [p.replace(str(partitioned), "") for p in parts] == [
        "/more/part-3.jsonl", "/part-0.jsonl", "/part-1.jsonl", "/part-2.parquet"]
    assert expand_inputs([str(partitioned / "part-*.jsonl")]) == [str(partitioned / "part-0.jsonl"),
                                                                  str(partitioned / "part-1.jsonl")]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_dask_engine_equals_local_engine(tmp_path, cluster, model, partitioned, fmt):
    local = local_reference(tmp_path, [partitioned], model, fmt)
    out = tmp_path / "scores"
    summary = score_files([partitioned], out, model=model, engine="dask", scheduler=cluster.scheduler_address,
                          format=fmt, chunksize=16)
    assert summary.engine == "dask" and summary.partitions == 4
    assert (summary.rows, summary.failed, summary.exit_code) == (102, 2, 1)
    # the failed rows are named as the local engine names them, in input order
    assert len(summary.errors) == 2 and summary.errors == LOCAL_SUMMARIES[local].errors
    assert [e[0] for e in summary.errors] == [f"{partitioned / 'part-1.jsonl'}:{n}" for n in (26, 27)]
    assert summary.line().splitlines()[1:] == LOCAL_SUMMARIES[local].line().splitlines()[1:]
    parts = sorted(p.name for p in out.iterdir())
    assert parts == ["_summary.json"] + [f"part-{i:05d}.{fmt}" for i in range(4)]
    meta = json.loads((out / "_summary.json").read_text())
    assert [p["rows"] for p in meta["partitions"]] == [5, 40, 27, 30]
    if fmt == "jsonl":  # the parts, concatenated in order, are the local output byte for byte
        assert b"".join((out / f"part-{i:05d}.jsonl").read_bytes() for i in range(4)) == local.read_bytes()
    pd.testing.assert_frame_equal(read_scores(out), read_scores(local))
    assert not (tmp_path / "scores.partial").exists()


def test_dask_cli_local_cluster_and_resume(tmp_path, model, partitioned):
    local = local_reference(tmp_path, [str(partitioned / "*.jsonl"), str(partitioned / "part-2.parquet")], model)
    out = tmp_path / "scores.jsonl"
    args = ["score", str(partitioned / "*.jsonl"), str(partitioned / "part-2.parquet"), "-o", str(out),
            "--engine", "dask", "-j", "2", "--chunksize", "10"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output  # two bad rows
    assert "97 rows: 95 scored, 0 out of scope, 2 failed" in res.output
    named = [line for line in res.output.splitlines() if line.startswith("annotator: failed: ")]
    assert len(named) == 2 and all(f"{partitioned / 'part-1.jsonl'}:" in line for line in named), res.output
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == local.read_bytes()
    # as if interrupted before partition 1 finished: --resume scores only that partition
    meta = json.loads((out / "_summary.json").read_text())
    partial = tmp_path / "scores.jsonl.partial"
    out.rename(partial)
    (partial / "_summary.json").unlink()
    (partial / "part-00001.jsonl").unlink()
    (partial / ".part-00001.jsonl.x.tmp").write_bytes(b'{"id": "torn')  # a task killed mid-write
    for i in (0, 2):
        (partial / f"_part-{i:05d}.json").write_text(json.dumps({"index": i, **meta["partitions"][i]}))
    state = {"version": 1, "fingerprint": meta["fingerprint"],
             "partitions": [{"index": i, "input": p["input"]} for i, p in enumerate(meta["partitions"])]}
    (partial / "_state.json").write_text(json.dumps(state))
    res = CliRunner().invoke(main, [*args, "--resume"])
    assert res.exit_code == 1, res.output
    assert "97 rows: 95 scored, 0 out of scope, 2 failed" in res.output and "70 of them from the interrupted run" in res.output
    assert [line for line in res.output.splitlines() if line.startswith("annotator: failed: ")] == named
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == local.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["_summary.json", "part-00000.jsonl", "part-00001.jsonl",
                                                     "part-00002.jsonl"]
    # a resume with other inputs is refused
    out.rename(partial)
    (partial / "_state.json").write_text(json.dumps(state))
    res = CliRunner().invoke(main, [*args[:2], *args[3:], "--resume"])
    assert res.exit_code == 2 and "cannot resume: the interrupted run had different inputs" in res.output


# --- partitions by size ---------------------------------------------------------------------------------


class KillOnce:
    """Wraps a model: a worker that scores a text containing MARK dies by SIGKILL (kill -9), while
    the file ``armed`` exists; ``once``: the first death disarms it (the retry then succeeds)."""

    MARK = "\u2620KILL\u2620"

    def __init__(self, inner, armed, once=True):
        self.inner, self.armed, self.once = inner, str(armed), once
        self.model_version = "kill-once"

    def score(self, frame):
        if os.path.exists(self.armed) and frame["text"].str.contains(self.MARK, regex=False).any():
            if self.once:
                os.unlink(self.armed)
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.score(frame)

    @property
    def tagger_(self):
        """The inner model's tagger, as a faithful wrapper forwards it (its operating point picks the spans)."""
        return self.inner.tagger_


def tricky_files(root: Path) -> list:
    """JSONL, CSV (UTF-8 with BOM, cp1252, lone-CR line ends) and Parquet inputs with every kind of bad row."""
    rng = random.Random(7)
    words = ["alpha", "beta,", '"quoted"', "line\nbreak", "\u00e9 \u00fc", "x" * 30, "said", "officials"]
    texts = [f"Article {i}. " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for i in range(240)]
    lines = []
    for i, t in enumerate(texts):
        r = rng.random()
        lines.append("" if r < .04 else "{broken" if r < .07 else "[1, 2]" if r < .08
                     else json.dumps({"id": f"n{i}", "body": t}) if r < .09 else json.dumps({"text": t}) if r < .1
                     else json.dumps({"id": f"a{i}", "text": t, "outlet": "x"}, ensure_ascii=bool(i % 2)))
    (root / "t.jsonl").write_bytes(codecs.BOM_UTF8 + ("\r\n".join(lines[:50]) + "\n" + "\n".join(lines[50:])).encode())
    rows = ["id,text,outlet"]
    for i, t in enumerate(texts):
        r, q = rng.random(), '"' + t.replace('"', '""') + '"'
        rows.append("" if r < .04 else f"b{i},{q}" if r < .07 else f'c{i},a"b,x' if r < .08 else f"a{i},{q},o")
    csv_text = "\r\n".join(rows[:80]) + "\n" + "\n".join(rows[80:]) + '\nz,"never closed\n'
    (root / "t.csv").write_bytes(codecs.BOM_UTF8 + csv_text.encode())
    (root / "cp1252.csv").write_bytes(csv_text.encode().replace("\u00e9".encode(), b"\xe9"))
    (root / "cr.csv").write_bytes("\r".join(r for r in rows if "\n" not in r).encode())
    pq.write_table(pa.Table.from_pylist([{"id": f"p{i}", "text": t if i % 17 else ""} for i, t in enumerate(texts)]),
                   root / "t.parquet", row_group_size=7)
    return [root / n for n in ("t.jsonl", "t.csv", "cp1252.csv", "cr.csv", "t.parquet")]


@pytest.mark.parametrize("size", [1, 200, 3000, 10**9])
def test_partitions_read_as_the_whole_file(tmp_path, size):
    reader = ReaderOptions(chunksize=16)
    for path in tricky_files(tmp_path):
        parts = number_partitions([plan_input(str(path), size, reader.read_options())])
        assert (len(parts) > 1) == (size < 10**9), (path.name, len(parts))
        got = pd.concat([c for p in parts for c in partition_chunks(p, reader)], ignore_index=True)
        pd.testing.assert_frame_equal(got, read_articles([str(path)]), obj=f"{path.name} in {len(parts)} partitions")


def test_partition_size_option():
    assert parse_size("auto") is None and parse_size(None) is None
    assert parse_size("64MB") == parse_size("64 mb") == 64 * 2**20 and parse_size("512k") == 512 * 2**10
    assert parse_size(1000) == 1000 and parse_size("1.5GB") == int(1.5 * 2**30)
    for bad in ("-1", "lots", "0", "12 parsecs"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert auto_partition_size(27 * 2**20, 2) == 27 * 2**20 // 8  # 5,000 PTC articles on 2 workers: 8 partitions
    assert auto_partition_size(100_000, 2) == 2**20
    assert auto_partition_size(10 * 2**30, 8) == 32 * 2**20
    with pytest.raises(AnnotatorError, match="URLs are read and written by the Dask engine"):
        score_files(["memory://in/x.jsonl"], "out.jsonl", model=lambda f: f)


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


#: evaluated on a worker by the builtin ``eval`` (a function of this module would import it, and the scoring code)
_LOADED = "all(m in __import__('sys').modules for m in ('annotator.scoring.workers', 'sklearn', 'pandas'))"


def test_worker_settings_preload_the_scoring_code_and_match_the_readme():
    import yaml
    from dask.distributed import Client

    from annotator.scoring.dask import WORKER_SETTINGS, local_cluster

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("~/.config/dask/annotator.yaml", 1)[1].split("```", 2)[1]
    assert _flat(yaml.safe_load(block)) == WORKER_SETTINGS  # the config file the README gives for `dask worker`
    with local_cluster(1) as cluster, Client(cluster) as client:
        # imported as the worker started, before any task (a fresh worker paid ~2 s of CPU in its first task)
        assert list(client.run(eval, _LOADED).values()) == [True]


def big_input(tmp_path, texts, n=300, mark=None) -> Path:
    rows = corpus(texts, n)
    if mark is not None:
        rows[mark]["text"] += " " + KillOnce.MARK
    rows.insert(17, "{broken")
    return write_jsonl(tmp_path / "big.jsonl", rows)


def test_one_big_jsonl_uses_both_workers(tmp_path, cluster, model, texts):
    src = big_input(tmp_path, texts)
    local = local_reference(tmp_path, [src], model)
    out = tmp_path / "scores"
    summary = score_files([src], out, model=model, scheduler=cluster.scheduler_address, chunksize=16,
                          partition_size="16KB")
    assert summary.format == "parquet" and summary.partitions >= 6 and (summary.rows, summary.failed) == (301, 1)
    meta = json.loads((out / "_summary.json").read_text())
    per_worker = Counter(p["worker"] for p in meta["partitions"])
    assert len(per_worker) == 2, per_worker  # both workers scored partitions of the one file
    assert meta["partitions"][1]["range"].startswith(f"{src} bytes ")
    pd.testing.assert_frame_equal(read_scores(out), read_scores(local))
    assert pd.read_parquet(out)["id"].tolist() == read_scores(local)["id"].tolist()


def test_killed_worker_is_retried_and_reported(tmp_path, cluster, model, texts):
    src = big_input(tmp_path, texts, mark=150)
    local = local_reference(tmp_path, [src], model)
    armed = tmp_path / "armed"
    armed.touch()
    out = tmp_path / "scores"
    summary = score_files([src], out, model=KillOnce(model, armed), scheduler=cluster.scheduler_address,
                          format="jsonl", chunksize=16, partition_size="16KB")
    assert not armed.exists()  # a worker was killed (kill -9) while scoring partition 150's
    assert summary.workers_lost == 1 and summary.retried >= 1
    assert summary.line().splitlines()[0].endswith(f"; 1 worker lost; {summary.retried} partition{'s' * (summary.retried > 1)} retried")
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == local.read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_partitions_are_named_and_resume_finishes(tmp_path, cluster, model, texts):
    src = big_input(tmp_path, texts, mark=150)
    local = local_reference(tmp_path, [src], model)
    armed = tmp_path / "armed"
    armed.touch()
    out = tmp_path / "scores.jsonl"
    killer = KillOnce(model, armed, once=False)
    args = dict(model=killer, scheduler=cluster.scheduler_address, chunksize=16, partition_size="16KB", retries=1)
    with pytest.raises(AnnotatorError) as err:  # the fixture's scheduler allows 1 death per task
        score_files([src], out, **args)
    msg = str(err.value)
    assert "\n" not in msg and re.search(r"^\d+ of \d+ partitions failed \(", msg), msg
    assert f"{src} bytes " in msg and "its worker died each of the 2 times it ran (killed, or out of memory?)" in msg
    assert msg.endswith("run the same command with --resume to score the rest")
    assert not out.exists() and not list(tmp_path.rglob("*.tmp"))
    kept = sorted(p.name for p in (tmp_path / "scores.jsonl.partial").glob("part-*.jsonl"))
    assert kept, "the partitions that finished are kept"
    armed.unlink()
    summary = score_files([src], out, resume=True, **args)
    assert summary.resumed_rows > 0 and summary.rows == 301
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == local.read_bytes()


def test_memory_filesystem_round_trip(tmp_path, model, texts):
    """Inputs and outputs as fsspec URLs, read and written by the workers: memory:// is per process,
    so this cluster's workers run in this process (threads)."""
    import fsspec
    from dask.distributed import LocalCluster

    src = big_input(tmp_path, texts, n=120)
    pq.write_table(pa.Table.from_pylist(corpus(texts, 30, offset=200)), tmp_path / "more.parquet", row_group_size=4)
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/annotator-test/in/data/big.jsonl", src.read_bytes())
    fs.pipe_file("/annotator-test/in/data/sub/more.parquet", (tmp_path / "more.parquet").read_bytes())
    fs.pipe_file("/annotator-test/in/data/_SUCCESS", b"")
    inputs = expand_inputs(["memory://annotator-test/in/data"])
    assert inputs == ["memory:///annotator-test/in/data/big.jsonl", "memory:///annotator-test/in/data/sub/more.parquet"]
    local = read_scores(local_reference(tmp_path, [src, tmp_path / "more.parquet"], model))
    out = "memory://annotator-test/out/scores"
    try:
        with LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address="127.0.0.1:0") as c:
            summary = score_files(["memory://annotator-test/in/data/"], out, model=model, scheduler=c.scheduler_address,
                                  chunksize=16, partition_size="8KB")
        assert summary.output == out and summary.partitions > 3 and summary.rows == 151
        assert not fs.exists("/annotator-test/out/scores.partial")
        assert "_summary.json" in [p.rsplit("/", 1)[1] for p in fs.ls("/annotator-test/out/scores", detail=False)]
        expected = local.copy()  # the same rows, named by their URLs
        for col in ("id", "source", "error"):
            expected[col] = pd.Series([None if s is None else s.replace(str(src), inputs[0])
                                       .replace(str(tmp_path / "more.parquet"), inputs[1]) for s in local[col]],
                                      dtype=object)
        pd.testing.assert_frame_equal(read_scores(out), expected)
        assert pd.read_parquet(out)["id"].tolist() == expected["id"].tolist()  # one Parquet dataset
    finally:
        fs.rm("/annotator-test", recursive=True)
