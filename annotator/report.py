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
"""
from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from .errors import AnnotatorError
from .io import write_text_atomic
from .taxonomy import load_taxonomy

__all__ = ["training_report", "scoring_report", "write_report", "highlight", "summary_path", "screenshot",
           "CSP", "CHROMIUM_FLAGS"]

#: The Content-Security-Policy of every report: nothing but inline styles and data: images.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
#: Flags for headless Chromium that keep it off the network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_TOP = 200          # upper bound on the riskiest articles shown
MAX_TEXT_CHARS = 20_000  # article text shown per article (longer texts are cut, with a note)
MAX_FAILED = 200       # failed rows listed (all are counted)
MAX_OUTLETS = 100      # outlets listed (the most frequent)


# --- helpers ---------------------------------------------------------------------------------------


def summary_path(output) -> Path:
    """The JSON summary written beside ``output`` (``report.html`` → ``report.json``)."""
    return Path(output).with_suffix(".json")


def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _fmt_num
    env.filters["pct"] = lambda x: "–" if _nan(x) else f"{100 * float(x):.1f}%"
    return env


def _nan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _fmt_num(x, digits=3):
    if _nan(x):
        return "–"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return f"{float(x):,.{digits}f}"


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


def _png(fig) -> str:
    """A matplotlib figure as a data: URI (PNG), the figure closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _legend(tax):
    return [{"id": lab.id, "color": lab.color if _SAFE_COLOR.fullmatch(lab.color) else "#888888", "hint": lab.hint}
            for lab in tax.labels]


def _render(template: str, output, summary: dict, **context) -> dict:
    tax = load_taxonomy()
    html = _env().get_template(template).render(csp=CSP, legend=_legend(tax), summary=summary,
                                                summary_name=summary_path(output).name, **context)
    write_text_atomic(output, html)
    write_text_atomic(summary_path(output), json.dumps(_jsonable(summary), indent=1, ensure_ascii=False) + "\n")
    return summary


# --- highlighting --------------------------------------------------------------------------------


_SAFE_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")


def _nest(spans):
    """Spans as a forest (properly nested ones inside each other); spans crossing another are left out.

    Returns (roots, skipped): each node is (span, children)."""
    items = sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"])))
    roots, stack, skipped = [], [], []
    for s in items:
        st, en = int(s["start"]), int(s["end"])
        if en <= st:
            skipped.append(s)
            continue
        while stack and int(stack[-1][0]["start"]) <= st and int(stack[-1][0]["end"]) <= st:
            stack.pop()
        if stack and en > int(stack[-1][0]["end"]):  # crosses the enclosing span's end
            skipped.append(s)
            continue
        node = (s, [])
        (stack[-1][1] if stack else roots).append(node)
        stack.append(node)
    return roots, skipped


def highlight(text: str, spans, colors=None, reliability_key=None, limit=None) -> tuple[Markup, list]:
    """Article text as safe HTML with every span in a ``<mark>``.

    The text is split at span boundaries and each piece escaped; a ``<mark>`` carries
    ``data-label``, ``data-start`` and ``data-end`` (Python string offsets) and the
    label colour. Spans that cross another one (not nested) are not marked; they are
    returned as the second value. With ``limit``, text after ``limit`` characters is cut
    and the spans beyond it are returned as skipped too.
    """
    tax = load_taxonomy()
    if colors is None:
        colors = {lab.id: lab.color for lab in tax.labels}
    reliability_key = reliability_key or tax.reliability_from_name
    n = len(text) if limit is None else min(len(text), int(limit))
    inside = [s for s in spans if 0 <= int(s["start"]) and int(s["end"]) <= n]
    beyond = [s for s in spans if not (0 <= int(s["start"]) and int(s["end"]) <= n)]
    roots, skipped = _nest(inside)

    def render(nodes, lo, hi):
        out, pos = [], lo
        for s, kids in nodes:
            st, en = int(s["start"]), int(s["end"])
            out.append(escape(text[pos:st]))
            label = str(s["label"])
            color = colors.get(label, "#888888")
            color = color if _SAFE_COLOR.fullmatch(color) else "#888888"
            rel = s.get(reliability_key) if isinstance(s, dict) else None
            rel = None if _nan(rel) or rel in ("", None) else str(rel)
            title = label + (f" · {reliability_key}: {rel}" if rel else "") + \
                (f" · score {float(s['score']):.2f}" if not _nan(s.get("score")) else "")
            attrs = Markup(' class="cue" data-label="{}" data-start="{}" data-end="{}" title="{}" '
                           'style="--c:{}"').format(label, st, en, title, color)
            if rel:
                attrs += Markup(' data-reliability="{}"').format(rel)
            out.append(Markup("<mark{}>").format(attrs) + render(kids, st, en) + Markup("</mark>"))
            pos = en
        out.append(escape(text[pos:hi]))
        return Markup("").join(out)

    return render(roots, 0, n), skipped + beyond


# --- training report -------------------------------------------------------------------------------


def _top_terms(model, k):
    tagger = model.tagger_
    words = tagger.vocabulary_.split("\n") if tagger.vocabulary_ else []
    w = int(tagger.window)
    out = {}
    for j, lab in enumerate(tagger.labels_):
        weights = np.asarray(tagger.tables_[j, w, :len(words)], dtype=float)
        top = np.argsort(-weights)[:k]
        out[lab] = [{"term": words[i], "weight": float(weights[i])} for i in top]
    return out


def _doc_features(model, k):
    coef = np.asarray(model.ridge_.coef_, dtype=float).ravel()
    tagger = model.tagger_
    words = tagger.vocabulary_.split("\n") if tagger.vocabulary_ else []
    n_vocab = tagger.tables_.shape[2]
    names = list(getattr(model, "feature_names_", []))
    n_dense = len(names)
    n_hashed = len(coef) - n_vocab - n_dense
    n_bigram = min(n_hashed, 1 << int(getattr(model, "bigram_bits", 0))) if hasattr(model, "bigram_bits") else n_hashed

    def name(c):
        if c < n_vocab:
            return ("word", words[c] if c < len(words) else "<padding/unknown>")
        if c < n_vocab + n_bigram:
            return ("bigram", f"hashed bucket {c - n_vocab}")
        if c < n_vocab + n_hashed:
            return ("char n-gram", f"hashed bucket {c - n_vocab - n_bigram}")
        return ("cue", names[c - n_vocab - n_hashed])

    order = np.argsort(-np.abs(coef))
    top = {"up": [], "down": []}
    for c in order:
        if len(top["up"]) >= k and len(top["down"]) >= k:
            break
        kind, nm = name(int(c))
        side = "up" if coef[c] > 0 else "down"
        if len(top[side]) < k and coef[c] != 0:
            top[side].append({"feature": nm, "kind": kind, "coefficient": float(coef[c])})
    cues = [{"feature": names[i], "coefficient": float(coef[n_vocab + n_hashed + i])} for i in range(n_dense)]
    return top, cues, n_hashed


def _agreement(dataset, summary):
    if dataset is None:
        targets = (summary or {}).get("document_targets", {})
        return None, ("No Label Studio data was given, so annotator agreement is not shown. The model's document "
                      f"targets came from: {', '.join(f'{k} ({v})' for k, v in targets.items()) or 'unknown'}. "
                      "Pass the dataset folder written by `annotator pull` (--dataset) to include it.")
    from .agreement import agreement, agreement_to_json

    res = agreement(dataset)
    js = agreement_to_json(res)
    if not js["annotators"] or len(js["annotators"]) < 2:
        return js, "Fewer than two annotators in this dataset: no agreement to measure."
    return js, None


def _training_plots(d, spans, oof, curves=None):
    plt = _plt()
    plots = {}
    tax = load_taxonomy()
    colors = {lab.id: lab.color for lab in tax.labels}
    # precision-recall points (span metric), with F1 iso-lines
    rows = [r for r in spans if r["metric"] == "span"]
    if rows:
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
        plots["pr"] = _png(fig)
    if d.get("calibration"):
        fig, ax = plt.subplots(figsize=(4.6, 4.2))
        cal = d["calibration"]
        x = [c["mean_score"] for c in cal]
        y = [c["mean_target"] for c in cal]
        ax.plot([0, 100], [0, 100], color="#bbb", ls="--", lw=1)
        ax.plot(x, y, marker="o", color="#1c7ed6")
        for c in cal:
            ax.annotate(str(c["n"]), (c["mean_score"], c["mean_target"]), fontsize=7, xytext=(3, -9),
                        textcoords="offset points")
        ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="mean score in bin", ylabel="mean target in bin",
               title="Calibration (out-of-fold; n per bin)")
        plots["calibration"] = _png(fig)
    if oof is not None and len(oof["risk"]):
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
        plots["distribution"] = _png(fig)
    return plots


def training_report(model, output, *, dataset=None, top_terms=15, top_features=15, worst=20) -> dict:
    """Write the training report of a framing model to ``output`` (HTML) and ``report.json`` beside it.

    Parameters
    ----------
    model : FramingModel or path to a ``.skops`` file
    output : path of the HTML file (replaced atomically)
    dataset : a :class:`~annotator.dataset.Dataset` or folder from ``annotator pull``, optional
        Label Studio annotations for the annotator-agreement section.
    top_terms, top_features, worst : int
        Rows in the influential-terms, document-features and worst-errors tables.

    Returns
    -------
    dict
        The summary written as JSON.
    """
    from .model import load_model

    path = None
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        model = load_model(path)
    metrics = getattr(model, "metrics_", None) or {}
    d = metrics.get("document", {})
    spans = metrics.get("spans", [])
    oof = getattr(model, "oof_", None)
    data = getattr(model, "data_summary_", {}) or {}
    top_terms_ = _top_terms(model, top_terms)
    top, cues, n_hashed = _doc_features(model, top_features)
    agree, agree_note = _agreement(dataset, data)
    worst_rows = []
    if oof is not None and len(oof.get("risk", [])):
        risk, target = np.asarray(oof["risk"], float), np.asarray(oof["target"], float)
        err = risk - target
        order = np.argsort(-np.abs(err))[:worst]
        ids = oof.get("article_id")
        texts = _training_texts(data, [ids[i] for i in order]) if ids is not None else {}
        for i in order:
            row = {"index": int(i), "risk": float(risk[i]), "target": float(target[i]), "error": float(err[i]),
                   "article_id": ids[i] if ids is not None else None, "cues": ""}
            text = texts.get(row["article_id"])
            if text is not None and hasattr(model, "tagger_"):
                strongest = sorted(model.tagger_.analyze(text)["spans"], key=lambda sp_: -sp_["score"])[:4]
                row["cues"] = "; ".join(f"{sp_['label']}: {sp_['text'][:60]}" for sp_ in strongest)
            worst_rows.append(row)
    confusion = d.get("band_confusion") or []
    cmax = max([max(r) for r in confusion if r] or [1]) or 1
    summary = {
        "kind": "training",
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": str(path) if path else None,
        "model_version": getattr(model, "model_version", None),
        "label_config_hash": getattr(model, "label_config_hash", None),
        "versions": getattr(model, "versions_", {}),
        "data": data,
        "document": d,
        "spans": spans,
        "top_terms": top_terms_,
        "document_features": {"top": top, "cues": cues, "hashed_columns": n_hashed},
        "agreement": agree,
        "agreement_note": agree_note,
        "worst_errors": worst_rows,
        "worst_errors_note": ("Out-of-fold score against the target (both 0-100), furthest first; cues are the "
                              "model's strongest spans in the article, when its corpus can be read here."),
    }
    curves = getattr(getattr(model, "tagger_", None), "fit_report_", None)
    plots = _training_plots(d, spans, oof, curves)
    return _render("training.html.j2", output, summary, plots=plots, cmax=cmax,
                   span_table=[r for r in spans], title=f"Training report: {summary['model_version']}")


def _training_texts(data: dict, ids) -> dict:
    """Texts of the given training articles, from the shared corpora named in the data summary."""
    from .corpora import LOADERS
    from .training import load_training_data

    names = [c for c in (data.get("articles_per_corpus") or {}) if c in LOADERS]
    if not names:
        return {}
    try:
        arts = load_training_data(names).articles
    except AnnotatorError:
        return {}
    wanted = set(ids)
    return {a: t for a, t in zip(arts["article_id"], arts["text"]) if a in wanted}


# --- scoring report --------------------------------------------------------------------------------


def _words(text) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def scoring_report(scores, output, *, articles=None, top_n=25, max_text_chars=MAX_TEXT_CHARS) -> dict:
    """Write the report of ``annotator score`` output to ``output`` (HTML) and ``report.json`` beside it.

    Parameters
    ----------
    scores : DataFrame (from :func:`annotator.scoring.score` / :func:`~annotator.scoring.read_scores`) or a path
    output : path of the HTML file (replaced atomically)
    articles : DataFrame (from :func:`annotator.articles.read_articles`), input path(s), or None
        Article texts (and outlets), matched to the scores by id (first article of each id).
    top_n : int
        Riskiest articles shown with their text (at most :data:`MAX_TOP`).
    max_text_chars : int
        Characters of each article's text shown (longer texts are cut, with a note).

    Returns
    -------
    dict
        The summary written as JSON.
    """
    from .scoring import read_scores

    tax = load_taxonomy()
    labels = list(tax.label_ids)
    choices = list(tax.rating_choices)
    source = None
    if not isinstance(scores, pd.DataFrame):
        source = str(scores)
        scores = read_scores(scores)
    if articles is not None and not isinstance(articles, pd.DataFrame):
        from .articles import read_articles

        articles = read_articles(articles if isinstance(articles, (list, tuple)) else [articles])
    df = scores.reset_index(drop=True).copy()
    df["id"] = df["id"].astype(str)
    err = df["error"] if "error" in df else pd.Series([None] * len(df))
    failed_mask = err.notna().to_numpy() | df["risk"].isna().to_numpy()
    ok = df[~failed_mask]
    texts, outlets, titles = {}, {}, {}
    if articles is not None and len(articles):
        arts = articles[articles["error"].isna()] if "error" in articles else articles
        arts = arts.drop_duplicates(subset="id", keep="first")
        texts = dict(zip(arts["id"].astype(str), arts["text"]))
        if "outlet" in arts:
            outlets = {k: v for k, v in zip(arts["id"].astype(str), arts["outlet"]) if isinstance(v, str) and v}
        if "title" in arts:
            titles = {k: v for k, v in zip(arts["id"].astype(str), arts["title"]) if isinstance(v, str) and v}
    if "outlet" in df:
        for k, v in zip(df["id"], df["outlet"]):
            if isinstance(v, str) and v:
                outlets.setdefault(k, v)
    risk = ok["risk"].to_numpy(dtype=float)
    band_counts = {c: int((ok["band"] == c).sum()) for c in choices}
    bins = np.linspace(0, 100, 21)
    hist, _ = np.histogram(risk, bins=bins)
    # top-N riskiest
    top_n = max(0, min(int(top_n), MAX_TOP))
    order = np.argsort(-risk, kind="stable")[:top_n]
    top = []
    for i in order:
        row = ok.iloc[int(i)]
        aid = row["id"]
        spans = row["spans"] if isinstance(row["spans"], list) else []
        text = texts.get(aid)
        item = {"id": aid, "source": row.get("source"), "risk": float(row["risk"]), "band": row["band"],
                "counts": {lab: int(row.get(f"n_{lab}") or 0) for lab in labels},
                "outlet": outlets.get(aid), "title": titles.get(aid), "n_spans": len(spans),
                "has_text": text is not None}
        if text is not None:
            html, skipped = highlight(text, spans, limit=max_text_chars)
            item["html"] = html
            item["truncated"] = len(text) > max_text_chars
            item["chars"] = len(text)
            item["unmarked"] = [{"label": s["label"], "start": int(s["start"]), "end": int(s["end"]),
                                 "text": text[int(s["start"]):int(s["end"])][:200]} for s in skipped]
        else:
            item["spans"] = [{"label": s["label"], "start": int(s["start"]), "end": int(s["end"]),
                              "text": str(s.get("text") or "")[:200],
                              "reliability": s.get(tax.reliability_from_name)} for s in spans[:100]]
        top.append(item)
    # per outlet
    outlet_rows = []
    if outlets:
        o = ok.assign(outlet=[outlets.get(a) for a in ok["id"]],
                      words=[_words(texts.get(a)) for a in ok["id"]])
        o = o[o["outlet"].notna()]
        high = choices[-1]
        for name, g in sorted(o.groupby("outlet"), key=lambda kv: -len(kv[1]))[:MAX_OUTLETS]:
            words = int(g["words"].sum())
            row = {"outlet": name, "articles": int(len(g)), "mean_risk": float(g["risk"].mean()),
                   "share_" + high: float((g["band"] == high).mean()), "words": words,
                   "per_1k_words": {lab: (1000.0 * float(pd.to_numeric(g[f"n_{lab}"]).sum()) / words
                                          if words else None) for lab in labels}}
            outlet_rows.append(row)
    failed = df[failed_mask]
    failed_rows = [{"id": r["id"], "source": r.get("source"), "error": r.get("error") or "no score"}
                   for _, r in failed.head(MAX_FAILED).iterrows()]
    plot = None
    if len(risk):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(7, 2.8))
        from .model import BAND_EDGES

        ax.hist(risk, bins=bins, color="#1c7ed6", edgecolor="white")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for e in BAND_EDGES:
            ax.axvline(e, color="#e03131", ls="--", lw=1)
        ax.set(xlim=(0, 100), xlabel="framing risk (0-100)", ylabel="articles", title="Score distribution")
        plot = _png(fig)
    summary = {
        "kind": "scoring",
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scores": source,
        "rows": int(len(df)),
        "scored": int(len(ok)),
        "failed": int(failed_mask.sum()),
        "with_text": int(sum(1 for a in ok["id"] if a in texts)),
        "risk": {"mean": float(risk.mean()) if len(risk) else None,
                 "median": float(np.median(risk)) if len(risk) else None,
                 "histogram": {"edges": bins.tolist(), "counts": hist.tolist()}},
        "bands": band_counts,
        "spans_per_label": {lab: int(pd.to_numeric(ok[f"n_{lab}"]).sum()) if f"n_{lab}" in ok else 0
                            for lab in labels},
        "top": [{k: v for k, v in t.items() if k not in ("html",)} for t in top],
        "outlets": outlet_rows,
        "failed_rows": failed_rows,
    }
    return _render("scoring.html.j2", output, summary, top=top, plot=plot, labels=labels, choices=choices,
                   high=choices[-1], reliability_key=tax.reliability_from_name, max_text_chars=max_text_chars,
                   title=f"Scoring report: {summary['rows']:,} articles")


def write_report(input, output, *, articles=None, dataset=None, top_n=25) -> dict:
    """A training report when ``input`` is a model file (skops/zip), else a scoring report."""
    import zipfile

    p = Path(input)
    if p.is_file() and (p.suffix == ".skops" or zipfile.is_zipfile(p)):
        return training_report(p, output, dataset=dataset)
    if not p.exists():
        raise AnnotatorError(f"{p}: not found")
    return scoring_report(p, output, articles=articles, top_n=top_n)


# --- screenshots -------------------------------------------------------------------------------------


def screenshot(html, png, *, width=1280, height=6000, chromium=None, timeout=120) -> Path:
    """A PNG screenshot of an HTML file with headless Chromium (fresh profile, no network)."""
    exe = chromium or os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise AnnotatorError("chromium not found (apt-get install chromium)")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="annotator-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
               f"--window-size={int(width)},{int(height)}", f"--screenshot={png}", Path(html).resolve().as_uri()]
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0 or not png.is_file():
        raise AnnotatorError(f"chromium screenshot failed ({res.returncode}): {res.stderr.strip()[-300:]}")
    return png
