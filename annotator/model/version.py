"""``model_version``: a digest of what a fitted model computes with, rounded above machine noise.

Two machines building the same commit must get the same version. The tagger's tables are
bit-identical across machines (its span-length weights use exactly rounded arithmetic and its
context words a stable sort), but the ridge weights and calibration knots move by less than 1e-10
with the BLAS kernels a CPU dispatches to, and the span filter's liblinear weights (stopped at
tol 1e-4) by up to 1e-6. So every number is rounded well above those differences before hashing,
and the span filter's weights are left out (its threshold is in): outputs that differ only below
the rounding have the same version.
"""
from __future__ import annotations

import hashlib

import numpy as np

from ..cues.rules import builtins_digest

__all__ = ["version_digest", "quantised"]


def quantised(values, decimals: int) -> np.ndarray:
    """``values`` × 10**decimals rounded to integers: no last-bit noise below the quantum, no -0.0."""
    return np.rint(np.asarray(values, dtype=np.float64) * 10.0 ** decimals).astype(np.int64)


def version_digest(model) -> str:
    """SHA-1 (hex) of a fitted :class:`~annotator.model.framing.FramingModel`'s decisive parts."""
    t = model.tagger_
    digest = hashlib.sha1()
    for text in (t.vocabulary_, "\n".join(t.labels_), t.lexicon_, t.edge_words_, getattr(t, "filter_heads_", ""),
                 builtins_digest({"rules": t.rules_})):
        digest.update(str(text).encode("utf-8") + b"\0")
    ctx = t.context_tables_ if getattr(t, "context_tables_", None) is not None else np.zeros(0)
    for part in (quantised(t.tables_, 4), quantised(t.intercepts_, 4), quantised(ctx, 4),
                 quantised(t.thresholds_, 6), quantised(t.low_thresholds_, 6),
                 quantised([getattr(t, "filter_threshold_", -1.0)], 6),
                 quantised(np.ravel(model.ridge_.coef_), 5), quantised([model.ridge_.intercept_], 5),
                 quantised(model.calib_x_, 6), quantised(model.calib_y_, 6)):
        digest.update(np.int64(part.size).tobytes() + part.tobytes())
    # which spans are emitted: the vetting word lists and the operating point's thresholds (a model
    # fitted before them has neither, and keeps its version)
    emitted = {"vetting": getattr(t, "vetting_", None),
               "operating_point": {lab: round(float(r["threshold"]), 4)
                                   for lab, r in (getattr(t, "operating_point_", None) or {}).items()}}
    if emitted["vetting"] is not None or emitted["operating_point"]:
        digest.update(builtins_digest(emitted).encode("utf-8"))
    return digest.hexdigest()
