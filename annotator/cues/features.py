"""Token features of the learned tagger: word, shape, affixes, character n-grams, sentiment lexicon buckets."""
from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

__all__ = ["sentiment_lexicon", "token_features", "CENTER_ONLY"]

#: Feature-name prefixes used only at the token's own position (offset 0), not for its neighbours.
CENTER_ONLY = ("c:",)


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0], *parts)
    return p if p.exists() else None


@lru_cache(maxsize=1)
def sentiment_lexicon() -> dict:
    """Word → feature names from VADER valence and TextBlob/pattern subjectivity.

    VADER (MIT) and TextBlob's ``en-sentiment.xml`` (MIT/BSD) ship as package data.
    """
    feats: dict = {}
    vader = _package_file("vaderSentiment", "vader_lexicon.txt")
    if vader is not None:
        for line in vader.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0].isalpha():
                continue
            v = float(parts[1])
            strength = "3" if abs(v) >= 2.5 else "2" if abs(v) >= 1.5 else "1"
            feats.setdefault(parts[0].lower(), []).append(f"vader:{'neg' if v < 0 else 'pos'}{strength}")
    blob = _package_file("textblob", "en", "en-sentiment.xml")
    if blob is not None:
        subj: dict = {}
        for el in ET.parse(blob).getroot().iter("word"):
            subj.setdefault(el.get("form", "").lower(), []).append(float(el.get("subjectivity", 0)))
        for w, vals in subj.items():
            m = sum(vals) / len(vals)
            if m >= 0.5:
                feats.setdefault(w, []).append("subj:hi" if m >= 0.8 else "subj:mid")
    return feats


def _shape(tok: str) -> str:
    if tok.isalpha():
        if tok.islower():
            return "x"
        if tok.isupper():
            return "X" if len(tok) == 1 else "XX"
        return "Xx" if tok[0].isupper() else "xX"
    if tok.isdigit():
        return "d"
    if len(tok) == 1:
        return "p" + tok
    return "Xx-" if tok[0].isupper() else "x-" if tok[0].islower() else "o"


def token_features(tok: str, lexicon: dict, char_ngrams: int = 0) -> list:
    """Features of one token (independent of its neighbours).

    ``lexicon``: word → feature names (:func:`sentiment_lexicon`). ``char_ngrams`` > 0 adds the
    token's lower-cased character n-grams of that length (with ``<`` and ``>`` marking its edges):
    unseen words share them with seen ones.
    """
    low = tok.lower()
    feats = ["w:" + low, "sh:" + _shape(tok), "suf:" + low[-3:], "pre:" + low[:4]]
    feats.extend(lexicon.get(low, ()))
    if char_ngrams and low.isalpha() and len(low) + 2 > char_ngrams:
        w = "<" + low + ">"
        feats.extend("c:" + w[k:k + char_ngrams] for k in range(len(w) - char_ngrams + 1))
    return feats
