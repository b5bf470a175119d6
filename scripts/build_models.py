"""Rebuild the shipped model files in models/ from ../shared/data (fixed seeds).

    python scripts/build_models.py            # what `make model` runs

Writes models/framing.skops: the span tagger (used by `annotator tag` and for Label
Studio pre-annotations) plus the 0-100 document score, with its cross-validated
figures, and the model card models/framing.md beside it.

The shipped model learns from the three public corpora only (PUBLIC_CORPORA), never from
the seeds: `make demo` scores the seeds, and a model that had their ratings as targets
would show its memory of them (band centres) instead of real predictions.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from annotator.corpora import PUBLIC_CORPORA
from annotator.model import save_skops, write_model_card
from annotator.paths import DEFAULT_MODEL
from annotator.training import describe_metrics, train


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--jobs", type=int, default=None,
                    help="worker processes for the span cross-validation, beside the final fit (default: one "
                         "per CPU; 1: none, its folds after the fit). The model is the same either way.")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    model = train(PUBLIC_CORPORA, data_dir=args.data_dir, random_state=0, progress=print, n_jobs=args.jobs)
    save_skops(model, args.out)
    write_model_card(model, args.out)
    print(describe_metrics(model.metrics_))
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MB, {model.model_version}) "
          f"in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
