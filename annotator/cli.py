"""The ``annotator`` command line: thin wrappers over the public Python API.

Each command is a few lines that call a library function taking and returning
pandas objects. Expected failures (:class:`annotator.errors.AnnotatorError`)
print one line ``annotator: error: ...`` and exit with status 2.
"""
from __future__ import annotations

import json
import sys
import time
import warnings

import click
from tqdm import tqdm

from .errors import AnnotatorError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AnnotatorError as exc:
            click.echo(f"annotator: error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="annotator")
def main():
    """Annotate news articles for sourcing and framing, train and score."""


# --- commands (each module registers its own below) -----------------------------------------


@main.command("articles")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="JSONL file to write (replaced atomically). Default: standard output.")
@click.option("--text-column", default="text", show_default=True, help="Text column in CSV/JSONL/Parquet inputs.")
@click.option("--id-column", default="id", show_default=True, help="Id column in tables (else a content hash).")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=20, show_default=True,
              help="Largest article accepted, in MB.")
@click.option("--strict", is_flag=True,
              help="Stop with an error at the first bad file or row (default: write it with 'error' set).")
def articles_command(inputs, output, text_column, id_column, max_mb, strict):
    """Read articles (.txt, folders, .csv, .jsonl, .parquet) and write them as JSONL.

    One JSON object per article: id, text, title, date, outlet, url, source,
    error. Bad files and rows are written with "error" set and the exit status
    is 0; with --strict the first one is a one-line error (exit status 2) and
    the -o file is left untouched.
    """
    from .articles import iter_articles, write_articles_jsonl

    chunks = iter_articles(list(inputs), text_column=text_column, id_column=id_column,
                           errors="raise" if strict else "report", max_bytes=int(max_mb * 2**20))
    rows, bad = write_articles_jsonl(chunks, output, stream=sys.stdout.buffer)
    click.echo(f"annotator: {rows} articles, {bad} with errors" + (f", written to {output}" if output else ""), err=True)


@main.command("tag")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="JSONL file to write (replaced atomically when complete).")
@click.option("--tagger", "tagger_path", type=click.Path(dir_okay=False), default=None,
              help="Cue tagger or framing model (.skops). Default: the tagger in the shipped models/framing.skops.")
@click.option("--rules-only", is_flag=True, help="Only the rules in label_config/cues.toml, no learned tagger.")
@click.option("--text-column", default="text", show_default=True, help="Text column in CSV/JSONL/Parquet inputs.")
@click.option("--id-column", default="id", show_default=True, help="Id column in tables (else a content hash).")
def tag_command(inputs, output, tagger_path, rules_only, text_column, id_column):
    """Find cue spans (sourcing, unverified claims, loaded terms) in articles.

    Writes one JSON object per article: {"id", "spans": [{"label", "start", "end",
    "text", "score"}], "error"}. Offsets are Python string indices into the article
    text. Unreadable articles are written with "error" set.
    """
    from .articles import iter_articles, write_articles_jsonl
    from .cues import tag_articles
    from .model import load_tagger  # moved from annotator.cues

    tagger = False if rules_only else load_tagger(tagger_path)
    bar = tqdm(unit=" articles", file=sys.stderr, disable=None, desc="tagging")

    def tagged():
        for chunk in iter_articles(list(inputs), chunksize=1000, text_column=text_column, id_column=id_column):
            yield tag_articles(chunk, tagger)
            bar.update(len(chunk))

    rows, bad = write_articles_jsonl(tagged(), output)
    bar.close()
    click.echo(f"annotator: tagged {rows - bad} articles, {bad} with errors, written to {output}", err=True)


# --- Label Studio: studio up/down/status, push, pull, agreement (annotator.studio, annotator.agreement) ----


def _studio_options(f):
    f = click.option("--url", default=None, help="Label Studio URL (else LABEL_STUDIO_URL, the config file, "
                                                   "or the local server).")(f)
    f = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="Local server data dir (default ~/.local/share/annotator/studio).")(f)
    f = click.option("--timeout", type=click.FloatRange(min=1), default=60, show_default=True,
                     help="Seconds to wait for each request.")(f)
    return f


@main.group("studio")
def studio_group():
    """Run the local Label Studio (127.0.0.1, data in the user data dir)."""


@studio_group.command("up")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data dir (default ~/.local/share/annotator/studio, or ANNOTATOR_STUDIO_DIR).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: a free one).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
              help="Seconds to wait for the server to answer /health.")
def studio_up(data_dir, port, timeout):
    """Start Label Studio on 127.0.0.1 (first start migrates its database: about a minute)."""
    from .studio import LocalStudio

    local = LocalStudio(data_dir)
    st = local.up(port, timeout=timeout)
    click.echo(f"Label Studio is up at {st['url']} (pid {st['pid']})")
    click.echo(f"login and API token: {st['credentials']} (mode 0600)")


@studio_group.command("down")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data dir of the server.")
def studio_down(data_dir):
    """Stop the local Label Studio (SIGTERM to its PID)."""
    from .studio import LocalStudio

    local = LocalStudio(data_dir)
    click.echo("Label Studio stopped" if local.down() else f"Label Studio was not running ({local.data_dir})")


@studio_group.command("status")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data dir of the server.")
def studio_status(data_dir):
    """Say whether the local Label Studio is up, and its URL."""
    from .studio import LocalStudio

    st = LocalStudio(data_dir).status()
    if st["running"]:
        click.echo(f"up: {st['url']} (pid {st['pid']}{'' if st['healthy'] else ', not answering /health'}); "
                   f"credentials in {st['credentials']}")
    else:
        click.echo(f"down ({st['data_dir']})")


@main.command("push")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("--project", required=True, help="Label Studio project title (created when missing).")
@click.option("--tagger", "--model", "tagger_path", type=click.Path(dir_okay=False), default=None,
              help="Cue tagger or framing model (.skops) for pre-annotations. Default: the shipped one.")
@click.option("--rules-only", is_flag=True, help="Pre-annotate with the cue rules only.")
@click.option("--no-predictions", is_flag=True, help="Push tasks without pre-annotations.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Tasks per import request.")
@click.option("--summary", type=click.Path(dir_okay=False), default=None,
              help="Write the per-article summary (article_id, task_id, status, detail) to this CSV.")
@_studio_options
def push_command(inputs, project, tagger_path, rules_only, no_predictions, chunk_size, summary, url, data_dir,
                 timeout):
    """Import articles into a Label Studio project as tasks with pre-annotations.

    Idempotent: articles already in the project (same article id) are not
    imported again; with a new tagger model_version they get its prediction.
    """
    from .cues import RulesTagger
    from .studio import connect, push

    if no_predictions:
        tagger = None
    elif rules_only:
        tagger = RulesTagger()
    else:
        from .model import load_tagger  # moved from annotator.cues

        tagger = load_tagger(tagger_path)
    studio = connect(url, data_dir=data_dir, timeout=timeout)
    out = push(list(inputs), project, tagger=tagger, studio=studio, chunk_size=chunk_size)
    if summary:
        from .studio import write_csv

        write_csv(out, summary)
    counts = out["status"].value_counts()
    parts = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("created", "existing", "updated", "error"))
    click.echo(f"annotator: project {project!r} at {studio.url}: {parts}", err=True)
    for row in out[out["status"] == "error"].head(5).itertuples():
        click.echo(f"annotator: warning: {row.article_id}: {row.detail}", err=True)


@main.command("pull")
@click.option("--project", required=True, help="Label Studio project title.")
@click.option("-o", "--output", type=click.Path(file_okay=False), required=True,
              help="Dataset folder to write (replaced atomically).")
@click.option("--mismatches", type=click.Path(dir_okay=False), default=None,
              help="Write spans whose stored text differs from the article to this CSV.")
@_studio_options
def pull_command(project, output, mismatches, url, data_dir, timeout):
    """Export a project's annotations into a dataset (articles, documents, spans)."""
    from .studio import StudioWarning, connect, pull, span_mismatches, write_csv

    studio = connect(url, data_dir=data_dir, timeout=timeout)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StudioWarning)
        ds = pull(project, output, studio=studio)
    for w in caught:
        click.echo(f"annotator: warning: {w.message}", err=True)
    if mismatches:
        write_csv(span_mismatches(ds), mismatches)
    m = ds.meta
    click.echo(f"annotator: {len(ds.articles)} articles, {len(ds.documents)} judgements "
               f"({m['cancelled']} cancelled, {m['drafts_excluded']} drafts excluded), {len(ds.spans)} spans "
               f"from {ds.documents['annotator'].nunique()} annotators, written to {output}", err=True)


@main.command("agreement")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the figures as JSON to this file.")
def agreement_command(dataset, json_out):
    """Inter-annotator agreement: span F1 per label and pair, Krippendorff's alpha for the rating."""
    from .agreement import agreement, format_agreement, write_agreement_json

    result = agreement(dataset)
    click.echo(format_agreement(result))
    if json_out:
        write_agreement_json(result, json_out)


@main.command("rules")
@click.option("--write/--no-write", default=True, show_default=True,
              help="Store the measured precision in label_config/rules_measured.json (used as each rule's span score).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Folder with the shared corpora.")
def rules_command(write, data_dir):
    """Measure coverage and precision of every cue rule on the shared corpora."""
    from .corpora import load_corpora
    from .corpus_mapping import corpus_mapping
    from .cues import RULES_MEASURED
    from .cues.measure import measure_rules

    mapping = corpus_mapping()
    table = measure_rules(load_corpora(data_dir=data_dir), {c: m["annotates"] for c, m in mapping.items()})
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if write:
        from .io import write_text_atomic

        records = json.loads(table.to_json(orient="records"))
        write_text_atomic(RULES_MEASURED, json.dumps({"measured_on": "shared corpora (annotator rules)",
                                                      "rules": records}, indent=1) + "\n")
        click.echo(f"annotator: wrote {RULES_MEASURED}", err=True)


@main.command("evaluate")
@click.option("--corpus", "corpora", multiple=True,
              help="A corpus to evaluate on, repeatable (default: every public corpus: ptc, polnear, szeged).")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (grouped by article).")
@click.option("--limit", type=int, default=None, help="At most this many articles per corpus.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Also write the table as JSON.")
def evaluate_command(corpora, folds, limit, json_out):
    """Cross-validated span precision / recall / F1 of the cue tagger on the shared corpora."""
    from .corpora import PUBLIC_CORPORA
    from .evaluation import evaluate_cues

    t0 = time.perf_counter()
    table = evaluate_cues(corpora or PUBLIC_CORPORA, n_splits=folds, limit=limit,
                          progress=lambda msg: click.echo(msg, err=True))
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    click.echo(f"annotator: {folds}-fold cross-validation in {time.perf_counter() - t0:.0f} s", err=True)
    if json_out:
        from .io import write_text_atomic

        write_text_atomic(json_out, table.to_json(orient="records", indent=1))


@main.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Folder for the demo outputs.")
@click.option("--studio/--no-studio", default=True, show_default=True,
              help="Start the local Label Studio and push the seeds with pre-annotations.")
def demo_command(out_dir, studio):
    """The main job on the embedded defaults: tag the seed articles, push them to a local Label Studio."""
    from .demo import run_demo

    run_demo(out_dir, studio=studio, echo=click.echo)


# --- batch scoring (annotator.scoring) -------------------------------------------------------------


@main.command("score")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(), required=True,
              help="Output file (replaced when complete); with --engine dask a folder of parts (or URL: s3://...).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="Framing model (.skops). Default: the shipped models/framing.skops.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default=None,
              help="Output format. Default: from the output extension (Dask: Parquet when it has none).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores; 1 = in-process). Dask: LocalCluster workers.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from OUT.partial (same inputs and model).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default=None,
              help="local (process pool, default) or dask (one task per input partition).")
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786); implies --engine dask.")
@click.option("--partition-size", default="auto", show_default=True,
              help="Dask: input bytes per task (64MB...); larger files are split. auto: 4 per worker thread, 1-32 MB.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Dask: further tries of a partition whose task failed or whose worker died.")
@click.option("--chunksize", type=click.IntRange(min=1), default=128, show_default=True,
              help="Rows per chunk (unit of work, memory and resume).")
@click.option("--text-column", default="text", show_default=True, help="Text column in CSV/JSONL/Parquet inputs.")
@click.option("--id-column", default="id", show_default=True, help="Id column in tables (else a content hash).")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=20, show_default=True,
              help="Largest article accepted, in MB (larger ones become error rows).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr. Default: when stderr is a terminal (to a log: every 10 s).")
def score_command(inputs, output, model_path, fmt, jobs, resume, engine, scheduler, partition_size, retries, chunksize,
                  text_column, id_column, max_mb, progress):
    """Score articles: framing risk (0-100), band, cue spans and counts per label.

    INPUT is anything 'annotator articles' reads (.txt, folders, .csv, .jsonl,
    .parquet), a glob pattern or a folder of tables. Writes one record per
    input row, in input order: id, source, risk, band, spans, n_<label>...,
    error. Bad rows are written with "error" set and never stop the run.

    Exit status: 0 when every row was scored; 1 when some rows have "error"
    set (all rows are still written); 2 on usage or fatal errors; 130 when
    interrupted (run the same command with --resume to continue).
    """
    from .scoring import score_files

    if scheduler and engine == "local":
        raise click.UsageError("--scheduler needs --engine dask")
    try:
        summary = score_files(list(inputs), output, model=model_path, format=fmt, jobs=jobs, resume=resume,
                              engine=engine, scheduler=scheduler, chunksize=chunksize, text_column=text_column,
                              id_column=id_column, max_bytes=int(max_mb * 2**20), progress=progress,
                              partition_size=partition_size, retries=retries)
    except KeyboardInterrupt:
        click.echo(f"\nannotator: interrupted; finished chunks are kept in {output}.partial: "
                   f"run the same command with --resume to continue", err=True)
        sys.exit(130)
    click.echo(summary.line(), err=True)
    sys.exit(summary.exit_code)


@main.command("train")
@click.argument("datasets", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Model file to write (.skops).")
@click.option("--span-cv", default=3, show_default=True, help="Folds for the cross-validated span figures (0: skip).")
@click.option("--limit", type=int, default=None, help="At most this many articles per corpus (quick runs).")
def train_command(datasets, output, span_cv, limit):
    """Train the framing model from pulled datasets and/or corpora (ptc, polnear, szeged, corpora).

    With no DATASETS, trains on all three shared corpora.
    """
    from .model import save_skops
    from .training import describe_metrics, train

    model = train(datasets or ("corpora",), limit=limit, span_cv=span_cv, progress=lambda m: click.echo(m, err=True))
    save_skops(model, output)
    click.echo(describe_metrics(model.metrics_))
    click.echo(f"annotator: wrote {output} ({model.model_version})", err=True)


# --- reports (annotator.report) --------------------------------------------------------------------


@main.command("report")
@click.argument("input", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="HTML file to write; a JSON summary is written beside it (report.html -> report.json).")
@click.option("--articles", "articles", multiple=True, type=click.Path(exists=True),
              help="Scoring report: article inputs (as for 'annotator articles') whose texts are shown, matched by id. "
                   "Repeatable.")
@click.option("--dataset", type=click.Path(exists=True, file_okay=False), default=None,
              help="Training report: a dataset folder from 'annotator pull' for the annotator-agreement section.")
@click.option("--top", "top_n", type=click.IntRange(0, 200), default=25, show_default=True,
              help="Scoring report: riskiest articles shown with their text.")
@click.option("--screenshot", "png", type=click.Path(dir_okay=False), default=None,
              help="Also write a PNG screenshot of the report (headless Chromium).")
def report_command(input, output, articles, dataset, top_n, png):
    """Write an HTML report: of a model (INPUT.skops: training report) or of 'annotator score' output.

    The HTML is one self-contained file (inline plots, no script, no network).
    """
    from .report import screenshot, summary_path, write_report

    summary = write_report(input, output, articles=list(articles) or None, dataset=dataset, top_n=top_n)
    click.echo(f"annotator: {summary['kind']} report written to {output} (summary: {summary_path(output)})", err=True)
    if png:
        screenshot(output, png)
        click.echo(f"annotator: screenshot written to {png}", err=True)
