"""Time one fast retrain (``annotator.training.retrain``) on N PolNeAR articles taken as the team's annotations.

    python bench/retrain_time.py [--n 500]

The team's dataset is the first N PolNeAR articles with their gold sources, as a pull would give
them (annotated for every label); the base is the shipped model. Prints the wall and CPU seconds
of the call (corpus loading included: a first retrain in a process loads them) and the counts; on a
busy machine only the CPU seconds compare.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.corpora import load_polnear  # noqa: E402
from annotator.dataset import Dataset  # noqa: E402
from annotator.model.files import load_model  # noqa: E402
from annotator.training.retrain import describe_retrain, retrain  # noqa: E402


def team_dataset(n: int) -> Dataset:
    pol = load_polnear()
    ids = list(pol.articles["article_id"][:n])
    team = pol.subset(ids)
    docs = pd.DataFrame({"article_id": ids, "annotator": "team@example.org", "framing_risk": None, "cancelled": False})
    return Dataset(team.articles.assign(corpus="team-project"), docs, team.spans.assign(annotator="team@example.org"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--budget", type=int, default=None, help="budget_chars (default: the retrain's, BUDGET_CHARS).")
    args = ap.parse_args(argv)
    team, base = team_dataset(args.n), load_model()
    wall, cpu = time.perf_counter(), time.process_time()
    out = retrain(base, team, progress=print, **({"budget_chars": args.budget} if args.budget else {}))
    print(f"retrain of {args.n} team articles: {time.perf_counter() - wall:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU, {out.counts['chars_fitted']:,} characters fitted")
    print(describe_retrain(out))


if __name__ == "__main__":
    main()
