"""One record per input row: the scope check, then the model's output for a frame, checked, as plain records.

:func:`score` is the in-memory API; :func:`score_records` is what every engine runs on a chunk.
Every record has a ``status``: ``scored``, ``out_of_scope`` (the scope check of
:mod:`annotator.articles.scope` said why, in ``reason``; no risk, band or spans) or ``error``.
A chunk on which the model raises is halved until only the rows that fail become error rows.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache

import pandas as pd

from ..articles.scope import scope_reasons
from ..cues.operating import apply_cutoffs, span_cutoffs
from ..model import load_model
from ..paths import DEFAULT_MODEL
from ..taxonomy import load_taxonomy

__all__ = ["STATUSES", "SCORED", "OUT_OF_SCOPE", "ERROR", "output_columns", "score", "score_records",
           "span_cutoff_pairs", "records_frame", "resolve_model", "one_line"]

SCORED, OUT_OF_SCOPE, ERROR = "scored", "out_of_scope", "error"
#: The ``status`` of a record: scored by the model, out of the model's scope (``reason`` says why),
#: or an error (``error`` says why).
STATUSES = (SCORED, OUT_OF_SCOPE, ERROR)
#: The model's confidence in a score: how far the score could move (:mod:`annotator.model.confidence`).
CONFIDENCES = ("low", "medium", "high")

_SPAN_KEYS = ("label", "start", "end", "text", "score")
_SPAN_KEY_SET = frozenset(_SPAN_KEYS)
#: Optional span keys: whose voice the span is in (``narrator``/``quoted``) and who it is quoted from.
_VOICE_KEYS = ("voice", "attributed_to")
_SPAN_KEY_SETS = (_SPAN_KEY_SET, _SPAN_KEY_SET | {"voice"}, _SPAN_KEY_SET | set(_VOICE_KEYS))
_MAX_ERROR = 400


def output_columns(labels=None) -> list:
    """Record keys in order: id, source, status, reason, risk, band, confidence, risk_low, risk_high, spans,
    n_<label>..., error."""
    labels = load_taxonomy().label_ids if labels is None else labels
    return ["id", "source", "status", "reason", "risk", "band", "confidence", "risk_low", "risk_high", "spans",
            *[f"n_{lab}" for lab in labels], "error"]


# --- the model ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_model():
    return load_model(DEFAULT_MODEL)


def resolve_model(model):
    """A scoring model: the shipped one (loaded once per process) for None, a loaded file for a path,
    else ``model`` itself, which must have a ``score(frame)`` method or be callable."""
    if model is None:
        return _default_model()
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    if not (hasattr(model, "score") or callable(model)):
        raise TypeError(f"model must have a score(frame) method or be callable, not {type(model).__name__}")
    return model


def _call_model(model, frame: pd.DataFrame) -> pd.DataFrame:
    fn = getattr(model, "score", None)
    return fn(frame) if fn is not None else model(frame)


# --- checking the model's output ------------------------------------------------------------------


def one_line(text: object, limit: int = _MAX_ERROR) -> str:
    """``text`` on one line (whitespace runs as one space), cut to ``limit`` characters."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _spans(value) -> list:
    """Normalise the model's spans to plain dicts with the five keys (and ``voice``,
    ``attributed_to`` when the model gives them)."""
    if value is None:
        return []
    if type(value) is list and all(type(d) is dict and d.keys() in _SPAN_KEY_SETS and type(d["label"]) is str
                                   and type(d["start"]) is int and type(d["end"]) is int and type(d["text"]) is str
                                   and type(d["score"]) is float for d in value):
        return value  # already plain (what FramingModel gives): no copy
    out = []
    for d in list(value):
        span = {"label": str(d["label"]), "start": int(d["start"]), "end": int(d["end"]),
                "text": str(d["text"]), "score": float(d["score"])}
        if d.get("voice") is not None:
            span["voice"] = str(d["voice"])
        src = d.get("attributed_to")
        if src is not None:
            span["attributed_to"] = {"start": int(src["start"]), "end": int(src["end"]), "text": str(src["text"])}
        out.append(span)
    return out


def _model_rows(res, n: int, labels, choices, cutoffs=None) -> list:
    """Per-row results from the model's frame: dicts, or an error string for an invalid row; only the
    spans that reach ``cutoffs`` (:func:`~annotator.cues.operating.apply_cutoffs` pairs) are kept and counted."""
    if not isinstance(res, pd.DataFrame):
        raise TypeError(f"model returned {type(res).__name__}, not a DataFrame")
    if len(res) != n:
        raise ValueError(f"model returned {len(res)} rows for {n}")
    for col in ("risk", "band", "spans"):
        if col not in res.columns:
            raise ValueError(f"model output has no '{col}' column")
    risks, bands, spans = res["risk"].tolist(), res["band"].tolist(), res["spans"].tolist()
    confidences = res["confidence"].tolist() if "confidence" in res.columns else [None] * n
    lows = res["risk_low"].tolist() if "risk_low" in res.columns else [None] * n
    highs = res["risk_high"].tolist() if "risk_high" in res.columns else [None] * n
    counts = [res[f"n_{lab}"].tolist() if f"n_{lab}" in res.columns and cutoffs is None else None for lab in labels]
    cut = None if cutoffs is None else dict(cutoffs)
    rows = []
    for i in range(n):
        try:
            risk = float(risks[i])
            if not (math.isfinite(risk) and 0.0 <= risk <= 100.0):
                raise ValueError(f"risk {risk!r} is not within 0-100")
            band = bands[i]
            if band not in choices:
                raise ValueError(f"band {band!r} is not one of {', '.join(choices)}")
            sp = apply_cutoffs(_spans(spans[i]), cut)
            row = {"status": SCORED, "reason": None, "risk": risk, "band": band,
                   "confidence": _confidence(confidences[i]), "risk_low": _bound(lows[i]),
                   "risk_high": _bound(highs[i]), "spans": sp}
            for lab, col in zip(labels, counts):
                row[f"n_{lab}"] = int(col[i]) if col is not None else sum(d["label"] == lab for d in sp)
            rows.append(row)
        except Exception as exc:  # one bad row of model output: an error row, not a failed chunk
            rows.append(f"invalid model output ({type(exc).__name__}: {exc})")
    return rows


def _confidence(value) -> str | None:
    """The model's confidence in a row's score (None when it gives none): one of :data:`CONFIDENCES`."""
    if _missing(value):
        return None
    if value not in CONFIDENCES:
        raise ValueError(f"confidence {value!r} is not one of {', '.join(CONFIDENCES)}")
    return str(value)


def _bound(value) -> float | None:
    """An end of the score's interval (None when the model gives none), a finite number."""
    if _missing(value):
        return None
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"score interval end {value!r} is not a finite number")
    return round(value, 1)


def _score_block(model, ids, texts, labels, choices, cutoffs=None) -> list:
    """Score rows; when the model raises, bisect so only the rows that fail become errors."""
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object), "text": pd.Series(texts, dtype=object)})
    try:
        return _model_rows(_call_model(model, frame), len(ids), labels, choices, cutoffs)
    except Exception as exc:
        if len(ids) == 1:
            return [f"scoring failed ({type(exc).__name__}: {exc})"]
    half = len(ids) // 2
    return (_score_block(model, ids[:half], texts[:half], labels, choices, cutoffs)
            + _score_block(model, ids[half:], texts[half:], labels, choices, cutoffs))


# --- records --------------------------------------------------------------------------------------


def _column(frame: pd.DataFrame, name: str, n: int) -> list:
    """A column as str-or-None values (all None when the frame has no such column)."""
    if name not in frame:
        return [None] * n
    return [None if _missing(v) else str(v) for v in frame[name].tolist()]


def score_records(frame: pd.DataFrame, model, labels, choices, cutoffs=None, scope_check: bool = True) -> list:
    """Records (plain Python values, None for missing) for every row of an articles frame; spans
    below ``cutoffs`` (``(label, min score)`` pairs, see :func:`span_cutoff_pairs`) left out.

    With ``scope_check`` (the default) texts out of the model's scope (:mod:`annotator.articles.scope`)
    are not given to the model: their records have status ``out_of_scope`` and the reason.
    """
    n = len(frame)
    ids = _column(frame, "id", n)
    texts = frame["text"].tolist() if "text" in frame else [None] * n
    sources = _column(frame, "source", n)
    errors = _column(frame, "error", n)
    todo = []
    for i in range(n):
        if errors[i] is None and not isinstance(texts[i], str):
            errors[i] = f"{sources[i] or ids[i]}: no text"
        if errors[i] is None:
            todo.append(i)
    reasons = dict(zip(todo, scope_reasons([texts[i] for i in todo]))) if scope_check and todo else {}
    todo = [i for i in todo if reasons.get(i) is None]
    results = (_score_block(model, [ids[i] for i in todo], [texts[i] for i in todo], labels, choices, cutoffs)
               if todo else [])
    scored = dict(zip(todo, results))
    empty = {"risk": None, "band": None, "confidence": None, "risk_low": None, "risk_high": None, "spans": None, **{f"n_{lab}": None for lab in labels}}
    records = []
    for i in range(n):
        r = scored.get(i)
        if isinstance(r, str):
            errors[i] = one_line(f"{sources[i] or ids[i]}: {r}")
            r = None
        if r is None:
            reason = reasons.get(i)
            status = ERROR if errors[i] is not None else OUT_OF_SCOPE
            r = {"status": status, "reason": reason if status == OUT_OF_SCOPE else None, **empty}
        records.append({"id": ids[i], "source": sources[i], **r, "error": errors[i]})
    return records


def _with_status(record: dict) -> dict:
    """A record written before the scope check (no ``status``): ``scored`` or ``error``, no reason or confidence."""
    if "status" in record:
        return record
    status = ERROR if record.get("error") is not None or record.get("risk") is None else SCORED
    return {"status": status, "reason": None, "confidence": None, "risk_low": None, "risk_high": None, **record}


def records_frame(records: list, labels, index=None) -> pd.DataFrame:
    """Records as a frame: columns :func:`output_columns`, ``risk`` float, ``n_<label>`` ``Int64``."""
    cols = output_columns(labels)
    records = [_with_status(r) for r in records]
    data = {c: pd.Series([r[c] for r in records], dtype=object) for c in cols}
    data["risk"] = pd.Series([r["risk"] for r in records], dtype="float64")
    for col in ("risk_low", "risk_high"):
        data[col] = pd.Series([r.get(col) for r in records], dtype="float64")
    for lab in labels:
        data[f"n_{lab}"] = pd.Series([r[f"n_{lab}"] for r in records], dtype="Int64")
    out = pd.DataFrame(data, columns=cols)
    if index is not None:
        out.index = index
    return out


def span_cutoff_pairs(model, min_score=None, all_candidates=False):
    """The span cutoffs of a scoring run as ``(label, min score)`` pairs (None: every candidate):
    the operating point of ``model``'s tagger by default (:func:`~annotator.cues.operating.span_cutoffs`)."""
    cut = span_cutoffs(getattr(model, "tagger_", None), min_score, all_candidates)
    return None if cut is None else tuple(sorted(cut.items()))


def score(frame: pd.DataFrame, model=None, min_score=None, all_candidates=False, scope_check: bool = True) -> pd.DataFrame:
    """Score an articles frame in memory.

    Parameters
    ----------
    frame : DataFrame
        Columns ``id`` and ``text`` (e.g. from :func:`annotator.articles.read_articles`);
        ``source`` and ``error`` are used when present (rows with ``error`` set
        are passed through as error rows).
    model : optional
        A fitted model (``model.score(frame)``, see :mod:`annotator.model`) or a
        callable with the same contract, or a model file path. Default: the
        shipped model, loaded once per process.
    min_score : float or None
        Emit the spans scoring at least this, whatever their label. None: the model tagger's
        operating point (``operating_point_``: per-label thresholds of stated held-out precision).
    all_candidates : bool
        Emit every candidate span (the counts follow the spans emitted).
    scope_check : bool
        Check each text's scope first (:func:`annotator.articles.scope.check_scope`):
        texts that are not English news prose get status ``out_of_scope`` and no
        risk. False scores every text (for input known to be English news).

    Returns
    -------
    DataFrame
        One row per input row, same index and order, columns
        :func:`output_columns`: ``id, source, status, reason, risk, band,
        confidence, risk_low, risk_high, spans, n_<label>..., error``. ``status``
        is ``scored``, ``out_of_scope`` (``reason`` says why) or ``error``
        (``error`` says why); ``risk``, ``risk_low`` and ``risk_high`` are float
        (NaN unless scored); ``confidence`` is ``low``, ``medium`` or ``high``
        (None unless scored), ``n_<label>`` nullable ``Int64``, the
        others objects with ``None`` for missing. A row on which the model
        raises gets ``error`` set; it does not raise.
    """
    model = resolve_model(model)
    tax = load_taxonomy()
    cutoffs = span_cutoff_pairs(model, min_score, all_candidates)
    records = score_records(frame, model, tax.label_ids, tax.rating_choices, cutoffs, scope_check)
    return records_frame(records, tax.label_ids, frame.index)
