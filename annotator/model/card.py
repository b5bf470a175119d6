"""The Markdown model card written beside a model file."""
from __future__ import annotations

import json
from pathlib import Path

from ..io import write_text_atomic
from .calibration import describe_bands
from .checktext import describe_checks

__all__ = ["write_model_card"]


def write_model_card(model, path) -> Path:
    """A Markdown model card beside the model file (``NAME.md``)."""
    m = getattr(model, "metrics_", {})
    d = m.get("document", {})
    lines = [
        f"# Model card: {Path(path).name}", "",
        f"- model_version: `{model.model_version}`",
        f"- label config hash: `{model.label_config_hash[:16]}`",
        f"- package versions: {json.dumps(getattr(model, 'versions_', {}))}",
        f"- training data: {json.dumps(getattr(model, 'data_summary_', {}))}", "",
        "## What the score means",
        "A 0-100 framing-risk score: how strongly the article's wording and sourcing look like propaganda",
        "and hyperpartisan news. Trained on two targets on one scale: the percentile of an article's PTC",
        "propaganda density (share of characters inside any SemEval-2020 Task 11 technique span) and the",
        "SemEval-2019 hyperpartisan labels as band centres (hyperpartisan: high, 5/6; not: low, 1/6);",
        "calibrated out of fold, with the linear effect of article length taken out.",
        f"Bands: {describe_bands()}.",
        "Each score comes with an interval (risk_low-risk_high: where 80 % of training articles cut to the",
        "same length landed relative to their whole-article score) and a confidence (low: interval half-width",
        ">= 20 points, medium >= 10, high below): short texts get wide intervals and low confidence.", "",
        "## Cross-validated figures",
        f"- document (all targets): Spearman {d.get('spearman', float('nan')):.3f}, MAE {d.get('mae', float('nan')):.1f} "
        f"points, band accuracy {d.get('band_accuracy', float('nan')):.2f} (n={d.get('n')})",
    ]
    checks = describe_checks(m.get("checks") or {})
    lines += [f"- {line.strip()}" for line in checks.splitlines() if line.startswith("  ")]
    for row in m.get("spans", []):
        if row["metric"] in ("span", "sentence"):
            lines.append(f"- {row['corpus']} {row['label']} {row['metric']}: P {row['precision']:.3f} "
                         f"R {row['recall']:.3f} F1 {row['f1']:.3f}")
    lines += ["", "## Data and licences",
              "PTC SemEval-2020 Task 11 (CC BY 4.0), PolNeAR (research corpus), Szeged WikiWeasel (CC BY-SA),",
              "SemEval-2019 Task 4 hyperpartisan by-article set (CC BY 4.0, Kiesel et al. 2019);",
              "VADER (MIT) and TextBlob (MIT) lexicons.", "",
              "## Limits",
              "English news only; the targets are PTC's notion of propaganda and crowd workers' notion of",
              "hyperpartisan news, not a truth judgement; scores of articles far from the training genres",
              "(wire copy, encyclopaedic text) are less reliable; short texts carry wide intervals."]
    out = Path(path).with_suffix(".md")
    write_text_atomic(out, "\n".join(lines) + "\n")
    return out
