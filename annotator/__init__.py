"""annotator: source-reliability and propaganda-framing annotation for news articles."""
__version__ = "0.1.0"


def load_model(path=None):
    """The framing model (default: the shipped ``models/framing.skops``); see :mod:`annotator.model`."""
    from .model import load_model as _load

    return _load(path)


def score(frame, model=None):
    """Score an articles frame (``id``, ``text``) with ``model`` (default: the shipped one)."""
    from .scoring import score as _score

    return _score(frame, model)
