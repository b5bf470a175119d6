"""The learned span tagger (:class:`CueTagger`, a scikit-learn estimator) and the modules it is built from.

* :mod:`.estimator`: the estimator: parameters, ``fit``, the prediction API, the frozen rules;
* :mod:`.training`: training inputs, gold targets, design matrices, the linear token classifiers;
* :mod:`.context`: context bags (words a few tokens away within the sentence);
* :mod:`.span_filter`: the span-level filter of the source labels;
* :mod:`.prediction`: lookups, token scores and spans of a fitted tagger.
"""
from __future__ import annotations

from .estimator import TRUSTED_TYPES, CueTagger
from .prediction import TaggedBatch
from .training import training_inputs

__all__ = ["CueTagger", "TaggedBatch", "training_inputs", "TRUSTED_TYPES"]
