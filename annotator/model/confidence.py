"""How far a framing-risk score can move: a per-length interval table measured once at fit time.

At fit time, training articles are cut to their first ``k`` tokens for several ``k`` and scored;
the distance between a cut's score and the whole article's score says how much a text of that
length would move if there were more of it. The table keeps, per length, the ``quantile`` of
those distances (the half-width of the interval). Scoring looks the half-width up by token
count (interpolated on log length): it costs nothing next to the tagging.
"""
from __future__ import annotations

import numpy as np

__all__ = ["PREFIX_TOKENS", "prefix_texts", "interval_table", "half_width", "confidence_of", "CONFIDENCE_EDGES"]

#: Token counts the training articles are cut at.
PREFIX_TOKENS = (8, 16, 32, 64, 128, 256, 512)
#: Half-width (score points) at or above which confidence is ``low``, then ``medium``; below, ``high``.
CONFIDENCE_EDGES = (20.0, 10.0)


def prefix_texts(texts, ends_per_text, sizes=PREFIX_TOKENS):
    """The first ``k`` tokens of each text, for each ``k`` in ``sizes`` shorter than the text.

    ``ends_per_text`` holds each text's token end offsets. Returns (texts, size, source index).
    """
    out, size, source = [], [], []
    for i, (text, ends) in enumerate(zip(texts, ends_per_text)):
        for k in sizes:
            if k < len(ends):
                out.append(text[:int(ends[k - 1])])
                size.append(k)
                source.append(i)
    return out, np.asarray(size, dtype=int), np.asarray(source, dtype=int)


def interval_table(size, cut_scores, full_scores, quantile=0.8, sizes=PREFIX_TOKENS):
    """(token counts, half-widths): per cut length, the ``quantile`` of |cut score − whole score|,
    made non-increasing with length (a longer text never gets a wider interval)."""
    size = np.asarray(size)
    moved = np.abs(np.asarray(cut_scores, float) - np.asarray(full_scores, float))
    lengths, widths = [], []
    for k in sizes:
        hit = size == k
        if hit.sum() >= 5:
            lengths.append(float(k))
            widths.append(float(np.quantile(moved[hit], quantile)))
    widths = np.minimum.accumulate(np.asarray(widths)) if widths else np.asarray([50.0])
    return np.asarray(lengths or [1.0]), widths


def half_width(n_tokens, lengths, widths):
    """Interval half-widths (score points) for token counts, interpolated on log length (flat beyond)."""
    n = np.log(np.maximum(np.asarray(n_tokens, float), 1.0))
    return np.interp(n, np.log(np.asarray(lengths, float)), np.asarray(widths, float))


def confidence_of(width):
    """``low`` / ``medium`` / ``high`` for interval half-widths (see :data:`CONFIDENCE_EDGES`)."""
    width = np.asarray(width, float)
    return np.where(width >= CONFIDENCE_EDGES[0], "low", np.where(width >= CONFIDENCE_EDGES[1], "medium", "high"))
