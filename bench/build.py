"""Time `make model` stage by stage: the same training run, with timers around its functions.

    python bench/build.py                    # full build, as scripts/build_models.py runs it
    python bench/build.py --span-cv 0        # without the cross-validated span figures
    python bench/build.py --json out/build-times.json

Runs :func:`annotator.training.train` exactly as ``scripts/build_models.py`` does (all corpora,
``random_state=0``, 3-fold span cross-validation), saves the model and its card into a temporary
folder (``--out`` to keep it), and prints the wall-clock time of each stage. Nothing in
``annotator`` is edited: the functions below are wrapped with timers for the run (each timer
measures wall and CPU time including what it calls; a parent's "other" row is its own remaining time).

=========================  ===================================================================
stage                      functions timed
=========================  ===================================================================
corpus loading             ``training.load_training_data``, ``training.training_frame``
tagger fit                 ``CueTagger.fit`` (inside ``FramingModel.fit``), of which:
  tokenize                 ``tokenize`` (each article)
  gold spans               ``_gold_span_lengths`` (token labels from the gold spans)
  vocabulary               ``CueTagger._build_vocab`` (vocabulary and its feature rows)
  segments                 ``_segments`` (sentence ends, line breaks, span edge words)
  context words            ``CueTagger._select_context`` (chi-square choice of the bag words)
  design                   ``CueTagger._design`` and ``CueTagger._context_design`` (one sparse
                           token x feature matrix per article)
  held-out fits            every ``CueTagger._fit_pass1`` call of a fit but the last (the
                           classifiers fitted without the tuning part, scored on it)
  threshold tuning         ``_tune_threshold`` (the hysteresis grid, per label)
  span filter              ``CueTagger._fit_span_filter``
  final fit                the last ``CueTagger._fit_pass1`` call of a fit (all articles)
  fold                     ``CueTagger._fold`` (weights -> per-vocabulary tables)
document model             ``FramingModel.fit`` minus its ``CueTagger.fit``, of which:
  tag articles             ``CueTagger.analyze_batch`` (the articles with a document target)
  features                 ``FramingModel._features`` (bag of words, cue rates)
  char n-grams             ``FramingModel._chars`` (hashed character n-grams of the vocabulary,
                           built once, inside the first ``_design``)
  design                   ``FramingModel._design`` (TF-IDF blocks, scaled cue features)
  ridge                    ``Ridge.fit`` and ``Ridge.predict`` (the CV folds and the final fit)
  calibration              ``_centred_isotonic``, ``FramingModel._calibrate``,
                           ``FramingModel._fold_chars``
span cross-validation      ``evaluation.cross_validate_tagger``: its ``CueTagger.fit`` calls
                           (same breakdown as above), ``CueTagger.analyze_batch`` (predicting
                           the held-out folds), and the scoring ("other")
metrics                    the rest of ``train`` (document metrics, data summary)
saving                     ``save_skops`` and ``write_model_card``
=========================  ===================================================================

Timing figures come from a quiet machine only (the README's are measured on 2 cores, nothing
else running); the load average at start and end is printed beside the table.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import annotator.training as training
from annotator.cues import CueTagger
from annotator.model import FramingModel, save_skops, write_model_card
from sklearn.linear_model import Ridge


class Row(NamedTuple):
    """One line of the table: a stage (indented by ``depth``), its wall and CPU seconds, calls."""

    depth: int
    stage: str
    seconds: float
    cpu: float
    calls: int | None


def _clock() -> tuple:
    return time.perf_counter(), time.process_time()


class Timers:
    """Time per call path: ``(outer label, ..., inner label)`` -> [wall seconds, CPU seconds, calls]
    (CPU: this process, all threads; on a busy machine it is the steadier figure)."""

    def __init__(self):
        self.stack: list = []
        self.times: dict = {}
        self.fit_calls: list = []  # per CueTagger.fit in progress: (wall, cpu) of its _fit_pass1 calls
        self.missing: list = []  # functions not found (not timed)

    def add(self, path, wall, cpu, calls=1):
        slot = self.times.setdefault(tuple(path), [0.0, 0.0, 0])
        slot[0] += wall
        slot[1] += cpu
        slot[2] += calls

    def wrap(self, owner, name, label):
        """Replace ``owner.name`` (a function or method) by a timed one, labelled ``label``; a name
        that is not there (the code moved) is listed in ``missing`` and its time falls to "other"."""
        original = getattr(owner, name, None)
        if original is None:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return None
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
        return original

    def wrap_pass1(self):
        """``CueTagger._fit_pass1``: recorded per fit, sorted into held-out and final fits when
        the fit returns (the last call of a fit is the final one)."""
        original = getattr(CueTagger, "_fit_pass1", None)
        if original is None:
            self.missing.append("CueTagger._fit_pass1")
            return
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            w0, c0 = _clock()
            try:
                return original(*args, **kwargs)
            finally:
                w1, c1 = _clock()
                if timers.fit_calls:
                    timers.fit_calls[-1].append((w1 - w0, c1 - c0))

        CueTagger._fit_pass1 = timed
        original_fit = CueTagger.fit

        @functools.wraps(original_fit)
        def fit(*args, **kwargs):
            timers.fit_calls.append([])
            try:
                return original_fit(*args, **kwargs)
            finally:
                calls = timers.fit_calls.pop()
                here = tuple(timers.stack)  # the fit's own label is pushed by the outer wrapper
                for k, (wall, cpu) in enumerate(calls):
                    timers.add(here + ("final fit" if k == len(calls) - 1 else "held-out fits",), wall, cpu)

        CueTagger.fit = fit


def module_of(func):
    """The namespace a function looks its globals up in (where to patch a helper it calls)."""
    return sys.modules[func.__module__]


def install(timers: Timers):
    """Wrap the training pipeline's functions (see the module docstring)."""
    from annotator import evaluation

    timers.wrap(training, "load_training_data", "corpus loading")
    timers.wrap(training, "training_frame", "corpus loading")
    # order matters: the fit wrapper that sorts _fit_pass1 calls must run inside the labelled one
    timers.wrap_pass1()
    timers.wrap(CueTagger, "fit", "tagger fit")
    for name, label in (("_build_vocab", "vocabulary"), ("_select_context", "context words"), ("_design", "design"),
                        ("_context_design", "design"), ("_fit_span_filter", "span filter"), ("_fold", "fold"),
                        ("analyze_batch", "tag articles")):
        timers.wrap(CueTagger, name, label)
    tagger_module = module_of(CueTagger.fit)
    for name, label in (("tokenize", "tokenize"), ("_segments", "segments"), ("_gold_span_lengths", "gold spans"),
                        ("_tune_threshold", "threshold tuning")):
        timers.wrap(tagger_module, name, label)
    timers.wrap(FramingModel, "fit", "document model")
    for name, label in (("_features", "features"), ("_chars", "char n-grams"), ("_design", "design"),
                        ("_calibrate", "calibration"), ("_fold_chars", "calibration")):
        timers.wrap(FramingModel, name, label)
    timers.wrap(module_of(FramingModel.fit), "_centred_isotonic", "calibration")
    timers.wrap(Ridge, "fit", "ridge")
    timers.wrap(Ridge, "predict", "ridge")
    # train imports it when it runs (``from .evaluation import ...``), or at module level
    original = timers.wrap(evaluation, "cross_validate_tagger", "span cross-validation")
    if original is not None and getattr(training, "cross_validate_tagger", None) is original:
        training.cross_validate_tagger = evaluation.cross_validate_tagger


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


def _own(times: dict) -> dict:
    """Inclusive [wall, cpu] -> each path's own time (its time minus its timed children's)."""
    own = {p: [v[0], v[1]] for p, v in times.items()}
    for p, v in times.items():
        if len(p) > 1 and p[:-1] in own:
            own[p[:-1]][0] -= v[0]
            own[p[:-1]][1] -= v[1]
    return own


def table(times: dict, total: tuple) -> list:
    """:class:`Row` s: each timed path under its parent, then the parent's own remaining time as
    "other" when its children leave more than 0.05 s; ``total`` the run's (wall, cpu)."""
    times = _lifted(times)
    own = _own(times)
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
    rows.append(Row(0, "untimed (imports, metrics, summary)", max(0.0, total[0] - sum(v[0] for v in top)),
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="keep the model here (default: a temporary folder)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--span-cv", type=int, default=3, help="folds of the span cross-validation (0: skip; build: 3)")
    ap.add_argument("--limit", type=int, default=None, help="articles per corpus (quick runs; not the build)")
    ap.add_argument("--json", type=Path, default=None, help="also write the timings here")
    args = ap.parse_args(argv)

    timers = Timers()
    install(timers)
    load_before = _load()
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"cpus {os.cpu_count()}, load average {load_before}, threads {threads}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "framing.skops"
        w0, c0 = _clock()
        model = training.train(("corpora",), data_dir=args.data_dir, limit=args.limit, span_cv=args.span_cv,
                               random_state=0, progress=lambda msg: print(f"  {msg}", flush=True))
        w1, c1 = _clock()
        save_skops(model, out)
        write_model_card(model, out)
        w2, c2 = _clock()
        timers.add(("saving",), w2 - w1, c2 - c1)
        size = out.stat().st_size
    total = (w2 - w0, c2 - c0)
    rows = table(timers.times, total)
    print(f"\n{model.model_version}, {size / 2**20:.1f} MB; load average {load_before} at start, {_load()} at end")
    print_table(rows, total)
    if timers.missing:
        print(f"not timed (not found; their time is in the callers' 'other'): {', '.join(timers.missing)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "model_version": model.model_version, "total_seconds": round(total[0], 2),
            "total_cpu_seconds": round(total[1], 2), "cpus": os.cpu_count(),
            "load_average": [load_before, _load()], "threads": threads, "span_cv": args.span_cv, "limit": args.limit,
            "stages": [{"depth": r.depth, "stage": r.stage, "seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu, 2),
                        "calls": r.calls} for r in rows],
            "not_timed": timers.missing,
        }, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
