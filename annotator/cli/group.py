"""The command group's error and warning handling (one line each, no traceback) and the failed-rows lines commands print."""
from __future__ import annotations

import errno
import sys
import warnings

import click

from ..errors import AnnotatorError, AnnotatorWarning

__all__ = ["AnnotatorGroup", "SHOW_FAILED", "failed_lines", "text_column_hint"]

#: Failed rows whose reason a command prints (the others are counted).
SHOW_FAILED = 3


class AnnotatorGroup(click.Group):
    """A group whose expected failures print ``annotator: error: ...`` (one line) and exit with status 2.

    Expected failures are :class:`~annotator.errors.AnnotatorError` and OS errors on a
    named file (not found, permission denied, disk full...).
    """

    def invoke(self, ctx):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", AnnotatorWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except AnnotatorError as exc:
            click.echo(f"annotator: error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:
            if exc.errno == errno.EPIPE or not getattr(exc, "filename", None):
                raise  # a closed pipe is click's to handle; an OS error on no file is not expected
            click.echo(f"annotator: error: {exc.filename}: {exc.strerror or exc}", err=True)
            sys.exit(2)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Our warnings as ``annotator: warning: ...`` lines; any other one as Python shows it."""
    if issubclass(category, AnnotatorWarning):
        click.echo(f"annotator: warning: {message}", err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def failed_lines(reasons: list[str], failed: int, where: str) -> list[str]:
    """Lines for the first :data:`SHOW_FAILED` failure ``reasons`` of ``failed`` rows, then where the rest are."""
    shown = reasons[:SHOW_FAILED]
    lines = [f"annotator: failed: {reason}" for reason in shown]
    if failed > len(shown):
        more = f"... and {failed - len(shown):,} more" if shown else f"{failed:,} failed rows"
        lines.append(f"annotator: {more}; see {where}")
    return lines


def text_column_hint(reasons, text_column: str, fix: str) -> str | None:
    """``annotator: hint: FIX`` when one of ``reasons`` is a table without the text column, else None."""
    if any(f"no '{text_column}' column" in r or f"no '{text_column}' field" in r for r in reasons):
        return f"annotator: hint: a table has no '{text_column}' column: {fix}"
    return None
