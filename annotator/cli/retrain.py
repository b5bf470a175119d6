"""The ``retrain`` command: the fast retrain on a team's pulled annotations, written as a model file."""
from __future__ import annotations

import click

__all__ = ["retrain_command"]


@click.command("retrain", short_help="Retrain fast on a team's pulled annotations.")
@click.argument("datasets", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Model file to write (.skops).")
@click.option("--base", "base_path", type=click.Path(dir_okay=False), default=None,
              help="The model in service (default: the shipped one): its parameters, and the comparison.")
@click.option("--team-weight", type=click.IntRange(1, 100), default=2, show_default=True,
              help="How many corpus articles one team article is worth (its sample weight).")
@click.option("--holdout", type=click.FloatRange(0, 0.5), default=0.15, show_default=True,
              help="Share of the team's articles held out for the figures.")
@click.option("--budget-chars", type=click.IntRange(min=10_000), default=None,
              help="Characters fitted in all (team articles + corpus sample; default 5,000,000); the "
                   "time grows with it.")
def retrain_command(datasets, output, base_path, team_weight, holdout, budget_chars):
    """Fit a new framing model on a team's pulled datasets plus a sample of the
    corpora in under a minute (what the ML backend runs after each round), drop
    the rules the team's annotations contradict, and print the held-out team
    articles' span F1 of the base model and of the new one. 'annotator train'
    is the full, cross-validated build.

    \b
    Examples:
      annotator pull --project "Week 12" -o DATASET
      annotator retrain DATASET -o models/week12.skops
      annotator queue --project "Week 12" --model models/week12.skops
    """
    from ..model import load_model, save_skops
    from ..training.retrain import describe_retrain, retrain

    out = retrain(load_model(base_path), list(datasets), team_weight=team_weight, holdout=holdout,
                  **({"budget_chars": budget_chars} if budget_chars else {}),
                  progress=lambda m: click.echo(f"annotator: {m}", err=True))
    save_skops(out.model, output)
    click.echo(describe_retrain(out))
    click.echo(f"annotator: wrote {output} ({out.model_version})", err=True)
