"""annotator: source-reliability and propaganda-framing annotation for news articles.

``annotator.load_model`` and ``annotator.score`` are :func:`annotator.model.load_model` and
:func:`annotator.scoring.score`, loaded on first use: this package is the parent of every module,
so it imports none of them (``import annotator.errors`` stays light and no import runs in a circle).
"""
from importlib import import_module

__version__ = "0.1.0"
__all__ = ["load_model", "score"]

#: Public names loaded on first use, and the module each comes from.
_LAZY = {"load_model": "annotator.model", "score": "annotator.scoring"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'annotator' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
