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
