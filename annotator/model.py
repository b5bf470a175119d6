"""Model files: skops only, loaded against an explicit list of trusted types."""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from .errors import AnnotatorError

__all__ = ["save_skops", "load_skops", "TRUSTED_TYPES"]

#: Types (beyond what skops trusts by default) that a model file may contain.
TRUSTED_TYPES = [
    "annotator.cues.CueTagger",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.pipeline.Pipeline",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "builtins.set",
]


def save_skops(obj, path) -> Path:
    """Write ``obj`` to ``path`` with skops, atomically (temporary file, then rename)."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        sio.dump(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_skops(path, extra_trusted=()):
    """Load a skops file, refusing pickles and any type not explicitly trusted."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(f"{path}: model file not found")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80" or not zipfile.is_zipfile(path):
        raise AnnotatorError(f"{path}: not a skops model file (pickle and joblib files are refused)")
    trusted = set(TRUSTED_TYPES) | set(extra_trusted)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # corrupt archive, wrong schema
        raise AnnotatorError(f"{path}: unreadable skops file: {exc}") from None
    refused = sorted(set(untrusted) - trusted)
    if refused:
        raise AnnotatorError(f"{path}: refusing to load untrusted types: {', '.join(refused)}")
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise AnnotatorError(f"{path}: cannot load model: {exc}") from None
