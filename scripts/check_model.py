"""Check that the shipped model is the one this commit builds (CI runs it in a fresh clone).

    python scripts/check_model.py                  # rebuild as `make model` does, then compare
    python scripts/check_model.py --built m.skops  # compare a model built already

Rebuilds the model into a temporary folder with ``scripts/build_models.py`` (the command behind
``make model``, same interpreter, same corpora), then compares its ``model_version`` with the
shipped ``models/framing.skops``'s, and the spans and 0-100 scores both give on the seed articles.

Exit status: 0 when the versions and the seeds' spans and scores agree; 1 otherwise, with one line
saying which and what to do; 2 when the build itself fails (its output's last line is shown; the
full log with ``--verbose``).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from annotator.articles import read_articles
from annotator.errors import AnnotatorError
from annotator.model import load_model
from annotator.paths import DEFAULT_MODEL, seed_texts

BUILD = Path(__file__).resolve().parent / "build_models.py"
FIX = "run 'make model' and commit models/framing.skops"


def build(out: Path, data_dir=None, verbose=False) -> str | None:
    """Run ``build_models.py --out out``; None when it succeeds, else the last line of its output."""
    cmd = [sys.executable, str(BUILD), "--out", str(out)] + (["--data-dir", str(data_dir)] if data_dir else [])
    if verbose:
        return None if subprocess.run(cmd).returncode == 0 else f"{BUILD.name} failed (see its output above)"
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode == 0:
        return None
    lines = [x for x in run.stdout.splitlines() if x.strip()]
    return f"{BUILD.name} exited with {run.returncode}: {lines[-1] if lines else 'no output'}"


def seed_results(model) -> dict:
    """Seed name (``000``...) -> (spans as (label, start, end) tuples, risk) under ``model``, the seeds
    read as ``annotator score seeds`` reads them."""
    out = model.score(read_articles(seed_texts(), errors="raise")[["id", "text"]])
    return {i.split("_")[0]: (sorted((d["label"], d["start"], d["end"]) for d in spans), float(r))
            for i, spans, r in zip(out["id"], out["spans"], out["risk"])}


def seed_differences(shipped: dict, built: dict) -> list:
    """Per seed that differs: ``000 (spans 22 -> 24, 3 changed; risk 89.7 -> 89.9)``."""
    diffs = []
    for name in sorted(set(shipped) | set(built)):
        (s_sp, s_r), (b_sp, b_r) = shipped.get(name, ([], float("nan"))), built.get(name, ([], float("nan")))
        parts = []
        if s_sp != b_sp:
            changed = len(set(s_sp) ^ set(b_sp))
            parts.append(f"spans {len(s_sp)} -> {len(b_sp)}, {changed} changed")
        if s_r != b_r:
            parts.append(f"risk {s_r:.1f} -> {b_r:.1f}")
        if parts:
            diffs.append(f"{name} ({'; '.join(parts)})")
    return diffs


def package_differences(shipped, built) -> str:
    """``; packages differ: numpy 2.2.6 -> 2.1.0`` when the two were built with other versions."""
    a, b = getattr(shipped, "versions_", {}) or {}, getattr(built, "versions_", {}) or {}
    diffs = [f"{k} {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return f"; packages differ: {', '.join(diffs)}" if diffs else ""


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the shipped model (default: %(default)s)")
    ap.add_argument("--built", type=Path, default=None, help="compare this model instead of rebuilding")
    ap.add_argument("--data-dir", default=None, help="the shared corpora (default: ANNOTATOR_DATA_DIR or ../shared/data)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the rebuilt model here")
    ap.add_argument("--verbose", action="store_true", help="show the build's output")
    args = ap.parse_args(argv)
    shipped_name = _shown(args.model)
    with tempfile.TemporaryDirectory(prefix="check-model-") as tmp:
        built_path = args.built
        if built_path is None:
            built_path = args.keep or Path(tmp) / "framing.skops"
            failure = build(built_path, args.data_dir, args.verbose)
            if failure:
                print(f"check_model: cannot rebuild the model: {failure}")
                return 2
        built = load_model(built_path)
        try:
            shipped = load_model(args.model)
        except AnnotatorError as exc:  # missing, or built for another label config
            print(f"{shipped_name} is stale ({exc}): this commit builds {built.model_version}; {FIX}")
            return 1
        diffs = seed_differences(seed_results(shipped), seed_results(built))
    seeds = (f"seeds: {', '.join(diffs)}" if diffs else "the seeds' spans and scores agree") + \
        package_differences(shipped, built)
    if shipped.model_version != built.model_version:
        print(f"{shipped_name} is stale: it is {shipped.model_version}, this commit builds {built.model_version} "
              f"({seeds}); {FIX}")
        return 1
    if diffs:
        print(f"{shipped_name} has this commit's model_version {built.model_version} but not its spans or scores "
              f"({seeds}); {FIX}")
        return 1
    print(f"{shipped_name} is up to date ({built.model_version}; {seeds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
