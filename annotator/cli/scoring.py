"""The commands on scores: ``annotator score`` (batch scoring) and ``annotator report`` (HTML reports)."""
from __future__ import annotations

import sys

import click

from .articles import reader_options, span_options
from .group import text_column_hint

__all__ = ["score_command", "report_command"]


@click.command("score", short_help="Score articles: framing risk 0-100, band, cue spans.")
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
@reader_options
@span_options
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=20, show_default=True,
              help="Largest article accepted, in MB (larger ones become error rows).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr. Default: when stderr is a terminal (to a log: every 10 s).")
@click.option("--scope-check/--no-scope-check", default=True, show_default=True,
              help="Leave texts that are not English news prose unscored (status out_of_scope, with a reason). "
                   "--no-scope-check scores every text: only for input known to be English news.")
def score_command(inputs, output, model_path, fmt, jobs, resume, engine, scheduler, partition_size, retries,
                  chunksize, text_column, id_column, min_score, all_candidates, max_mb, progress, scope_check):
    """Score articles: framing risk (0-100), band, cue spans and counts per label.

    INPUT is anything 'annotator articles' reads (.txt, folders, .csv, .jsonl,
    .parquet), a glob pattern or a folder of tables. Writes one record per
    input row, in input order: id, source, status, reason, risk, band,
    confidence, risk_low, risk_high, spans, n_<label>..., error. Status is
    "scored", "out_of_scope" (not English news prose: "reason" says why, e.g.
    "language: de", "too short: 3 words", "not prose: ..."; no risk) or
    "error". Bad rows are written with "error" set and never stop the run;
    the summary counts the three and names the first failed rows and why.
    Spans (and their counts) are those at or above the model's operating
    point unless --min-score or --all-candidates say otherwise.

    Exit status: 0 when no row failed (out-of-scope rows are not failures); 1 when some rows have "error"
    set (all rows are still written); 2 on usage or fatal errors; 130 when
    interrupted (run the same command with --resume to continue).

    \b
    Examples:
      annotator score news/ -o scores.jsonl
      annotator score 'exports/*.csv' --text-column body -j 4 -o scores.parquet
      annotator score big.jsonl -o scores.jsonl --resume   # after Ctrl-C
    """
    from ..scoring import score_files

    if scheduler and engine == "local":
        raise click.UsageError("--scheduler needs --engine dask")
    try:
        summary = score_files(list(inputs), output, model=model_path, format=fmt, jobs=jobs, resume=resume,
                              engine=engine, scheduler=scheduler, chunksize=chunksize, text_column=text_column,
                              id_column=id_column, max_bytes=int(max_mb * 2**20), progress=progress,
                              partition_size=partition_size, retries=retries, min_score=min_score,
                              all_candidates=all_candidates, scope_check=scope_check)
    except KeyboardInterrupt:
        click.echo(f"\nannotator: interrupted; finished chunks are kept in {output}.partial: "
                   f"run the same command with --resume to continue", err=True)
        sys.exit(130)
    click.echo(summary.line(), err=True)
    hint = text_column_hint([err for _, err in summary.errors], text_column,
                            "name its text column with --text-column (and its id column with --id-column)")
    if hint:
        click.echo(hint, err=True)
    sys.exit(summary.exit_code)


@click.command("report", short_help="HTML report of a model or of 'annotator score' output.")
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

    INPUT is a model file (.skops) or what 'annotator score' wrote (a .jsonl,
    .csv or .parquet file, or the folder of --engine dask); an articles file
    is refused (score it first, and give it with --articles). The HTML is one
    self-contained file (inline plots, no script, no network).

    \b
    Examples:
      annotator report scores.jsonl --articles news/ -o report.html
      annotator report models/framing.skops -o model.html
    """
    from ..report import screenshot, summary_path, write_report

    summary = write_report(input, output, articles=list(articles) or None, dataset=dataset, top_n=top_n)
    click.echo(f"annotator: {summary['kind']} report written to {output} (summary: {summary_path(output)})", err=True)
    if png:
        screenshot(output, png)
        click.echo(f"annotator: screenshot written to {png}", err=True)
