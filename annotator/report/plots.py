"""The reports' plots, drawn with matplotlib (Agg) and inlined as base64 PNG data: URIs."""
from __future__ import annotations

import base64
import io

import numpy as np

from ..model import BAND_EDGES
from ..taxonomy import load_taxonomy

__all__ = ["training_plots", "score_histogram"]


def _png(fig) -> str:
    """A matplotlib figure as a data: URI (PNG), the figure closed."""
    import matplotlib.pyplot as plt  # heavy: only the plots need matplotlib

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib  # heavy: only the plots need matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # heavy: only the plots need matplotlib

    return plt


def _pr_plot(plt, rows, curves, colors) -> str:
    """Span precision / recall points (cross-validated) and threshold sweeps, with F1 iso-lines."""
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    r = np.linspace(0.01, 1, 200)
    for f in (0.2, 0.4, 0.6, 0.8):
        p = f * r / (2 * r - f)
        ok = (p > 0) & (p <= 1)
        ax.plot(r[ok], p[ok], color="#ccc", lw=0.8)
        ax.annotate(f"F1={f}", (r[ok][-1], p[ok][-1]), fontsize=7, color="#999")
    for lab, rep in (curves or {}).items():
        pts = sorted((r, p) for _, p, r in (rep.get("pr_curve", []) if isinstance(rep, dict) else []))
        if pts:
            ax.plot([r for r, _ in pts], [p for _, p in pts], color=colors.get(lab, "#555"), lw=1.2, alpha=0.8,
                    label=f"{lab}: threshold sweep, {rep.get('tune_articles', '?')} held-out articles")
    if any(isinstance(rep, dict) and rep.get("pr_curve") for rep in (curves or {}).values()):
        ax.legend(fontsize=6, loc="lower left")
    for row in rows:
        lab = row["label"]
        ax.scatter(row["recall"], row["precision"], s=60, color=colors.get(lab, "#555"), edgecolor="k",
                   zorder=3)
        ax.annotate(f"{lab} ({row['corpus']})", (row["recall"], row["precision"]), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="recall", ylabel="precision",
           title="Span P/R: cross-validated (points), threshold sweeps (lines)")
    return _png(fig)


def _calibration_plot(plt, cal) -> str:
    """Mean target against mean score per calibration bin (out-of-fold), with n per bin."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    x = [c["mean_score"] for c in cal]
    y = [c["mean_target"] for c in cal]
    ax.plot([0, 100], [0, 100], color="#bbb", ls="--", lw=1)
    ax.plot(x, y, marker="o", color="#1c7ed6")
    for c in cal:
        ax.annotate(str(c["n"]), (c["mean_score"], c["mean_target"]), fontsize=7, xytext=(3, -9),
                    textcoords="offset points")
    ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="mean score in bin", ylabel="mean target in bin",
           title="Calibration (out-of-fold; n per bin)")
    return _png(fig)


def _distribution_plot(plt, oof) -> str:
    """Histograms of target and out-of-fold score, and score against target."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    bins = np.linspace(0, 100, 21)
    axes[0].hist(oof["target"], bins=bins, alpha=0.5, label="target", color="#868e96")
    axes[0].hist(oof["risk"], bins=bins, alpha=0.6, label="out-of-fold score", color="#e8590c")
    axes[0].set(xlabel="0-100", ylabel="articles", title="Score distribution")
    axes[0].legend(fontsize=8)
    axes[1].scatter(oof["target"], oof["risk"], s=8, alpha=0.6, color="#1c7ed6")
    axes[1].plot([0, 100], [0, 100], color="#bbb", ls="--", lw=1)
    axes[1].set(xlim=(0, 100), ylim=(0, 100), xlabel="target", ylabel="out-of-fold score",
                title="Score vs target")
    return _png(fig)


def training_plots(d, spans, oof, curves=None) -> dict:
    """The training report's plots (``pr``, ``calibration``, ``distribution``: those there is data for)."""
    plt = _plt()
    plots = {}
    tax = load_taxonomy()
    colors = {lab.id: lab.color for lab in tax.labels}
    rows = [r for r in spans if r["metric"] == "span"]
    if rows:
        plots["pr"] = _pr_plot(plt, rows, curves, colors)
    if d.get("calibration"):
        plots["calibration"] = _calibration_plot(plt, d["calibration"])
    if oof is not None and len(oof["risk"]):
        plots["distribution"] = _distribution_plot(plt, oof)
    return plots


def score_histogram(risk, bins) -> str:
    """The scoring report's histogram of scores, with the band edges."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.hist(risk, bins=bins, color="#1c7ed6", edgecolor="white")
    from matplotlib.ticker import MaxNLocator  # heavy: only the plots need matplotlib

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for e in BAND_EDGES:
        ax.axvline(e, color="#e03131", ls="--", lw=1)
    ax.set(xlim=(0, 100), xlabel="framing risk (0-100)", ylabel="articles", title="Score distribution")
    return _png(fig)
