"""The Markdown model card written beside a model file."""
from __future__ import annotations

import json
from pathlib import Path

from ..io import write_text_atomic
from .calibration import describe_bands

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
        "A 0-100 framing-risk score. Trained on the shared corpora without annotator ratings, it is the",
        "estimated percentile of the article's propaganda density (share of characters inside any",
        "SemEval-2020 Task 11 technique span) among the PTC training articles, calibrated out of fold.",
        f"Bands: {describe_bands()}.", "",
        "## Cross-validated figures",
        f"- document: Spearman {d.get('spearman', float('nan')):.3f}, MAE {d.get('mae', float('nan')):.1f} points, "
        f"band accuracy {d.get('band_accuracy', float('nan')):.2f} (n={d.get('n')})",
    ]
    for row in m.get("spans", []):
        if row["metric"] in ("span", "sentence"):
            lines.append(f"- {row['corpus']} {row['label']} {row['metric']}: P {row['precision']:.3f} "
                         f"R {row['recall']:.3f} F1 {row['f1']:.3f}")
    lines += ["", "## Data and licences",
              "PTC SemEval-2020 Task 11 (CC BY 4.0), PolNeAR (research corpus), Szeged WikiWeasel (CC BY-SA);",
              "VADER (MIT) and TextBlob (MIT) lexicons.", "",
              "## Limits",
              "English news only; the target is PTC's notion of propaganda, not a truth judgement; scores of",
              "articles far from the training genres (wire copy, encyclopaedic text) are less reliable."]
    out = Path(path).with_suffix(".md")
    write_text_atomic(out, "\n".join(lines) + "\n")
    return out
