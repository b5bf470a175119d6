"""The Dask engine of annotator.scoring on a real LocalCluster (2 worker processes on 127.0.0.1)."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.scoring import expand_inputs, read_scores, score_files

pytest.importorskip("dask.distributed")
from test_scoring import corpus, model, texts, write_jsonl  # noqa: E402,F401  (fixtures too)

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

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


def local_reference(tmp_path, inputs, model, fmt="jsonl"):
    out = tmp_path / f"local.{fmt}"
    score_files(inputs, out, model=model, jobs=1, chunksize=16)
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
    assert "97 rows: 95 scored, 2 failed" in res.output
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
    assert "97 rows: 95 scored, 2 failed" in res.output and "70 of them from the interrupted run" in res.output
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == local.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["_summary.json", "part-00000.jsonl", "part-00001.jsonl",
                                                     "part-00002.jsonl"]
    # a resume with other inputs is refused
    out.rename(partial)
    (partial / "_state.json").write_text(json.dumps(state))
    res = CliRunner().invoke(main, [*args[:2], *args[3:], "--resume"])
    assert res.exit_code == 2 and "cannot resume: the interrupted run had different inputs" in res.output
