"""Tagging texts and article frames with a fitted cue tagger, or with the live rules alone."""
from __future__ import annotations

import pandas as pd

from ..articles.scope import IN_SCOPE, OUT_OF_SCOPE, scope_reasons
from ..errors import AnnotatorError
from ..spans import merge_spans
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


def tag_texts(texts, tagger) -> list:
    """Spans for each text: a fitted tagger's (learned spans plus its frozen rules), or the live
    rules' alone when ``tagger`` is False.

    ``annotator.model.load_tagger()`` loads the tagger of the shipped model.
    """
    if tagger is False:
        return [add_voice(merge_spans(apply_rules(t), t), t) for t in texts]
    if tagger is None:
        raise AnnotatorError("no cue tagger given: annotator.model.load_tagger() loads the shipped one, "
                             "False tags with the rules alone")
    return tagger.predict_spans(list(texts))


def tag_articles(articles: pd.DataFrame, tagger, scope_check: bool = True) -> pd.DataFrame:
    """Tag an articles frame (``annotator.articles`` schema) with ``tagger`` (see :func:`tag_texts`).

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
        spans[todo] = pd.Series(tag_texts(articles.loc[todo, "text"].tolist(), tagger), index=articles.index[todo])
    errors = [None if good else e for good, e in zip(ok, articles["error"] if "error" in articles else ok)]
    status = ["error" if not good else ("tagged" if r is None else OUT_OF_SCOPE) for good, r in zip(ok, reasons)]
    return pd.DataFrame({"id": pd.Series(articles["id"].astype(str).tolist(), dtype=object),
                         "status": pd.Series(status, dtype=object),
                         "reason": pd.Series(reasons.tolist(), dtype=object),
                         "spans": pd.Series(spans.tolist(), dtype=object),
                         "error": pd.Series(errors, dtype=object)}).set_axis(articles.index)
