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
        if row["metric"] in ("span", "operating", "sentence"):
            lines.append(f"- {row['corpus']} {row['label']} {row['metric']}: P {row['precision']:.3f} "
                         f"R {row['recall']:.3f} F1 {row['f1']:.3f}")
    lines += _operating_point_lines(getattr(getattr(model, "tagger_", None), "operating_point_", None),
                                    m.get("identity_share"))
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
