"""Shared HTML helpers of the reports: the Content-Security-Policy, the templates, number formats, the JSON summary."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_text_atomic
from ..taxonomy import load_taxonomy

__all__ = ["CSP", "SAFE_COLOR", "summary_path", "is_nan", "render"]

#: The Content-Security-Policy of every report: nothing but inline styles and data: images.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
#: A colour that may go into a style attribute (anything else is shown grey).
SAFE_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")


def summary_path(output) -> Path:
    """The JSON summary written beside ``output`` (``report.html`` → ``report.json``)."""
    return Path(output).with_suffix(".json")


def is_nan(x) -> bool:
    """True for None and NaN (and anything float() makes NaN); False for what is not a number."""
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _fmt_num(x, digits=3):
    if is_nan(x):
        return "–"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return f"{float(x):,.{digits}f}"


def _env():
    import jinja2  # heavy: only writing a report needs the templates

    env = jinja2.Environment(loader=jinja2.PackageLoader("annotator", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _fmt_num
    env.filters["pct"] = lambda x: "–" if is_nan(x) else f"{100 * float(x):.1f}%"
    return env


def _jsonable(x):
    """A JSON-serialisable copy (numpy scalars/arrays → Python, NaN → None)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is pd.NA or x is pd.NaT:
        return None
    return x


def _legend(tax):
    return [{"id": lab.id, "color": lab.color if SAFE_COLOR.fullmatch(lab.color) else "#888888", "hint": lab.hint}
            for lab in tax.labels]


def render(template: str, output, summary: dict, **context) -> dict:
    """Write ``template`` rendered to ``output`` and ``summary`` as JSON beside it (both atomically)."""
    tax = load_taxonomy()
    html = _env().get_template(template).render(csp=CSP, legend=_legend(tax), summary=summary,
                                                summary_name=summary_path(output).name, **context)
    write_text_atomic(output, html)
    write_text_atomic(summary_path(output), json.dumps(_jsonable(summary), indent=1, ensure_ascii=False) + "\n")
    return summary
