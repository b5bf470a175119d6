"""Tagging texts and article frames with a fitted cue tagger, or with the live rules alone."""
from __future__ import annotations

import pandas as pd

from ..articles.scope import IN_SCOPE, OUT_OF_SCOPE, scope_reasons
from ..errors import AnnotatorError
from ..spans import merge_spans
from .operating import apply_cutoffs, span_cutoffs
from .rules import apply_rules, live_rule_set
from .voice import add_voice

__all__ = ["tag_texts", "tag_articles", "RulesTagger"]


class RulesTagger:
    """The live cue rules alone as a tagger (``model_version``, ``tag``), e.g. for pre-annotations.

    ``model_version`` is ``cue-rules-`` and a hash of the rules, their lexicon entries and their
    span scores (:meth:`~annotator.cues.rules.RuleSet.digest`).
    """

    def __init__(self):
        self.model_version = "cue-rules-" + live_rule_set().digest()[:12]

    def tag(self, texts):
        """Spans of the rules in each text."""
        return tag_texts(list(texts), tagger=False)


def tag_texts(texts, tagger, min_score=None, all_candidates=False) -> list:
    """Spans for each text: a fitted tagger's (learned spans plus its frozen rules), or the live
    rules' alone when ``tagger`` is False.

    ``annotator.model.load_tagger()`` loads the tagger of the shipped model. Only the spans at or
    above the tagger's operating point are returned (per-label thresholds chosen on held-out
    articles, ``operating_point_``); ``min_score`` sets one threshold for every label instead, and
    ``all_candidates`` returns every candidate span. The rules alone have no operating point.
    """
    if tagger is False:
        cut = span_cutoffs(None, min_score, all_candidates)
        return [apply_cutoffs(add_voice(merge_spans(apply_rules(t), t), t), cut) for t in texts]
    if tagger is None:
        raise AnnotatorError("no cue tagger given: annotator.model.load_tagger() loads the shipped one, "
                             "False tags with the rules alone")
    cut = span_cutoffs(tagger, min_score, all_candidates)
    return [apply_cutoffs(spans, cut) for spans in tagger.predict_spans(list(texts))]


def tag_articles(articles: pd.DataFrame, tagger, min_score=None, all_candidates=False,
                 scope_check: bool = True) -> pd.DataFrame:
    """Tag an articles frame (``annotator.articles`` schema) with ``tagger`` (see :func:`tag_texts`,
    also for ``min_score`` and ``all_candidates``).

    Returns a DataFrame with columns ``id``, ``status`` (``tagged``, ``out_of_scope`` or
    ``error``), ``reason`` (why a text is out of scope: :mod:`annotator.articles.scope`; the cues
    are English cues, so a German text is not tagged), ``spans`` (list of span dicts, empty unless
    tagged) and ``error`` (the reader's error for rows that could not be read, else None).
    """
    ok = articles["error"].isna() if "error" in articles else pd.Series(True, index=articles.index)
    reasons = pd.Series([None] * len(articles), index=articles.index, dtype=object)
    if scope_check and ok.any():
        reasons[ok] = scope_reasons(articles.loc[ok, "text"].tolist())
    todo = ok & reasons.isna()
    spans = pd.Series([[]] * len(articles), index=articles.index, dtype=object)
    if todo.any():
        spans[todo] = pd.Series(tag_texts(articles.loc[todo, "text"].tolist(), tagger, min_score, all_candidates),
                                index=articles.index[todo])
    errors = [None if good else e for good, e in zip(ok, articles["error"] if "error" in articles else ok)]
    reasons = reasons.where(reasons.notna(), None)  # pandas may store None as NaN
    status = ["error" if not good else ("tagged" if r is None else OUT_OF_SCOPE) for good, r in zip(ok, reasons)]
    return pd.DataFrame({"id": pd.Series(articles["id"].astype(str).tolist(), dtype=object),
                         "status": pd.Series(status, dtype=object),
                         "reason": pd.Series(reasons.tolist(), dtype=object),
                         "spans": pd.Series(spans.tolist(), dtype=object),
                         "error": pd.Series(errors, dtype=object)}).set_axis(articles.index)
