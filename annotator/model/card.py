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
        if row["metric"] in ("span", "operating", "sentence"):
            lines.append(f"- {row['corpus']} {row['label']} {row['metric']}: P {row['precision']:.3f} "
                         f"R {row['recall']:.3f} F1 {row['f1']:.3f}")
    lines += _operating_point_lines(getattr(getattr(model, "tagger_", None), "operating_point_", None),
                                    m.get("identity_share"))
    lines += ["", "## Data and licences",
              "PTC SemEval-2020 Task 11 (CC BY 4.0), PolNeAR (research corpus), Szeged WikiWeasel (CC BY-SA);",
              "VADER (MIT) and TextBlob (MIT) lexicons.", "",
              "## Limits",
              "English news only; the target is PTC's notion of propaganda, not a truth judgement; scores of",
              "articles far from the training genres (wire copy, encyclopaedic text) are less reliable."]
    out = Path(path).with_suffix(".md")
    write_text_atomic(out, "\n".join(lines) + "\n")
    return out


def _operating_point_lines(point, share) -> list:
    """The tagger's operating point (per label: threshold, held-out P/R) and the identity-word share."""
    if not point:
        return []
    lines = ["", "## Spans emitted: the operating point",
             "`annotator tag`, `score` and `push` emit a span only when its score reaches its label's threshold,",
             "chosen on the tagger's held-out tuning articles for span precision >= 0.6 (`--min-score X` sets one",
             "threshold for every label, `--all-candidates` emits every candidate). Held-out figures at it",
             "(partial-overlap credit; in brackets: every candidate):", ""]
    for lab, r in point.items():
        note = "" if r.get("target_met") else f"; target not met: {r.get('note', '')}"
        lines.append(f"- {lab}: threshold {r['threshold']:.4f}, P {r['precision']:.3f} R {r['recall']:.3f} "
                     f"(P {r['candidates_precision']:.3f} R {r['candidates_recall']:.3f}; "
                     f"{r['held_out_articles']} articles, {r['gold_spans']} gold spans){note}")
    if share and share.get("share") is not None:
        lines += ["", f"Identity words (label_config/lexicons/identity_terms.txt) inside loaded-term spans on PolNeAR's "
                      f"narrator sentences, out of fold: {share['share']:.2%} ({share['in_loaded_terms']} of "
                      f"{share['occurrences']}; target <= 2 %)."]
    return lines
