"""The framing model: the estimator, its 0-100 calibration and bands, its skops files and card.

``annotator.model.FramingModel`` stays importable from here: model files saved before this
became a package name that class path.
"""
from __future__ import annotations

from ..paths import DEFAULT_MODEL
from .calibration import CentredIsotonicCalibration, band_edges, band_of, centred_isotonic, describe_bands
from .card import write_model_card
from .files import MODEL_TRUSTED, TRUSTED_TYPES, load_model, load_skops, load_tagger, save_skops
from .framing import FramingModel

__all__ = [
    "FramingModel", "CentredIsotonicCalibration", "centred_isotonic", "band_edges", "band_of", "describe_bands",
    "load_model", "load_tagger", "save_skops", "load_skops", "write_model_card", "TRUSTED_TYPES", "MODEL_TRUSTED",
    "DEFAULT_MODEL",
]


def __getattr__(name):
    """``BAND_EDGES``: the band edges of the current label config (prefer :func:`band_edges`)."""
    if name == "BAND_EDGES":
        return band_edges()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
