"""Prediction with a fitted cue tagger: lookups rebuilt from its stored attributes, token scores, spans.

Tagging a batch is one regex tokenisation, one dictionary lookup per token, a few vectorised
numpy gathers over the folded score tables, hysteresis decoding, the span filter, the frozen
rules, and a merge of overlapping spans of one label.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from ...spans import _merge
from ..decoding import runs, sigmoid
from ..features import token_features
from ..matching import RuleMatcher
from ..tokens import ABBREVIATIONS, sentence_spans, segments_flat, tokenize_flat
from ..reported import VoiceTable, voice_table
from ..vetting import Vetting, vet_spans
from ..voice import add_voice, batch_quotes
from .context import context_lookup, context_scores
from .span_filter import HeadLookup, filtered_spans, head_lookup

__all__ = ["TaggedBatch", "Lookups", "lookups", "token_ids", "token_scores", "analyze_batch", "held_out_spans"]


@dataclass
class TaggedBatch:
    """What :meth:`CueTagger.analyze_batch` finds in several texts.

    Token arrays are flat, text after text; text ``i`` owns tokens
    ``offsets[i]:offsets[i + 1]``. ``starts``/``ends`` are offsets within each text.
    """

    offsets: np.ndarray
    tokens: list
    starts: np.ndarray
    ends: np.ndarray
    ids: np.ndarray
    probs: np.ndarray  # (n_tokens, n_labels)
    spans: list  # per text: span dicts
    quotes: list = field(default_factory=list)  # per text: annotator.cues.voice.Quote regions

    def article(self, i: int) -> dict:
        """Text ``i`` as a dict: ``tokens``, ``starts``, ``ends``, ``ids``, ``probs``, ``spans``."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return {"tokens": self.tokens[a:b], "starts": self.starts[a:b], "ends": self.ends[a:b],
                "ids": self.ids[a:b], "probs": self.probs[a:b], "spans": self.spans[i],
                "quotes": self.quotes[i] if self.quotes else []}


@dataclass
class Lookups:
    """What prediction needs, rebuilt from a tagger's stored strings and arrays (never saved)."""

    vocab: dict  # token -> vocabulary row
    lex: dict  # sentiment lexicon: word -> feature names
    fw: dict  # feature name -> row of feature_weights_
    tables: list  # per window offset, one opaque element per vocabulary row holding its labels' scores
    abbreviation: np.ndarray  # per vocabulary row: an abbreviation ("Mr", "Sen", ...)
    edges: np.ndarray | None  # (2, rows): may not start a span, may not end one
    context: tuple | None  # context_lookup(context_tables_)
    unknown: dict = field(default_factory=dict)  # score deltas of out-of-vocabulary tokens
    matcher: RuleMatcher | None = None  # the frozen rules (built on first use)
    heads: HeadLookup | None = None  # the span filter's head test (built on first use)
    vetting: Vetting | None = None  # the frozen vetting tests (None: the tagger has none)
    voice: VoiceTable | None = None  # token classes for reported speech (built on first use)


def _build_lookups(est) -> Lookups:
    words = est.vocabulary_.split("\n") if est.vocabulary_ else []
    lex = {}
    for line in est.lexicon_.split("\n"):
        if line:
            w, _, f = line.partition("\t")
            lex[w] = f.split()
    names = est.feature_names_.split("\n") if est.feature_names_ else []
    rows = est.tables_.shape[2]
    abbreviation = np.zeros(rows, dtype=bool)
    abbreviation[[i for i, w in enumerate(words) if w in ABBREVIATIONS]] = True
    edges = None
    if getattr(est, "edge_words_", ""):
        lower = [w.lower() for w in words]
        edges = np.zeros((2, rows), dtype=bool)
        for k, line in enumerate(est.edge_words_.split("\n")):
            edges[k, :len(words)] = np.isin(lower, line.split())
    # a gather of whole rows as opaque elements is several times faster than of float rows
    tables = [np.ascontiguousarray(t, dtype=np.float32).view(np.dtype((np.void, 4 * t.shape[1]))).ravel()
              for t in est.tables_.transpose(1, 2, 0)]
    ctx = getattr(est, "context_tables_", None)
    vetting = getattr(est, "vetting_", None)
    return Lookups({t: i for i, t in enumerate(words)}, lex, {n: i for i, n in enumerate(names)}, tables,
                   abbreviation, edges, None if ctx is None else context_lookup(ctx),
                   vetting=None if vetting is None else Vetting.from_builtins(vetting))


def lookups(est) -> Lookups:
    """The tagger's :class:`Lookups` (built once, kept out of its saved state)."""
    cache = est.__dict__.get("_lookup_cache")
    if cache is None:
        cache = est.__dict__["_lookup_cache"] = _build_lookups(est)
    return cache


def rule_matcher(est) -> RuleMatcher:
    """A matcher of the tagger's frozen rules, with flags for its vocabulary."""
    lk = lookups(est)
    if lk.matcher is None:
        lk.matcher = est.frozen_rules().matcher(est.vocabulary_.split("\n") if est.vocabulary_ else [])
    return lk.matcher


def heads(est) -> HeadLookup:
    """The span filter's head test (:func:`~annotator.cues.tagger.span_filter.head_lookup`), built once."""
    lk = lookups(est)
    if lk.heads is None:
        lk.heads = head_lookup(est)
    return lk.heads


def token_ids(est, toks) -> np.ndarray:
    """Vocabulary row of each token (``n_vocab + 1`` for unknown tokens)."""
    vocab = lookups(est).vocab
    return np.fromiter(map(vocab.get, toks, repeat(len(vocab) + 1)), dtype=np.int64, count=len(toks))


def _unknown_deltas(est, toks) -> np.ndarray:
    """Score change (tokens × labels × offsets) of out-of-vocabulary tokens over the generic
    unknown row: the weights of their own features (cached per token string)."""
    lk = lookups(est)
    cache = lk.unknown
    if len(cache) > 100_000:
        cache.clear()
    new = [t for t in dict.fromkeys(toks) if t not in cache]
    if new:
        rows, cols = [], []
        for r, tok in enumerate(new):
            for f in token_features(tok, lk.lex, est.char_ngrams):
                c = lk.fw.get(f)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
        F = est.feature_weights_
        onehot = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(new), F.shape[0]))
        deltas = np.asarray(onehot @ F.reshape(F.shape[0], -1), dtype=np.float32).reshape((len(new),) + F.shape[1:])
        cache.update(zip(new, deltas))
    return np.stack([cache[t] for t in toks])


def _default_bounds(toks, offsets):
    """Sentences ending at ``.``/``!``/``?`` tokens and text starts."""
    n = len(toks)
    stop = np.fromiter((t in (".", "!", "?") for t in toks), dtype=bool, count=n)
    brk = np.zeros(n, dtype=bool)
    brk[offsets[:-1][offsets[:-1] < n]] = True
    return sentence_spans(stop, brk)


def token_scores(est, toks, ids=None, offsets=None, bounds=None):
    """Probability per token and label, shape (n_tokens, n_labels); see ``CueTagger.token_scores``."""
    n = len(toks)
    L, K = est.tables_.shape[:2]
    if n == 0:
        return np.zeros((0, L), np.float32)
    ids = token_ids(est, toks) if ids is None else ids
    offsets = np.array([0, n]) if offsets is None else np.asarray(offsets)
    tables = lookups(est).tables
    pad = est.tables_.shape[2] - 2
    w = est.window
    # each article padded with w pad tokens on either side, in one array; scores are summed
    # over every position between the outer pads (slices, no index arithmetic), then the
    # tokens' rows taken
    art = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    pos = np.arange(n) + w * (art + 1)
    padded = np.full(n + w * len(offsets), pad, dtype=np.int64)
    padded[pos] = ids
    m = len(padded) - 2 * w
    z = np.empty((m, L), dtype=np.float32)
    z[:] = est.intercepts_.astype(np.float32)
    for k in range(K):
        z += tables[k][padded[k:k + m]].view(np.float32).reshape(m, L)
    z = z[pos - w] if m != n else z
    unknown = np.flatnonzero(ids == pad + 1)
    if len(unknown):
        delta = _unknown_deltas(est, [toks[r] for r in unknown.tolist()])
        token_at = np.full(len(padded), -1, dtype=np.int64)
        token_at[pos] = np.arange(n)
        for k in range(K):  # unknown token r is at offset k of token r - (k - w)
            target = token_at[pos[unknown] - (k - w)]
            ok = target >= 0
            np.add.at(z, target[ok], delta[ok, :, k])
    if getattr(est, "context_tables_", None) is not None:
        bounds = _default_bounds(toks, offsets) if bounds is None else bounds
        js, bag = context_scores(lookups(est).context, est.context, ids, bounds)
        z[:, js] += bag
    return sigmoid(z)


def _segments(est, texts, flat, ids):
    """(segment flags, sentence bounds) of tokenised texts."""
    lk = lookups(est)
    edges = None if lk.edges is None else (lk.edges[0].take(ids), lk.edges[1].take(ids))
    seg = segments_flat("".join(texts), flat.tokens, flat.gstarts, flat.gends, flat.offsets, ids, lk.abbreviation,
                        edges)
    return seg, sentence_spans(seg.stop, seg.brk)


def analyze_batch(est, texts) -> TaggedBatch:
    """One vectorised pass over several texts: tokens, vocabulary ids, token probabilities
    and spans (decoded, span-filtered, with the frozen rules, merged, vetted, with their voice) of each."""
    flat = tokenize_flat(texts)
    ids = token_ids(est, flat.tokens)
    seg, bounds = _segments(est, texts, flat, ids)
    probs = token_scores(est, flat.tokens, ids, flat.offsets, bounds)
    spans = _decode(est, texts, flat, ids, seg, bounds, probs)
    lk = lookups(est)
    if lk.voice is None:
        lk.voice = voice_table(est.vocabulary_.split("\n") if est.vocabulary_ else [])
    quotes = batch_quotes(texts, flat, ids, bounds, lk.voice)
    for sp, text, q in zip(spans, texts, quotes):
        add_voice(sp, text, q)
    return TaggedBatch(flat.offsets, flat.tokens, flat.starts, flat.ends, ids, probs, spans, quotes)


def held_out_spans(est, texts, probs, filter_scores=None) -> list:
    """Spans of ``texts`` decoded as :func:`analyze_batch` does, from given token probabilities
    (``probs``: one tokens × labels array per text, e.g. held-out scores at fit).

    ``filter_scores``: the span filter's score of each candidate of the texts, in order (e.g. its
    cross-fitted scores); used only when their number matches the candidates found.
    """
    flat = tokenize_flat(texts)
    ids = token_ids(est, flat.tokens)
    seg, bounds = _segments(est, texts, flat, ids)
    P = np.concatenate(probs).astype(np.float32) if probs else np.zeros((0, len(est.labels_)), np.float32)
    if len(P) != len(flat.tokens):
        raise ValueError(f"{len(P)} token scores for {len(flat.tokens)} tokens")
    return _decode(est, texts, flat, ids, seg, bounds, P, filter_scores)


def _decode(est, texts, flat, ids, seg, bounds, probs, filter_scores=None) -> list:
    """Span dicts per text from token probabilities: hysteresis runs, the span filter, the frozen
    rules, merged per label, then vetted (:func:`~annotator.cues.vetting.vet_spans`); their voice is
    added by :func:`analyze_batch` (the held-out spans of the operating point need none)."""
    items = [[] for _ in texts]
    group = getattr(est, "filter_labels_", None)
    for j, lab in enumerate(est.labels_):
        if group is not None and j in group:
            continue
        a, b, score = runs(probs[:, j], est.thresholds_[j], est.low_thresholds_[j], seg)
        for t, s, e, sc in zip(flat.art[a].tolist(), flat.starts[a].tolist(), flat.ends[b - 1].tolist(),
                               score.tolist()):
            items[t].append((lab, s, e, sc))
    if group is not None:
        filtered_spans(est, heads(est) if getattr(est, "filter_heads_", "") else None, probs, seg, bounds, ids,
                       flat, texts, items, filter_scores)
    if est.use_rules:
        # rules' spans are added to the span filter's too: with the source rules' precision at
        # 0.8-1.0 on PolNeAR this adds 0.003 to the sources' span F1 (when a rule of precision
        # 0.31 was among them, merging cost 0.04)
        found = rule_matcher(est).apply(texts, flat.tokens, flat.starts, flat.ends, flat.offsets, ids, seg.quote)
        for t, hits in enumerate(found):
            items[t].extend((h.label, h.start, h.end, h.score) for h in hits)
    vetting = lookups(est).vetting
    spans = [_merge(it, text) for it, text in zip(items, texts)]
    if vetting is not None:
        spans = [vet_spans(ss, text, vetting) for ss, text in zip(spans, texts)]
    return spans
