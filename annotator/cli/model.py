"""The commands that build and measure the model (``rules``, ``evaluate``, ``train``) and ``demo``."""
from __future__ import annotations

import json
import time

import click

__all__ = ["rules_command", "evaluate_command", "train_command", "demo_command"]


@click.command("rules", short_help="Measure each cue rule's coverage and precision on corpora.")
@click.option("--write/--no-write", default=True, show_default=True,
              help="Store the measured precision in label_config/rules_measured.json (used as each rule's span score).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Folder with the shared corpora.")
def rules_command(write, data_dir):
    """Measure coverage and precision of every cue rule on the shared corpora.

    \b
    Examples:
      annotator rules --no-write        # print the table only
      annotator rules --data-dir ../shared/data
    """
    from ..corpora import load_corpora
    from ..corpus_mapping import corpus_mapping
    from ..cues import RULES_MEASURED
    from ..cues.measure import measure_rules

    mapping = corpus_mapping()
    table = measure_rules(load_corpora(data_dir=data_dir), {c: m["annotates"] for c, m in mapping.items()})
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if write:
        from ..io import write_text_atomic

        records = json.loads(table.to_json(orient="records"))
        write_text_atomic(RULES_MEASURED, json.dumps({"measured_on": "shared corpora (annotator rules)",
                                                      "rules": records}, indent=1) + "\n")
        click.echo(f"annotator: wrote {RULES_MEASURED}", err=True)


@click.command("evaluate", short_help="Cross-validated cue figures and the document score's checks.")
@click.option("--corpus", "corpora", multiple=True,
              help="A corpus to evaluate the tagger on, repeatable (default: ptc, polnear, szeged).")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (grouped by article).")
@click.option("--limit", type=int, default=None, help="At most this many articles per corpus.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Also write the table as JSON.")
@click.option("--spans/--no-spans", default=True, show_default=True, help="Cross-validate the span tagger.")
@click.option("--document/--no-document", default=True, show_default=True,
              help="Check the document score of --model (held-out sites, length, genres, subjectivity).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="Model whose document score is checked (default: the shipped model).")
def evaluate_command(corpora, folds, limit, json_out, spans, document, model_path):
    """Cross-validated span precision / recall / F1 of the cue tagger on the shared corpora, and the
    document score's checks: its figures with whole sites (hyperpartisan) and articles (PTC) held
    out, Spearman with article length, the hyperpartisan AUC within thirds of the articles by length
    (beside that of length alone), score distributions on PolNeAR's mainstream articles and on
    Wikipedia, and sentence-level AUC on the CheckThat! subjectivity set (measured only).

    Prints every candidate's figures (span, exact, sentence), then each label's
    precision and recall at the operating point (the spans 'tag' emits by
    default; each fold's tagger chooses its thresholds on its own held-out
    tuning articles), and the share of identity words (label_config/lexicons/
    identity_terms.txt) inside loaded-term spans on neutral text: PolNeAR's
    narrator sentences (out of fold) and CheckThat! 2025's objective sentences.

    With PolNeAR among the corpora, also how well quoted and reported speech is found (voice:
    words inside attributed content, and their sources), per rule variant.

    \b
    Examples:
      annotator evaluate --corpus ptc --folds 3 --limit 200   # a quick look
      annotator evaluate --no-spans   # the document checks only
      annotator evaluate --json cues.json
    """
    from ..corpora import PUBLIC_CORPORA
    from ..corpus_mapping import corpus_mapping
    from ..evaluation import evaluate_cues

    t0 = time.perf_counter()
    table = voice = None
    if spans:
        mapping = corpus_mapping()
        names = corpora or tuple(c for c in PUBLIC_CORPORA if mapping.get(c, {}).get("annotates"))
        table = evaluate_cues(names, n_splits=folds, limit=limit, progress=lambda msg: click.echo(msg, err=True))
        from ..evaluation import describe_operating_point

        click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        click.echo(describe_operating_point(table))
        click.echo(f"annotator: {folds}-fold cross-validation in {time.perf_counter() - t0:.0f} s", err=True)
        if "polnear" in names:
            from ..evaluation import evaluate_voice

            voice = evaluate_voice(limit=limit, progress=lambda msg: click.echo(msg, err=True))
            click.echo("\nvoice (words inside attributed content, and sources) on PolNeAR:")
            click.echo(voice.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if json_out and table is not None:
        from ..io import write_json_atomic

        write_json_atomic(json_out, {"rows": json.loads(table.to_json(orient="records")),
                                     "identity_share": table.attrs.get("identity_share"),
                                     "operating_points": table.attrs.get("operating_points"),
                                     "voice": None if voice is None else json.loads(voice.to_json(orient="records"))})
    if document:
        from ..model import load_model
        from ..model.checktext import describe_checks
        from ..training.checks import document_checks

        click.echo(describe_checks(document_checks(load_model(model_path))))


@click.command("train", short_help="Train the framing model on a team's datasets and/or corpora.")
@click.argument("datasets", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Model file to write (.skops).")
@click.option("--span-cv", default=3, show_default=True, help="Folds for the cross-validated span figures (0: skip).")
@click.option("--limit", type=int, default=None, help="At most this many articles per corpus (quick runs).")
@click.option("--team-weight", type=click.IntRange(1, 100), default=5, show_default=True,
              help="How many times each of the team's articles counts in the span tagger.")
@click.option("--no-corpora", is_flag=True, help="Train on the team's datasets alone (no corpus under them).")
def train_command(datasets, output, span_cv, limit, team_weight, no_corpora):
    """Train the framing model on a team's pulled datasets and/or corpora (ptc, polnear, szeged, corpora).

    A DATASET is a folder written by 'annotator pull', or a corpus name. A dataset
    folder alone is trained on top of the three shared corpora (an article id in the
    dataset wins over the same id in a corpus); name corpora to choose others. With
    no DATASETS, trains on the three shared corpora. The team's ratings become
    document targets from 20 rated articles on; fewer check the model instead (said
    in the output).

    \b
    Examples:
      annotator pull --project NAME -o DATASET
      annotator train DATASET -o models/team.skops   # team labels + corpora
      annotator report models/team.skops -o training.html --dataset DATASET
      annotator train -o models/mine.skops --limit 300 --span-cv 0   # quick
    """
    from ..corpora import PUBLIC_CORPORA
    from ..model import save_skops
    from ..training import describe_metrics, train

    model = train(datasets or ("corpora",), limit=limit, span_cv=span_cv, team_weight=team_weight,
                  base_corpora=() if no_corpora else PUBLIC_CORPORA, progress=lambda m: click.echo(m, err=True))
    save_skops(model, output)
    click.echo(describe_metrics(model.metrics_))
    click.echo(f"annotator: wrote {output} ({model.model_version})", err=True)


@click.command("demo", short_help="Score the seeds, write both reports, push to Label Studio.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Folder for the demo outputs.")
@click.option("--studio/--no-studio", default=True, show_default=True,
              help="Start the local Label Studio and push the seeds with pre-annotations.")
def demo_command(out_dir, studio):
    """See what annotator does, on the seed articles and the model it ships with.

    Scores the seed articles with the shipped model and writes, in the --out
    folder: spans.jsonl (as 'annotator tag' writes), scores.jsonl (as
    'annotator score' writes), training-report.html (the model) and
    scores-report.html (the seeds' scores). With --studio (the default) it
    then starts the local Label Studio, pushes the seeds to the project
    "annotator demo" with the model's pre-annotations, and prints its URL.

    \b
    Examples:
      annotator demo --no-studio        # files only, no Label Studio
      annotator demo --out /tmp/demo
    """
    from ..demo import run_demo

    run_demo(out_dir, studio=studio, echo=click.echo)
