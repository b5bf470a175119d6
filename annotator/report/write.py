"""Pick the report for an input: a model file gets the training report, anything else the scoring report."""
from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import AnnotatorError
from .scoring import scoring_report
from .training import training_report

__all__ = ["write_report"]


def write_report(input, output, *, articles=None, dataset=None, top_n=25) -> dict:
    """A training report when ``input`` is a model file (skops/zip), else a scoring report."""
    p = Path(input)
    if p.is_file() and (p.suffix == ".skops" or zipfile.is_zipfile(p)):
        return training_report(p, output, dataset=dataset)
    if not p.exists():
        raise AnnotatorError(f"{p}: not found")
    return scoring_report(p, output, articles=articles, top_n=top_n)
