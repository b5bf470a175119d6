"""The ``annotator`` command line: thin wrappers over the public Python API.

Each command is a few lines that call a library function taking and returning
pandas objects. Expected failures (:class:`annotator.errors.AnnotatorError`)
print one line ``annotator: error: ...`` and exit with status 2.
"""
from __future__ import annotations

import sys

import click

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
