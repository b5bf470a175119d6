"""Model files: skops only, loaded against an explicit list of trusted types."""
from __future__ import annotations

import zipfile
from pathlib import Path

from ..cues import TRUSTED_TYPES as TAGGER_TRUSTED_TYPES
from ..cues import CueTagger
from ..errors import AnnotatorError
from ..io import atomic_output
from ..paths import DEFAULT_MODEL
from ..taxonomy import load_taxonomy
from .framing import FramingModel

__all__ = ["save_skops", "load_skops", "load_model", "load_tagger", "TRUSTED_TYPES", "MODEL_TRUSTED"]

#: Types (beyond what skops trusts by default) that any model file may contain.
TRUSTED_TYPES = list(TAGGER_TRUSTED_TYPES) + [
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.pipeline.Pipeline",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "builtins.set",
]

#: ... and what a framing model file may contain besides. Files written before the model became
#: a package name the class ``annotator.model.FramingModel`` (still importable from there).
MODEL_TRUSTED = TRUSTED_TYPES + [
    "annotator.model.FramingModel",
    f"{FramingModel.__module__}.{FramingModel.__qualname__}",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.model_selection._split.KFold",
]


def save_skops(obj, path) -> Path:
    """Write ``obj`` to ``path`` with skops, atomically (temporary file, then rename)."""
    import skops.io as sio  # optional: skops loads only when a model file is read or written (start-up time)

    path = Path(path)
    with atomic_output(path, "wb") as fh:
        sio.dump(obj, fh)
    return path


def load_skops(path, extra_trusted=()):
    """Load a skops file, refusing pickles and any type not explicitly trusted."""
    import skops.io as sio  # optional: skops loads only when a model file is read or written (start-up time)

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


def load_model(path=None) -> FramingModel:
    """Load a framing model (default: the shipped ``models/framing.skops``).

    Refuses pickles, untrusted types, and models built for another label set: the model's
    ``label_config_hash`` must fit the label config (:meth:`~annotator.taxonomy.Taxonomy.fits_model_hash`:
    its structure hash, label ids, reliability choices and ratings in order, so presentation-only
    edits of the XML keep a model valid; or, for model files that stored the hash of a whole XML,
    that of this XML or of an earlier one with the same structure).
    """
    path = Path(path) if path is not None else DEFAULT_MODEL
    model = load_skops(path, extra_trusted=MODEL_TRUSTED)
    if not isinstance(model, FramingModel):
        raise AnnotatorError(f"{path}: not a framing model (found {type(model).__name__})")
    taxonomy = load_taxonomy()
    stored = getattr(model, "label_config_hash", None)
    if not taxonomy.fits_model_hash(stored):
        raise AnnotatorError(f"{path}: built for another label config (hash {str(stored)[:12]}, "
                             f"ours {taxonomy.structure_hash[:12]}): retrain it with `annotator train`")
    if not hasattr(model, "class_rows_"):
        raise AnnotatorError(f"{path}: made by an older version of annotator (document features before issue 15): "
                             "retrain it with `annotator train` (or `make model`)")
    if not hasattr(model, "calib_x_"):
        raise AnnotatorError(f"{path}: made by an older version of annotator (step calibration): "
                             "retrain it with `annotator train`")
    return model.warm()


def load_tagger(path=None) -> CueTagger:
    """Load a cue tagger, or the tagger inside a framing model, from a skops file
    (default: the shipped ``models/framing.skops``)."""
    obj = load_skops(path or DEFAULT_MODEL, extra_trusted=MODEL_TRUSTED)
    if isinstance(obj, CueTagger):
        return obj
    tagger = getattr(obj, "tagger_", None) or getattr(obj, "named_steps", {}).get("cues")
    if isinstance(tagger, CueTagger):
        return tagger
    raise AnnotatorError(f"{path}: not a cue tagger or framing model")
