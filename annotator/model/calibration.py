"""The 0-100 scale: a centred isotonic calibration of the ridge output, and the risk bands on it.

The calibration maps the document model's raw output (a predicted percentile) to a 0-100
score; the bands cut that scale into equal parts, one per framing-risk rating of the label
config (its document-level ``<Choices>``, lowest first): three ratings give edges at 33 and 67.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from ..taxonomy import load_taxonomy

__all__ = ["CentredIsotonicCalibration", "centred_isotonic", "band_edges", "band_of", "describe_bands"]


def centred_isotonic(x, y, y_min=0.0, y_max=100.0):
    """Knots (x, y) of a centred isotonic regression of ``y`` on ``x`` (Oron & Flournoy 2017).

    Each block of the isotonic fit becomes one knot at its points' mean ``x``; adjacent blocks
    have different values, so the knots increase strictly in both coordinates.

    Returns
    -------
    knots_x, knots_y : ndarray
    """
    x = np.asarray(x, dtype=float)
    fitted = IsotonicRegression(y_min=y_min, y_max=y_max).fit(x, y).predict(x)
    order = np.argsort(x, kind="stable")
    xs, fs = x[order], fitted[order]
    new = np.ones(len(xs), dtype=bool)
    new[1:] = fs[1:] != fs[:-1]
    first = np.flatnonzero(new)
    size = np.diff(np.append(first, len(xs)))
    return np.add.reduceat(xs, first) / size, fs[first]


class CentredIsotonicCalibration(BaseEstimator):
    """Raw scores → ``[y_min, y_max]``, strictly increasing: a centred isotonic regression.

    The isotonic fit's blocks, each placed at the mean raw score of its points, joined by
    straight lines; beyond the outer knots the line continues at the calibration's average
    slope (an end segment between two close knots can be very steep), clipped to the range.
    Unlike the step function of plain isotonic regression it is strictly increasing, so
    different raw scores never share a calibrated one.

    Parameters
    ----------
    y_min, y_max : float
        The calibrated scale (0-100 for the framing risk).

    Attributes
    ----------
    knots_x_, knots_y_ : ndarray
        The knots, strictly increasing in both coordinates.
    """

    def __init__(self, y_min=0.0, y_max=100.0):
        self.y_min = y_min
        self.y_max = y_max

    def fit(self, raw, target):
        """Learn the knots from raw scores and their targets (on the calibrated scale)."""
        self.knots_x_, self.knots_y_ = centred_isotonic(np.ravel(raw), np.ravel(target), self.y_min, self.y_max)
        return self

    @classmethod
    def from_knots(cls, knots_x, knots_y, **params):
        """A fitted calibration from stored knots (model files keep only the knots)."""
        out = cls(**params)
        out.knots_x_, out.knots_y_ = np.asarray(knots_x), np.asarray(knots_y)
        return out

    def predict(self, raw):
        """Calibrated scores: linear between the knots, the average slope beyond them, clipped."""
        check_is_fitted(self, "knots_x_")
        x, y = self.knots_x_, self.knots_y_
        raw = np.asarray(raw, dtype=float)
        if len(x) < 2:
            return np.full(raw.shape, float(y[0]) if len(y) else (self.y_min + self.y_max) / 2)
        slope = (y[-1] - y[0]) / (x[-1] - x[0])
        out = np.interp(raw, x, y)
        lo, hi = raw < x[0], raw > x[-1]
        out[lo] = y[0] + (raw[lo] - x[0]) * slope
        out[hi] = y[-1] + (raw[hi] - x[-1]) * slope
        return np.clip(out, self.y_min, self.y_max)

    transform = predict


def _choices(choices):
    return tuple(choices) if choices is not None else load_taxonomy().rating_choices


def band_edges(choices=None) -> tuple:
    """Edges of the risk bands on the 0-100 scale: ``round(100 * k / n)`` for ``n`` bands.

    Parameters
    ----------
    choices : sequence of str or None
        Band names, lowest first (default: the label config's framing-risk ratings).
    """
    n = len(_choices(choices))
    return tuple(float(round(100 * k / n)) for k in range(1, n))


def band_of(risk, choices=None):
    """Band name(s) for risk value(s): an edge belongs to the band above it."""
    choices = _choices(choices)
    idx = np.searchsorted(np.asarray(band_edges(choices)), np.asarray(risk, dtype=float), side="right")
    return np.asarray(choices, dtype=object)[idx]


def describe_bands(choices=None) -> str:
    """The bands as text, e.g. ``low < 33 <= elevated < 67 <= high``."""
    choices = _choices(choices)
    parts = [choices[0]]
    for edge, name in zip(band_edges(choices), choices[1:]):
        parts.append(f"< {edge:.0f} <= {name}")
    return " ".join(parts)
