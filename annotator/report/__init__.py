"""Reports people review: one self-contained HTML file plus a JSON summary beside it.

Two kinds:

* :func:`training_report` for a framing model (``.skops``): training data, span
  precision / recall / F1, band confusion, calibration, score distribution, the most
  influential tagger terms and document features, annotator agreement (from a pulled
  Label Studio dataset when given), and the worst out-of-fold errors.
* :func:`scoring_report` for ``annotator score`` output (plus, optionally, the article
  texts): score histogram, band counts, the top-N riskiest articles with their cue spans
  highlighted, a per-outlet table and the failed rows.

Both return the summary dict that is also written as JSON beside the HTML
(``report.html`` → ``report.json``).

Safety: the HTML has no script and loads nothing (plots are inline base64 PNG; a
strict Content-Security-Policy meta tag forbids any other source). Article text is
untrusted: it is split at span boundaries and every piece is escaped before the
``<mark>`` tags are put around the spans (autoescaping is on in the templates and no
raw text is ever marked safe).

Modules: :mod:`~annotator.report.render` (the CSP, templates, number formats, JSON summary),
:mod:`~annotator.report.highlight`, :mod:`~annotator.report.plots`,
:mod:`~annotator.report.training`, :mod:`~annotator.report.scoring`,
:mod:`~annotator.report.write` (which report for an input), :mod:`~annotator.report.inputs` (is the
input ``annotator score`` output? one-line errors otherwise) and :mod:`~annotator.report.screenshot`.
"""
from __future__ import annotations

from .highlight import highlight
from .render import CSP, summary_path
from .scoring import scoring_report
from .screenshot import CHROMIUM_FLAGS, screenshot
from .training import training_report
from .write import write_report

__all__ = ["training_report", "scoring_report", "write_report", "highlight", "summary_path", "screenshot",
           "CSP", "CHROMIUM_FLAGS"]
