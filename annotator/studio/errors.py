"""The Label Studio failures and warnings: :class:`StudioError` (one-line, stops) and :class:`StudioWarning`."""
from __future__ import annotations

from ..errors import AnnotatorError, AnnotatorWarning

__all__ = ["StudioError", "StudioWarning"]


class StudioError(AnnotatorError):
    """An expected Label Studio failure: unreachable, refused token, unknown project..."""


class StudioWarning(AnnotatorWarning):
    """Something to report that does not stop a push or pull (e.g. span text mismatches)."""
