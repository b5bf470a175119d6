"""Where the label config, the shipped model, the seeds and the shared corpora are found.

In a source checkout these are the top-level folders people edit (``label_config/``, ``models/``,
``seeds/``); in an installed wheel they are package data under ``annotator/_data/`` (copied there
by ``setup.py`` at build time). Environment variables override both.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CHECKOUT", "LABEL_CONFIG_DIR", "MODELS_DIR", "DEFAULT_MODEL", "SEEDS_DIR", "DATA_DIR", "seed_texts"]

_PACKAGE = Path(__file__).resolve().parent
_ROOT = _PACKAGE.parent

#: The source checkout holding this package, or None when the package is installed from a wheel.
CHECKOUT = _ROOT if (_ROOT / "setup.cfg").is_file() and (_ROOT / "label_config").is_dir() else None


def _located(name: str, env: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    return (CHECKOUT or _PACKAGE / "_data") / name


#: The label config, its rules and lexicons (``ANNOTATOR_LABEL_CONFIG_DIR`` overrides).
LABEL_CONFIG_DIR = _located("label_config", "ANNOTATOR_LABEL_CONFIG_DIR")
#: Folder of shipped models (``ANNOTATOR_MODELS_DIR`` overrides).
MODELS_DIR = _located("models", "ANNOTATOR_MODELS_DIR")
#: The model every command uses when none is named.
DEFAULT_MODEL = MODELS_DIR / "framing.skops"
#: The five seed articles and their ratings (``seeds/annotations.jsonl``).
SEEDS_DIR = _located("seeds", "ANNOTATOR_SEEDS_DIR")


def seed_texts() -> list:
    """The seed articles' ``.txt`` files, sorted (the folder also holds their ratings, which no reader wants)."""
    return sorted(SEEDS_DIR.glob("*.txt"))
#: The shared corpora (``ANNOTATOR_DATA_DIR`` overrides; default ``../shared/data`` beside the checkout).
#: (An installed package looks for ``../shared/data`` from the working directory.)
DATA_DIR = Path(os.environ.get("ANNOTATOR_DATA_DIR") or ((CHECKOUT or Path.cwd()).parent / "shared" / "data"))
