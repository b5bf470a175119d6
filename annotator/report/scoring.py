"""The report of ``annotator score`` output: score histogram, bands, riskiest articles highlighted, outlets,
out-of-scope rows with their reasons, failures."""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from ..articles import read_articles
from ..taxonomy import load_taxonomy
from .highlight import highlight
from .inputs import read_score_output
from .plots import score_histogram
from .render import render

__all__ = ["scoring_report", "MAX_TOP", "MAX_TEXT_CHARS", "MAX_FAILED", "MAX_OUTLETS", "MAX_OUT_OF_SCOPE"]

MAX_TOP = 200          # upper bound on the riskiest articles shown
MAX_TEXT_CHARS = 20_000  # article text shown per article (longer texts are cut, with a note)
MAX_FAILED = 200       # failed rows listed (all are counted)
MAX_OUTLETS = 100      # outlets listed (the most frequent)
MAX_OUT_OF_SCOPE = 200  # out-of-scope rows listed (all are counted, and counted per reason)


def _words(text) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _lookups(articles, df) -> tuple[dict, dict, dict]:
    """id -> text, outlet and title, from the articles (first of each id) and the scores' own outlets."""
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
    return texts, outlets, titles


def _top_item(row, texts, outlets, titles, labels, reliability_key, max_text_chars) -> dict:
    """One of the riskiest articles: its scores, and its text highlighted (or its spans when no text)."""
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
                          "reliability": s.get(reliability_key)} for s in spans[:100]]
    return item


def _outlet_rows(ok, outlets, texts, labels, high) -> list:
    """Per outlet (the most frequent first): articles, mean risk, share in the top band, cues per 1,000 words."""
    rows = []
    if not outlets:
        return rows
    o = ok.assign(outlet=[outlets.get(a) for a in ok["id"]],
                  words=[_words(texts.get(a)) for a in ok["id"]])
    o = o[o["outlet"].notna()]
    for name, g in sorted(o.groupby("outlet"), key=lambda kv: -len(kv[1]))[:MAX_OUTLETS]:
        words = int(g["words"].sum())
        row = {"outlet": name, "articles": int(len(g)), "mean_risk": float(g["risk"].mean()),
               "share_" + high: float((g["band"] == high).mean()), "words": words,
               "per_1k_words": {lab: (1000.0 * float(pd.to_numeric(g[f"n_{lab}"]).sum()) / words
                                      if words else None) for lab in labels}}
        rows.append(row)
    return rows


def _out_of_scope(df, mask) -> tuple[list, dict]:
    """The first out-of-scope rows (id, source, reason) and the count per reason kind (``language: zh``,
    ``too short``, ``not prose``), most frequent first."""
    rows = [{"id": r["id"], "source": r.get("source"), "reason": r.get("reason") or "out of scope"}
            for _, r in df[mask].head(MAX_OUT_OF_SCOPE).iterrows()]
    kinds = [str(r) if str(r).startswith("language:") else str(r).split(":")[0]
             for r in df.loc[mask, "reason"].fillna("out of scope")]
    counts = pd.Series(kinds, dtype=object).value_counts()
    return rows, {str(k): int(v) for k, v in counts.items()}


def _summary(source, df, ok, masks, risk, bins, hist, texts, labels, choices, top, outlet_rows) -> dict:
    """The scoring report's JSON summary."""
    failed_mask, oos_mask = masks
    failed = df[failed_mask]
    failed_rows = [{"id": r["id"], "source": r.get("source"), "error": r.get("error") or "no score"}
                   for _, r in failed.head(MAX_FAILED).iterrows()]
    oos_rows, oos_reasons = _out_of_scope(df, oos_mask)
    return {
        "kind": "scoring",
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scores": source,
        "rows": int(len(df)),
        "scored": int(len(ok)),
        "out_of_scope": int(oos_mask.sum()),
        "failed": int(failed_mask.sum()),
        "with_text": int(sum(1 for a in ok["id"] if a in texts)),
        "risk": {"mean": float(risk.mean()) if len(risk) else None,
                 "median": float(np.median(risk)) if len(risk) else None,
                 "histogram": {"edges": bins.tolist(), "counts": hist.tolist()}},
        "bands": {c: int((ok["band"] == c).sum()) for c in choices},
        "spans_per_label": {lab: int(pd.to_numeric(ok[f"n_{lab}"]).sum()) if f"n_{lab}" in ok else 0
                            for lab in labels},
        "top": [{k: v for k, v in t.items() if k not in ("html",)} for t in top],
        "outlets": outlet_rows,
        "failed_rows": failed_rows,
        "out_of_scope_reasons": oos_reasons,
        "out_of_scope_rows": oos_rows,
    }


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
    tax = load_taxonomy()
    labels = list(tax.label_ids)
    choices = list(tax.rating_choices)
    source = None
    if not isinstance(scores, pd.DataFrame):
        source = str(scores)
        scores = read_score_output(scores)
    if articles is not None and not isinstance(articles, pd.DataFrame):
        articles = read_articles(articles if isinstance(articles, (list, tuple)) else [articles])
    df = scores.reset_index(drop=True).copy()
    df["id"] = df["id"].astype(str)
    err = df["error"] if "error" in df else pd.Series([None] * len(df))
    oos_mask = (df["status"] == "out_of_scope").to_numpy() if "status" in df else np.zeros(len(df), dtype=bool)
    failed_mask = (err.notna().to_numpy() | df["risk"].isna().to_numpy()) & ~oos_mask
    ok = df[~failed_mask & ~oos_mask]
    texts, outlets, titles = _lookups(articles, df)
    risk = ok["risk"].to_numpy(dtype=float)
    bins = np.linspace(0, 100, 21)
    hist, _ = np.histogram(risk, bins=bins)
    top_n = max(0, min(int(top_n), MAX_TOP))
    order = np.argsort(-risk, kind="stable")[:top_n]
    top = [_top_item(ok.iloc[int(i)], texts, outlets, titles, labels, tax.reliability_from_name, max_text_chars)
           for i in order]
    outlet_rows = _outlet_rows(ok, outlets, texts, labels, choices[-1])
    plot = score_histogram(risk, bins) if len(risk) else None
    summary = _summary(source, df, ok, (failed_mask, oos_mask), risk, bins, hist, texts, labels, choices, top, outlet_rows)
    return render("scoring.html.j2", output, summary, top=top, plot=plot, labels=labels, choices=choices,
                  high=choices[-1], reliability_key=tax.reliability_from_name, max_text_chars=max_text_chars,
                  title=f"Scoring report: {summary['rows']:,} articles")
