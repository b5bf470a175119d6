"""Benchmark of batch scoring ('annotator score'): throughput, memory, and a bare-vectorizer baseline.

Builds JSONL corpora of 1k, 10k and 100k articles from the PTC training articles
(../shared/data/ptc-semeval2020/train-articles, repeated and shuffled with a fixed
seed) in a temporary folder, then for each size, in a fresh child process,
scores it with :func:`annotator.scoring.score_files` (what the CLI calls;
default ``-j`` = all cores) and, in the same child, makes one bare pass of
scikit-learn's ``HashingVectorizer(ngram_range=(1, 2))`` over the same texts
(one process, chunk by chunk, transform time only).

Printed per size: articles/s and MB/s end to end (reading, scoring with spans,
writing; not interpreter start or model loading, shown apart), failed rows,
peak RSS of the whole process tree (sum over the child and its workers,
sampled 5 times a second with psutil; PSS every 2 s alongside, which does not count pages
shared by forked workers twice; without psutil: getrusage of the child and of
its largest worker), and the ratio of the scoring time to the vectorizer pass.

    python bench/score.py                      # 1k, 10k, 100k
    python bench/score.py --sizes 1000 10000 -j 1
    python bench/score.py --profile 1000       # where the time goes (-j 1, cProfile)
    python bench/score.py --engine dask --workers 1 2 --sizes 5000

Targets (issue 5): >= 1,000 articles/s; peak RSS at 100k within 10% of 10k;
scoring time <= 2x the bare vectorizer pass; with the scope check (issue 15, on by default)
<= 1.25x. ``--no-scope-check`` scores without it, for a comparison; each run also times the scope
check alone over the same texts in the child (one process) and prints it as a share of the
vectorizer pass (``bench/scope.py`` sets it against the model's own time, interleaved).

``--engine dask --workers 1 2`` (issue 17) compares, in the same run and on the same one
JSONL file per size, the local engine with ``-j 1`` and ``-j 2`` and the Dask engine on a
``LocalCluster`` of 1 and 2 single-threaded worker processes (the engine's own, with its
``WORKER_SETTINGS``, started before the clock starts, as a cluster usually is: its workers have
imported the scoring code as they started, as the local engine's process has; the time includes
planning the partitions, uploading the model to the workers and loading it there, scoring and
writing; JSONL output for both engines; automatic partition size). Printed: articles/s, and
articles/s per worker process.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PTC = (Path(os.environ.get("ANNOTATOR_DATA_DIR", ROOT.parent / "shared" / "data"))
       / "ptc-semeval2020" / "train-articles")


def load_scorer(model_path=None):
    """(model, description): the framing model (default: the shipped models/framing.skops)."""
    from annotator.model import load_model
    from annotator.paths import DEFAULT_MODEL

    model = load_model(model_path)
    name = getattr(model, "model_version", None) or type(model).__name__
    return model, f"{Path(model_path or DEFAULT_MODEL).name} ({name})"


# --- corpora -----------------------------------------------------------------------------------------------


def build_corpus(path: Path, n: int, seed: int = 0) -> int:
    """n articles drawn from the PTC texts (each text used about equally often, shuffled); returns bytes of text."""
    files = sorted(PTC.glob("*.txt"))
    if not files:
        sys.exit(f"bench: no PTC articles in {PTC} (set ANNOTATOR_DATA_DIR)")
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in files]
    rng = random.Random(seed)
    order = []
    while len(order) < n:
        block = list(range(len(texts)))
        rng.shuffle(block)
        order.extend(block)
    size = 0
    with open(path, "w", encoding="utf-8") as f:
        for i, k in enumerate(order[:n]):
            stem, text = texts[k]
            size += len(text.encode("utf-8"))
            f.write(json.dumps({"id": f"{stem}-{i}", "text": text, "outlet": "ptc"}, ensure_ascii=False) + "\n")
    return size


# --- one size, in a child process -----------------------------------------------------------------------


def child(args) -> None:
    import resource

    from sklearn.feature_extraction.text import HashingVectorizer

    from annotator.articles import iter_articles
    from annotator.articles.scope import scope_reasons
    from annotator.scoring import score_files

    t0 = time.perf_counter()
    model, desc = load_scorer(args.model)
    load_s = time.perf_counter() - t0
    cluster = None
    if args.engine == "dask":  # the engine's LocalCluster, started before the clock (a cluster is usually there)
        from annotator.scoring.dask import local_cluster

        cluster = local_cluster(args.jobs)
    print(json.dumps({"event": "scoring"}), flush=True)
    t0 = time.perf_counter()
    summary = score_files([args.input], args.output, model=model, jobs=args.jobs, chunksize=args.chunksize,
                          progress=False, engine=args.engine, format="jsonl",
                          scheduler=cluster.scheduler_address if cluster else None,
                          scope_check=not args.no_scope_check)
    score_s = time.perf_counter() - t0
    if cluster is not None:
        cluster.close()
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"event": "vectorizer"}), flush=True)
    hv = HashingVectorizer(ngram_range=(1, 2))
    hv_s, scope_s, nbytes = 0.0, 0.0, 0
    for chunk in iter_articles([args.input], chunksize=1000):
        texts = chunk["text"].tolist()
        nbytes += sum(len(t.encode("utf-8")) for t in texts)
        t1 = time.perf_counter()
        if not args.skip_vectorizer:
            hv.transform(texts)
        t2 = time.perf_counter()
        scope_reasons(texts)
        hv_s += t2 - t1
        scope_s += time.perf_counter() - t2
    print(json.dumps({"event": "done", "rows": summary.rows, "failed": summary.failed, "seconds": score_s,
                      "load_seconds": load_s, "hv_seconds": hv_s, "scope_seconds": scope_s, "bytes": nbytes, "jobs": summary.jobs,
                      "partitions": summary.partitions, "scorer": desc, "maxrss_self_mb": self_rss,
                      "maxrss_children_mb": child_rss}), flush=True)


def tree_memory(proc, pss=False):
    """(RSS, PSS) in MB summed over a psutil process and its descendants (PSS only when asked: costlier)."""
    import psutil

    rss = pss_total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info() if pss else p.memory_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss_total += getattr(info, "pss", info.rss) if pss else 0
    return rss / 2**20, pss_total / 2**20


def run_size(path: Path, n: int, tmp: Path, args, engine: str = "local", jobs=None) -> dict:
    jobs = args.jobs if jobs is None else jobs
    cmd = [sys.executable, __file__, "--child", "--input", str(path), "--output", str(tmp / f"scores-{n}.jsonl"),
           "--chunksize", str(args.chunksize), "--engine", engine]
    if jobs:
        cmd += ["-j", str(jobs)]
    if args.model:
        cmd += ["--model", args.model]
    if args.no_scope_check:
        cmd += ["--no-scope-check"]
    if args.engine == "dask":  # the comparison: scoring only
        cmd += ["--skip-vectorizer"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    # the sampler below (this process) yields the CPU to the child and its workers: on 2 cores its
    # /proc reads would otherwise slow the scoring it measures
    os.nice(19 - os.nice(0))
    try:
        import psutil

        ps = psutil.Process(proc.pid)
    except ImportError:
        ps = None
    import threading

    state = {"phase": "loading", "result": None}

    def read_events():
        for line in proc.stdout:
            msg = json.loads(line)
            state["phase"] = msg["event"]
            if msg["event"] == "done":
                state["result"] = msg

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    peak_rss = peak_pss = 0.0
    tick = 0
    while proc.poll() is None:
        if ps is not None and state["phase"] == "scoring":
            try:  # RSS 5 times a second, PSS (reads smaps: costly) every 2 s
                rss, pss = tree_memory(ps, pss=tick % 10 == 0)
            except Exception:
                rss = pss = 0.0
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            tick += 1
        time.sleep(0.2)
    reader.join()
    result = state["result"]
    out = tmp / f"scores-{n}.jsonl"
    if out.is_dir():
        shutil.rmtree(out)
    if proc.returncode != 0 or result is None:
        sys.exit(f"bench: child for {n} articles failed (exit status {proc.returncode})")
    if ps is not None:
        result["peak_rss_mb"], result["peak_pss_mb"] = peak_rss, peak_pss
    else:  # the child itself plus its largest worker: a lower bound of the tree
        result["peak_rss_mb"] = result["maxrss_self_mb"] + result["maxrss_children_mb"]
        result["peak_pss_mb"] = float("nan")
    return result


def profile(n: int, tmp: Path, args) -> None:
    import cProfile
    import pstats

    from annotator.scoring import score_files

    path = tmp / f"corpus-{n}.jsonl"
    build_corpus(path, n)
    model, desc = load_scorer(args.model)
    print(f"profile of {n} articles, -j 1, scorer: {desc}")
    prof = cProfile.Profile()
    prof.enable()
    score_files([path], tmp / "p.jsonl", model=model, jobs=1, chunksize=args.chunksize, progress=False)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    pstats.Stats(prof).sort_stats("tottime").print_stats(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--chunksize", type=int, default=128)
    ap.add_argument("--model", default=None, help="model file (default: the shipped one)")
    ap.add_argument("--keep", default=None, help="folder for corpora and outputs (default: a temporary one)")
    ap.add_argument("--profile", type=int, default=None, metavar="N", help="profile scoring N articles with -j 1")
    ap.add_argument("--engine", choices=["local", "dask"], default="local",
                    help="dask: compare local -j W and Dask with W LocalCluster workers, for each W of --workers")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="with --engine dask (default: 1 2)")
    ap.add_argument("--no-scope-check", action="store_true", help="score without the scope check (issue 15)")
    ap.add_argument("--skip-vectorizer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmpdir:
        tmp = Path(args.keep) if args.keep else Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        if args.profile:
            profile(args.profile, tmp, args)
            return
        if args.engine == "dask":
            compare_engines(tmp, args)
            return
        results = {}
        for n in args.sizes:
            path = tmp / f"corpus-{n}.jsonl"
            t0 = time.perf_counter()
            mb = build_corpus(path, n) / 2**20
            print(f"built {n:,} articles ({mb:,.0f} MB of text) in {time.perf_counter() - t0:.1f} s", flush=True)
            r = run_size(path, n, tmp, args)
            results[n] = r
            (tmp / f"scores-{n}.jsonl").unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            print(f"  {r['rows']:,} rows ({r['failed']} failed) in {r['seconds']:.1f} s with -j {r['jobs']}: "
                  f"{r['rows'] / r['seconds']:,.0f} articles/s, {r['bytes'] / 2**20 / r['seconds']:.2f} MB/s; "
                  f"peak RSS {r['peak_rss_mb']:,.0f} MB (PSS {r['peak_pss_mb']:,.0f} MB); "
                  f"vectorizer pass {r['hv_seconds']:.1f} s ({r['rows'] / r['hv_seconds']:,.0f} articles/s), "
                  f"ratio {r['seconds'] / r['hv_seconds']:.2f}x; model load {r['load_seconds']:.1f} s; "
                  f"scope check alone (one process) {r['scope_seconds']:.2f} s = "
                  f"{r['scope_seconds'] / r['hv_seconds']:.2f}x the vectorizer pass", flush=True)
        first = next(iter(results.values()))
        print(f"\nscorer: {first['scorer']}; cores: {os.cpu_count()}; chunksize {args.chunksize}")
        print(f"{'articles':>9} {'art/s':>7} {'MB/s':>6} {'peak RSS MB':>11} {'peak PSS MB':>11} "
              f"{'HV art/s':>8} {'time/HV':>7}")
        for n, r in results.items():
            print(f"{n:>9,} {r['rows'] / r['seconds']:>7,.0f} {r['bytes'] / 2**20 / r['seconds']:>6.2f} "
                  f"{r['peak_rss_mb']:>11,.0f} {r['peak_pss_mb']:>11,.0f} {r['rows'] / r['hv_seconds']:>8,.0f} "
                  f"{r['seconds'] / r['hv_seconds']:>7.2f}")
        if 10_000 in results and 100_000 in results:
            a, b = results[10_000]["peak_rss_mb"], results[100_000]["peak_rss_mb"]
            print(f"peak RSS 100k / 10k: {b / a:.3f} (target <= 1.10)")


def compare_engines(tmp: Path, args) -> None:
    """Local -j W and Dask with W workers, for each size and each W, in this one run."""
    rows = []
    for n in args.sizes:
        path = tmp / f"corpus-{n}.jsonl"
        mb = build_corpus(path, n) / 2**20
        print(f"built {n:,} articles ({mb:,.0f} MB of text)", flush=True)
        for w in args.workers:
            for engine in ("local", "dask"):
                r = run_size(path, n, tmp, args, engine, w)
                rate = r["rows"] / r["seconds"]
                rows.append((n, engine, w, rate, r.get("partitions")))
                print(f"  {engine:>5} with {w} worker{'s' * (w > 1)}: {r['rows']:,} rows in {r['seconds']:.1f} s, "
                      f"{rate:,.0f} articles/s ({rate / w:,.0f} per worker)"
                      + (f", {r['partitions']} partitions" if engine == "dask" else ""), flush=True)
        path.unlink(missing_ok=True)
    first = run_scorer_name(args)
    print(f"\nscorer: {first}; cores: {os.cpu_count()}; chunksize {args.chunksize}; Dask partition size auto")
    print(f"{'articles':>9} {'engine':>6} {'workers':>7} {'art/s':>7} {'per worker':>10} {'partitions':>10}")
    for n, engine, w, rate, parts in rows:
        print(f"{n:>9,} {engine:>6} {w:>7} {rate:>7,.0f} {rate / w:>10,.0f} {parts if engine == 'dask' else '':>10}")


def run_scorer_name(args) -> str:
    from annotator.paths import DEFAULT_MODEL

    return Path(args.model or DEFAULT_MODEL).name


if __name__ == "__main__":
    main()
