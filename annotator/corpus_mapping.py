"""The corpus mapping: how each public corpus maps onto the taxonomy (``label_config/corpora.toml``).

A leaf both the corpus importers (:mod:`annotator.corpora`) and the cue tagger (the labels whose
classifiers use context bags, the anonymous-head lexicon) read.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache

from .paths import LABEL_CONFIG_DIR
from .taxonomy import load_taxonomy

__all__ = ["corpus_mapping", "CORPORA_FILE"]

#: The mapping file.
CORPORA_FILE = LABEL_CONFIG_DIR / "corpora.toml"


@lru_cache(maxsize=1)
def corpus_mapping() -> dict:
    """The mapping file, with every label checked against the taxonomy."""
    mapping = tomllib.loads(CORPORA_FILE.read_text(encoding="utf-8"))
    tax = load_taxonomy()
    labels = [lab for m in mapping.values() for lab in m.get("annotates", [])]
    labels += list(mapping["ptc"]["techniques"].values()) + list(mapping["szeged"]["cue_types"].values())
    pn = mapping["polnear"]
    labels += [pn["source_label"], pn["anonymous_label"], pn["unsourced_cue_label"]]
    for label in labels:
        tax.check_label(label)
    return mapping
