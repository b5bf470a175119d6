"""Time `make model` stage by stage: the same build, with timers around the pipeline's functions.

    python bench/build.py                    # the full build, as `make model` runs it
    python bench/build.py --span-cv 0        # without the cross-validated span figures
    python bench/build.py --json out/build-times.json

Runs ``scripts/build_models.py`` itself (its ``main``, so the same corpora and parameters as
``make model``) with the model written into a temporary folder (``--out`` to keep it), and prints
the wall-clock and CPU seconds of each stage. Nothing in ``annotator`` is edited: the functions
below are wrapped with timers for the run, looked up where their callers find them (each timer
includes what it calls; a parent's "other" row is its own remaining time; a function that is not
found is named under the table and its time stays in its caller's "other").

======================  ==========================================================================
stage                   functions timed (the module-level ones in the caller's namespace)
======================  ==========================================================================
corpus loading          ``load_training_data`` / ``gather``, ``training_frame``
tagger fit              ``CueTagger.fit`` (inside ``FramingModel.fit``), of which:
  tokenize              ``tokenised_articles`` (tokens, gold span lengths, segments), or
                        ``tokenize``, ``_gold_span_lengths``, ``_segments`` one by one
  vocabulary            ``TokenDesign.__init__`` / ``CueTagger._build_vocab``
  context words         ``select_context`` / ``CueTagger._select_context`` (chi-square)
  design                ``TokenDesign.matrix``, ``context_design`` (or ``CueTagger._design``,
                        ``CueTagger._context_design``): one sparse design per article
  held-out fits         every ``fit_classifiers`` / ``CueTagger._fit_pass1`` call of a fit but
                        the last: the classifiers fitted without the tuning part
  threshold tuning      ``tune_threshold`` / ``_tune_threshold`` (the hysteresis grid)
  span filter           ``CueTagger._fit_span_filter``
  final fit             the last ``fit_classifiers`` / ``_fit_pass1`` call of a fit
  fold                  ``TokenDesign.fold`` / ``CueTagger._fold``
document model          ``FramingModel.fit`` minus its tagger fit, of which: ``analyze_batch``
                        (tag articles), ``_features``, ``_chars`` (char n-grams), ``_design``,
                        ``Ridge.fit``/``Ridge.predict`` (ridge: CV folds and final fit),
                        ``CentredIsotonicCalibration.fit`` / ``_centred_isotonic``,
                        ``_fold_chars``, ``_calibrate`` (calibration)
bigram names            ``record_bigram_names`` (when ``train`` has it)
span cross-validation   ``cross_validate_tagger``: its tagger fits (same breakdown),
                        ``analyze_batch`` (the held-out folds), and the scoring ("other"); when
                        the folds run in worker processes beside the final fit (the build's
                        default; ``--jobs 1`` for the sequential path and its breakdown):
                        ``PendingCV.result`` (wall: the wait for the workers after the final
                        fit), with the workers' own tagger fits and tagging as rows (their
                        wall-clock overlaps the final fit; their CPU is in the stage's and in
                        the total)
saving                  ``save_skops``, ``write_model_card``
======================  ==========================================================================

The CPU column counts this process and its worker processes (``bench/processes.py`` reads the CPU
of every process under this one from ``/proc``: fold workers forked from a fork server are not this
process's children). Below the table, a timeline: per 5 s (``--bucket``), the cores this process,
the fold workers and the fork server kept busy, and the idle ones: on a quiet machine, the wall
time a better schedule could still win.
Timing figures come from a quiet machine only (the README's are measured on 2 cores with nothing
else running); the load average at start and end is printed beside the table, and the CPU
seconds (this process, all threads) are the steadier figure on a busy machine.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from sklearn.linear_model import Ridge

from annotator.cues import CueTagger
from annotator.model import FramingModel
from processes import ProcessClock

BUILD = Path(__file__).resolve().parent.parent / "scripts" / "build_models.py"
#: Labels whose calls are sorted into held-out and final fits (see Timers.classifier_fits).
FITS = ("held-out fits", "final fit")


class Row(NamedTuple):
    """One line of the table: a stage (indented by ``depth``), its wall and CPU seconds, calls."""

    depth: int
    stage: str
    seconds: float
    cpu: float
    calls: int | None


def _clock() -> tuple:
    return time.perf_counter(), time.process_time()


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the span cross-validation's workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Timers:
    """Time per call path: ``(outer label, ..., inner label)`` -> [wall s, CPU s, calls]."""

    def __init__(self):
        self.stack: list = []
        self.times: dict = {}
        self.fits: list = []  # per CueTagger.fit in progress: (wall, cpu) of its classifier fits
        self.missing: list = []  # stages none of whose functions were found
        self.workers: list = []  # FoldRun records of folds fitted in worker processes

    def add_workers(self) -> None:
        """The folds fitted in worker processes under "span cross-validation": their tagger fits and
        tagging (wall-clock in the workers, beside the main fit: not part of this process's wall),
        their CPU added to the stage's (the stage's wall is the wait for them here)."""
        runs = self.workers
        if not runs:
            return
        top = ("span cross-validation",)
        for label, wall, cpu in (("tagger fits (in worker processes)", sum(r.fit_seconds for r in runs),
                                  sum(r.fit_cpu for r in runs)),
                                 ("tag articles (in worker processes)", sum(r.tag_seconds for r in runs),
                                  sum(r.tag_cpu for r in runs))):
            self.add(top + (label,), wall, cpu, len(runs))
            self.add(top, 0.0, cpu, 0)

    def add(self, path, wall, cpu, calls=1):
        slot = self.times.setdefault(tuple(path), [0.0, 0.0, 0])
        slot[0] += wall
        slot[1] += cpu
        slot[2] += calls

    def wrap(self, owner, name, label) -> bool:
        """Replace ``owner.name`` by a timed version labelled ``label``; False when it is not there."""
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            return False
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            timers.stack.append(label)
            path = tuple(timers.stack)
            w0, c0 = _clock()
            try:
                return original(*args, **kwargs)
            finally:
                w1, c1 = _clock()
                timers.add(path, w1 - w0, c1 - c0)
                timers.stack.pop()

        setattr(owner, name, timed)
        return True

    def wrap_any(self, label, places, optional=False) -> None:
        """Wrap every ``(owner, name)`` of ``places`` that exists; note ``label`` when none does
        (unless the stage is ``optional``: not every version of the pipeline has it)."""
        if not [self.wrap(owner, name, label) for owner, name in places].count(True) and not optional:
            self.missing.append(label)

    def classifier_fits(self, places) -> None:
        """The per-label classifier fits of a tagger fit, sorted into held-out and final fits when
        the fit returns (its last call is the final one). Must be installed before ``fit`` is
        wrapped with its label."""
        timers = self
        found = False
        for owner, name in places:
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                continue
            found = True

            def timed(*args, _original=original, **kwargs):
                w0, c0 = _clock()
                try:
                    return _original(*args, **kwargs)
                finally:
                    w1, c1 = _clock()
                    if timers.fits:
                        timers.fits[-1].append((w1 - w0, c1 - c0))

            setattr(owner, name, functools.wraps(original)(timed))
        if not found:
            self.missing.append("held-out and final fits")
            return
        original_fit = CueTagger.fit

        @functools.wraps(original_fit)
        def fit(*args, **kwargs):
            timers.fits.append([])
            try:
                return original_fit(*args, **kwargs)
            finally:
                calls = timers.fits.pop()
                here = tuple(timers.stack)  # the fit's label is pushed by the outer wrapper
                for k, (wall, cpu) in enumerate(calls):
                    timers.add(here + (FITS[1] if k == len(calls) - 1 else FITS[0],), wall, cpu)

        CueTagger.fit = fit


def namespace(func):
    """The module whose globals ``func`` looks names up in (where to wrap a helper it calls)."""
    return sys.modules[func.__module__]


def _module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def install(timers: Timers, build_module) -> None:
    """Wrap the pipeline's functions (see the module docstring), old and new layouts alike."""
    train_ns = namespace(build_module.train)
    tagger_ns = namespace(CueTagger.fit)
    model_ns = namespace(FramingModel.fit)
    design = getattr(tagger_ns, "TokenDesign", None)
    calibration = getattr(model_ns, "CentredIsotonicCalibration", None)
    evaluation = _module("annotator.evaluation")
    timers.wrap_any("corpus loading", [(train_ns, "load_training_data"), (train_ns, "gather"),
                                       (train_ns, "training_frame")])
    timers.classifier_fits([(tagger_ns, "fit_classifiers"), (CueTagger, "_fit_pass1")])
    timers.wrap_any("tagger fit", [(CueTagger, "fit")])
    for label, places in (
            ("tokenize", [(tagger_ns, "tokenised_articles"), (tagger_ns, "tokenize"),
                          (tagger_ns, "_gold_span_lengths"), (tagger_ns, "_segments")]),
            ("vocabulary", [(design, "__init__"), (CueTagger, "_build_vocab")]),
            ("context words", [(tagger_ns, "select_context"), (CueTagger, "_select_context")]),
            ("design", [(design, "matrix"), (design, "matrix_all"), (tagger_ns, "context_design"),
                        (CueTagger, "_context_design")]
             + ([] if design is not None else [(CueTagger, "_design")])),
            ("threshold tuning", [(tagger_ns, "tune_threshold"), (tagger_ns, "_tune_threshold")]),
            ("span filter", [(CueTagger, "_fit_span_filter")]),
            ("fold", [(design, "fold"), (CueTagger, "_fold")]),
            ("tag articles", [(CueTagger, "analyze_batch")]),
            ("document model", [(FramingModel, "fit")]),
            ("features", [(FramingModel, "_features")]),
            ("char n-grams", [(FramingModel, "_chars")]),
            ("design", [(FramingModel, "_design")]),
            ("ridge", [(Ridge, "fit"), (Ridge, "predict")]),
            ("calibration", [(calibration, "fit"), (model_ns, "_centred_isotonic"), (FramingModel, "_fold_chars"),
                             (FramingModel, "_calibrate")]),
            ("saving", [(build_module, "save_skops"), (build_module, "write_model_card")])):
        timers.wrap_any(label, places)
    timers.wrap_any("bigram names", [(train_ns, "record_bigram_names")], optional=True)
    # train finds it in its own module (imported at module level) or imports it when it runs
    original = getattr(evaluation, "cross_validate_tagger", None)
    timers.wrap_any("span cross-validation", [(evaluation, "cross_validate_tagger")])
    if original is not None and getattr(train_ns, "cross_validate_tagger", None) is original:
        train_ns.cross_validate_tagger = evaluation.cross_validate_tagger
    pending = getattr(evaluation, "PendingCV", None)
    if pending is not None:  # the folds in worker processes: the wait here, their own times from the result
        timers.wrap(pending, "result", "span cross-validation")  # (its submission runs in a thread: not timed)
        found = pending.result

        @functools.wraps(found)
        def result(*args, **kwargs):
            table = found(*args, **kwargs)
            timers.workers.extend(table.attrs.get("folds", []))
            return table

        pending.result = result


def _lifted(times: dict) -> dict:
    """The tagger fit inside ``FramingModel.fit`` as a stage of its own (and out of "document model")."""
    out: dict = {}
    inner = ("document model", "tagger fit")
    for p, v in times.items():
        slot = out.setdefault(p[1:] if p[:2] == inner else p, [0.0, 0.0, 0])
        for k in range(3):
            slot[k] += v[k]
    if inner in times and ("document model",) in out:
        for k in range(2):
            out[("document model",)][k] -= times[inner][k]
    return out


def table(times: dict, total: tuple) -> list:
    """:class:`Row` s: each timed path under its parent, then the parent's own remaining time as
    "other" when its children leave more than 0.05 s; ``total`` the run's (wall, cpu)."""
    times = _lifted(times)
    own = {p: [v[0], v[1]] for p, v in times.items()}
    for p, v in times.items():
        if len(p) > 1 and p[:-1] in own:
            own[p[:-1]][0] -= v[0]
            own[p[:-1]][1] -= v[1]
    children: dict = {}
    for p in times:
        children.setdefault(p[:-1], []).append(p)
    rows = []

    def walk(parent, depth):
        for p in children.get(parent, []):
            rows.append(Row(depth, p[-1], times[p][0], times[p][1], times[p][2]))
            walk(p, depth + 1)
            if children.get(p) and own[p][0] > 0.05:
                rows.append(Row(depth + 1, "other", own[p][0], own[p][1], None))

    walk((), 0)
    top = [v for p, v in times.items() if len(p) == 1]
    rows.append(Row(0, "untimed (metrics, summary, printing)", max(0.0, total[0] - sum(v[0] for v in top)),
                    max(0.0, total[1] - sum(v[1] for v in top)), None))
    return rows


def print_table(rows, total, out=sys.stdout):
    width = max(len("  " * r.depth + r.stage) for r in rows) + 2
    print(f"{'stage':<{width}}{'wall s':>9}{'share':>8}{'CPU s':>9}{'calls':>7}", file=out)
    for r in rows:
        name = "  " * r.depth + r.stage
        print(f"{name:<{width}}{r.seconds:9.1f}{100 * r.seconds / total[0]:7.1f}%{r.cpu:9.1f}"
              f"{'' if r.calls is None else r.calls:>7}", file=out)
    print(f"{'total':<{width}}{total[0]:9.1f}{'':>8}{total[1]:9.1f}", file=out)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _build_module(span_cv, limit, built: list, jobs=None):
    """``scripts/build_models.py`` as a module, its ``train`` given the run's options and keeping
    the model it returns in ``built``."""
    spec = importlib.util.spec_from_file_location("build_models", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = module.train

    @functools.wraps(original)
    def train(*args, **kwargs):
        kwargs.setdefault("span_cv", span_cv)
        if limit is not None:
            kwargs.setdefault("limit", limit)
        if jobs is not None:
            kwargs["n_jobs"] = jobs
        built.append(original(*args, **kwargs))
        return built[-1]

    module.train = train
    return module


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="keep the model here (default: a temporary folder)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--span-cv", type=int, default=3, help="folds of the span cross-validation (0: skip; build: 3)")
    ap.add_argument("--limit", type=int, default=None, help="articles per corpus (quick runs; not the build)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="worker processes for the span cross-validation (default: the build's, one per CPU; "
                         "1: its folds fitted in this process after the fit, timed stage by stage)")
    ap.add_argument("--json", type=Path, default=None, help="also write the timings here")
    ap.add_argument("--bucket", type=float, default=5.0, help="seconds per row of the process timeline")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="niceness of the fold workers (default: the build's, annotator.training.folds."
                         "WORKER_NICENESS; 0: the same priority as the training process)")
    args = ap.parse_args(argv)

    built: list = []
    folds = _module("annotator.training.folds")
    if args.worker_nice is not None and folds is not None:
        folds.WORKER_NICENESS = args.worker_nice
    module = _build_module(args.span_cv, args.limit, built, args.jobs)
    timers = Timers()
    install(timers, module)
    load_before = _load()
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    nice = getattr(_module("annotator.training.folds"), "WORKER_NICENESS", None)
    print(f"cpus {os.cpu_count()}, load average {load_before}, threads {threads}, fold workers' niceness +{nice}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp, ProcessClock() as clock:
        out = args.out or Path(tmp) / "framing.skops"
        w0, c0 = _clock()
        k0 = _children_cpu()
        module.main(["--out", str(out)] + (["--data-dir", args.data_dir] if args.data_dir else []))
        w1, c1 = _clock()
        size = out.stat().st_size
    # CPU: this process and its workers (forked from a fork server, they are not its children)
    total = (w1 - w0, clock.total() - clock.samples[0][1].get(clock.root, 0.0) if clock.available
             else c1 - c0 + _children_cpu() - k0)
    timers.add_workers()
    rows = table(timers.times, total)
    version = built[-1].model_version if built else "?"
    print(f"\n{version}, {size / 2**20:.1f} MB; load average {load_before} at start, {_load()} at end")
    print_table(rows, total)
    if timers.missing:
        print(f"not timed (no function found; the time is in the callers' 'other'): {', '.join(timers.missing)}")
    if clock.available:
        print(f"\nCPU s by process: this one {clock.total('main') - clock.samples[0][1].get(clock.root, 0.0):.1f}, "
              f"fold workers {clock.total('workers'):.1f}, fork server {clock.total('fork server'):.1f}; "
              f"cores kept busy per {args.bucket:g} s:")
        clock.print_timeline(args.bucket)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "model_version": version, "total_seconds": round(total[0], 2), "total_cpu_seconds": round(total[1], 2),
            "cpus": os.cpu_count(), "load_average": [load_before, _load()], "threads": threads,
            "span_cv": args.span_cv, "limit": args.limit, "jobs": args.jobs, "not_timed": timers.missing,
            "worker_niceness": nice,
            "stages": [{"depth": r.depth, "stage": r.stage, "seconds": round(r.seconds, 2),
                        "cpu_seconds": round(r.cpu, 2), "calls": r.calls} for r in rows],
            "timeline": [{"from": start, "busy": {k: round(v, 3) for k, v in busy.items()}}
                         for start, busy in clock.timeline(args.bucket)],
        }, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
