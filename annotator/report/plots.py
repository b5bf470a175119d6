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


#: Marker per corpus on the precision/recall plot (the team's datasets: a star).
_MARKERS = {"ptc": "o", "polnear": "s", "szeged": "D", "seeds": "v"}


def _short(label: str) -> str:
    """A span-table label as a legend shows it (the union of every label: "all labels")."""
    return label if label.count("+") < 2 else "all labels"


def _pr_plot(plt, rows, curves, colors) -> str:
    """Span precision / recall points (cross-validated) and threshold sweeps, with F1 iso-lines.

    Points carry no text (labels next to points overlap): colour says the label, the marker the
    corpus (a star: the team's), and the legend below the axes names each with its F1."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    r = np.linspace(0.01, 1, 200)
    for f in (0.2, 0.4, 0.6, 0.8):
        p = f * r / (2 * r - f)
        ok = (p > 0) & (p <= 1)
        ax.plot(r[ok], p[ok], color="#ddd", lw=0.8, zorder=0)
        ax.text(1.035, p[ok][-1], f"F1 {f}", fontsize=7, color="#999", va="center", transform=ax.transData,
                clip_on=False)
    for lab, rep in (curves or {}).items():
        pts = sorted((r, p) for _, p, r in (rep.get("pr_curve", []) if isinstance(rep, dict) else []))
        if pts:
            ax.plot([r for r, _ in pts], [p for _, p in pts], color=colors.get(lab, "#555"), lw=1.2, alpha=0.7,
                    label=f"{lab}: threshold sweep ({rep.get('tune_articles', '?')} held-out articles)")
    for row in rows:
        lab, corpus = row["label"], row["corpus"]
        union = "+" in lab  # several labels pooled: a small cross over the single labels' markers
        marker = "X" if union else "*" if row.get("team") else _MARKERS.get(corpus, "P")
        n = f", {row['gold_spans']:,} spans" if row.get("gold_spans") is not None else ""
        ax.scatter(row["recall"], row["precision"], s=40 if union else 110 if marker == "*" else 55, marker=marker,
                   color="#343a40" if union else colors.get(lab, "#555"), edgecolor="white" if union else "k",
                   linewidth=0.6, zorder=4 if union else 3, clip_on=False,
                   label=f"{_short(lab)} ({corpus}{n}): F1 {row['f1']:.2f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
    ax.set_title("Span precision / recall", pad=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    return _png(fig)


def _calibration_plot(plt, cal) -> str:
    """Mean target against mean score per calibration bin (out-of-fold), and the articles per bin below."""
    fig, (ax, bars) = plt.subplots(2, 1, figsize=(4.8, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    x = [c["mean_score"] for c in cal]
    y = [c["mean_target"] for c in cal]
    ax.plot([0, 100], [0, 100], color="#bbb", ls="--", lw=1)
    ax.plot(x, y, marker="o", color="#1c7ed6")
    ax.set(xlim=(0, 100), ylim=(0, 100), ylabel="mean target in bin")
    ax.set_title("Calibration (out-of-fold)", pad=8)
    lefts = [float(c["bin"].split("-")[0]) for c in cal]
    drawn = bars.bar(lefts, [c["n"] for c in cal], width=9, align="edge", color="#a5d8ff")
    bars.bar_label(drawn, fontsize=7, padding=1)
    bars.set(xlabel="score (bins of 10)", ylabel="articles")
    bars.set_ylim(0, max(c["n"] for c in cal) * 1.35)
    return _png(fig)


def _distribution_plot(plt, oof, team=None) -> str:
    """Histograms of target and out-of-fold score, and score against target (the team's articles marked)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    bins = np.linspace(0, 100, 21)
    axes[0].hist(oof["target"], bins=bins, alpha=0.5, label="target", color="#868e96")
    axes[0].hist(oof["risk"], bins=bins, alpha=0.6, label="out-of-fold score", color="#e8590c")
    axes[0].set(xlabel="0-100", ylabel="articles")
    axes[0].set_title("Score distribution", pad=8)
    axes[0].legend(fontsize=8)
    axes[1].scatter(oof["target"], oof["risk"], s=8, alpha=0.6, color="#1c7ed6", label="out-of-fold")
    if team and team.get("rows"):
        rows = team["rows"]
        how = "out-of-fold" if team.get("how") == "out_of_fold" else "held out"
        axes[1].scatter([r["target"] for r in rows], [r["risk"] for r in rows], s=90, marker="*", color="#f08c00",
                        edgecolor="k", linewidth=0.5, zorder=3, label=f"the team's rated articles ({how})")
    axes[1].plot([0, 100], [0, 100], color="#bbb", ls="--", lw=1)
    axes[1].set(xlim=(0, 100), ylim=(0, 100), ylabel="score",
                xlabel="target (the team's: its mean rating)" if team and team.get("rows") else "target")
    axes[1].set_title("Score vs target", pad=8)
    axes[1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return _png(fig)


def training_plots(d, spans, oof, curves=None, team=None) -> dict:
    """The training report's plots (``pr``, ``calibration``, ``distribution``: those there is data for);
    ``team``: the team's rated articles (``metrics_["team"]["document"]``), marked on the scatter."""
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
        plots["distribution"] = _distribution_plot(plt, oof, team)
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
