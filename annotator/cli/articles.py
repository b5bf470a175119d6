"""The commands on article files: ``annotator articles`` (read them into JSONL) and ``annotator tag`` (cue spans)."""
from __future__ import annotations

import sys

import click
from tqdm import tqdm

from .group import SHOW_FAILED, failed_lines, text_column_hint

__all__ = ["articles_command", "tag_command", "reader_options"]

TEXT_COLUMN_FIX = "name its text column with --text-column (and its id column with --id-column)"


def _noting_errors(chunks, reasons: list):
    """The chunks (frames with an ``error`` column), noting the first :data:`SHOW_FAILED` errors in ``reasons``."""
    for chunk in chunks:
        if len(reasons) < SHOW_FAILED and "error" in chunk:
            reasons.extend(e for e in chunk["error"].dropna().head(SHOW_FAILED - len(reasons)))
        yield chunk


def _echo_failed(reasons: list, bad: int, where: str, text_column: str) -> None:
    hint = text_column_hint(reasons, text_column, TEXT_COLUMN_FIX)
    for line in failed_lines(reasons, bad, where) + ([hint] if hint else []):
        click.echo(line, err=True)


def reader_options(f):
    """The ``--text-column`` and ``--id-column`` options of the commands that read tables."""
    f = click.option("--id-column", default="id", show_default=True,
                     help="Id column in tables (else a content hash).")(f)
    f = click.option("--text-column", default="text", show_default=True,
                     help="Text column in CSV/JSONL/Parquet inputs.")(f)
    return f


def span_options(f):
    """The ``--min-score`` and ``--all-candidates`` options of the commands that emit spans."""
    f = click.option("--all-candidates", is_flag=True,
                     help="Emit every candidate span, however unsure (default: the model's operating point).")(f)
    f = click.option("--min-score", type=click.FloatRange(min=0, max=1), default=None,
                     help="Emit spans scoring at least this, any label (default: the model's per-label "
                          "operating point, chosen on held-out articles for precision >= 0.6).")(f)
    return f


@click.command("articles", short_help="Read article files and write them as JSONL.")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="JSONL file to write (replaced atomically). Default: standard output.")
@reader_options
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=20, show_default=True,
              help="Largest article accepted, in MB.")
@click.option("--strict", is_flag=True,
              help="Stop with an error at the first bad file or row (default: write it with 'error' set).")
def articles_command(inputs, output, text_column, id_column, max_mb, strict):
    """Read articles (.txt, folders, .csv, .jsonl, .parquet) and write them as JSONL.

    One JSON object per article: id, text, title, date, outlet, url, source,
    error. Bad files and rows are written with "error" set (the first few are
    named) and the exit status is 0; with --strict the first one is a one-line
    error (exit status 2) and the -o file is left untouched.

    \b
    Examples:
      annotator articles news/ -o articles.jsonl
      annotator articles export.csv --text-column body -o articles.jsonl
    """
    from ..articles import iter_articles, write_articles_jsonl

    chunks = iter_articles(list(inputs), text_column=text_column, id_column=id_column,
                           errors="raise" if strict else "report", max_bytes=int(max_mb * 2**20))
    reasons: list = []
    rows, bad = write_articles_jsonl(_noting_errors(chunks, reasons), output, stream=sys.stdout.buffer)
    click.echo(f"annotator: {rows} articles, {bad} with errors" + (f", written to {output}" if output else ""), err=True)
    _echo_failed(reasons, bad, f"the error field of {output or 'the output'}", text_column)


@click.command("tag", short_help="Find cue spans (sources, claims, loaded terms) in articles.")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="JSONL file to write (replaced atomically when complete).")
@click.option("--tagger", "tagger_path", type=click.Path(dir_okay=False), default=None,
              help="Cue tagger or framing model (.skops). Default: the tagger in the shipped models/framing.skops.")
@click.option("--rules-only", is_flag=True, help="Only the rules in label_config/cues.toml, no learned tagger.")
@span_options
@reader_options
def tag_command(inputs, output, tagger_path, rules_only, min_score, all_candidates, text_column, id_column):
    """Find cue spans (sourcing, unverified claims, loaded terms) in articles.

    Writes one JSON object per article: {"id", "status", "reason", "spans":
    [{"label", "start", "end", "text", "score"}], "error"}. Offsets are Python
    string indices into the article text. Status is "tagged", "out_of_scope"
    (not English news prose: "reason" says why, e.g. "language: de"; no spans)
    or "error". Unreadable articles are written with "error" set; the first few
    are named, and the exit status is then 1 (else 0; 2 on usage or fatal errors).

    Only spans at or above the tagger's operating point are written (per-label
    score thresholds chosen on held-out articles for a stated precision; the
    model card lists them); --min-score or --all-candidates change that.

    \b
    Examples:
      annotator tag news/ -o spans.jsonl
      annotator tag news/ --all-candidates -o candidates.jsonl
      annotator tag articles.jsonl --rules-only -o spans.jsonl
    """
    from ..articles import iter_articles, write_articles_jsonl
    from ..cues import tag_articles
    from ..model import load_tagger

    tagger = False if rules_only else load_tagger(tagger_path)
    bar = tqdm(unit=" articles", file=sys.stderr, disable=None, desc="tagging")
    out_of_scope = []

    def tagged():
        for chunk in iter_articles(list(inputs), chunksize=1000, text_column=text_column, id_column=id_column):
            frame = tag_articles(chunk, tagger, min_score, all_candidates)
            out_of_scope.append(int((frame["status"] == "out_of_scope").sum()))
            yield frame
            bar.update(len(chunk))

    reasons: list = []
    rows, bad = write_articles_jsonl(_noting_errors(tagged(), reasons), output)
    bar.close()
    oos = sum(out_of_scope)
    click.echo(f"annotator: tagged {rows - bad - oos} articles, {oos} out of scope, {bad} with errors, "
               f"written to {output}", err=True)
    _echo_failed(reasons, bad, f"the error field of {output}", text_column)
    sys.exit(1 if bad else 0)
