"""Spans never cross a quote mark: which tokens are quote marks, decoding, rule spans, a fitted tagger."""
from __future__ import annotations

import numpy as np

from annotator.cues import tag_texts, tokenize
from annotator.cues.decoding import runs
from annotator.cues.matching import RuleHit
from annotator.cues.quotemarks import cut_at_quotes, text_quote_tokens
from annotator.cues.rules import apply_rules
from annotator.cues.tokens import segments
from annotator.model import load_tagger
from annotator.taxonomy import load_taxonomy

LABELS = load_taxonomy().label_ids
ANON, NAMED, UNVERIFIED, LOADED = LABELS  # config order, checked in test_taxonomy
SENATOR = 'The senator panned the argument as "ludicrous".'
QUOTE_CHARS = set('"“”„«»‹›`')


def _marks(text):
    """The tokens of ``text`` flagged as quote marks, as (token, offset)."""
    toks, starts, ends = tokenize(text)
    q = text_quote_tokens([text], starts, ends, np.array([0, len(toks)]))
    return [(t, int(s)) for t, s, flag in zip(toks, starts, q) if flag]


def _decoded(text, prob=None, threshold=0.5, low=0.5):
    """Span texts of the hysteresis runs over ``text`` (every token at probability 1 by default)."""
    toks, starts, ends = tokenize(text)
    seg = segments(text, toks, starts, ends)
    p = np.ones(len(toks)) if prob is None else np.asarray(prob(toks), dtype=float)
    a, b, _ = runs(p, threshold, low, seg)
    return [text[starts[i]:ends[j - 1]] for i, j in zip(a.tolist(), b.tolist())]


def _crosses(text, start, end):
    """Whether ``text[start:end]`` holds a quote mark (a double one, or a flagged single one)."""
    return any(start <= s < end for _, s in _marks(text))


# --- which tokens are quote marks -----------------------------------------------------------------


def test_double_marks_typewriter_and_guillemets_are_quote_marks():
    text = 'He said "no", “never”, «jamais», ``nope\'\' and „nein“.'
    got = [t for t, _ in _marks(text)]
    assert got == ['"', '"', "“", "”", "«", "»", "`", "`", "'", "'", "„", "“"]


def test_single_marks_only_when_they_act_as_quotes():
    text = "It was ‘ludicrous’, don’t say Biden’s 'plan' is the senators' idea, nor rock 'n roll of the ’90s."
    got = _marks(text)
    assert [t for t, _ in got] == ["‘", "’", "'", "'"]
    # the pairs are the quotation marks, not the apostrophes of don’t, Biden’s, senators', 'n or ’90s
    assert [text[s + 1:s + 5] for t, s in got if t in "‘'"][:2] == ["ludi", "plan"]
    assert "don’t" in tokenize(text).tokens and "Biden’s" in tokenize(text).tokens


def test_a_single_quotation_does_not_pair_across_a_line():
    assert _marks("the 'first\nsecond' line") == []
    assert _marks("the 'first second' line") == [("'", 4), ("'", 17)]


def test_quote_marks_of_a_batch_are_those_of_each_text():
    """Texts laid end to end: no pair of marks is made across two texts, empty texts included."""
    texts = ["He called it 'absurd", "", "' and left.'", "''", "A ``quote'' and ‘another’ here", "don't '90s"]
    toks = [tokenize(t) for t in texts]
    offsets = np.cumsum([0] + [len(t.tokens) for t in toks])
    flat = text_quote_tokens(texts, np.concatenate([t.starts for t in toks]), np.concatenate([t.ends for t in toks]),
                             offsets)
    each = np.concatenate([text_quote_tokens([x], t.starts, t.ends, np.array([0, len(t.tokens)]))
                           for x, t in zip(texts, toks)])
    assert flat.tolist() == each.tolist()
    assert flat[offsets[3]:offsets[4]].tolist() == [True, True]  # the typewriter pair inside one text
    assert not flat[:offsets[3]].any()  # 'absurd ... ' across two texts is no pair


# --- decoding ------------------------------------------------------------------------------------


def test_runs_stop_at_quote_marks_and_marks_are_trimmed():
    assert _decoded(SENATOR) == ["The senator panned the argument as", "ludicrous"]
    assert _decoded("It was ‘ludicrous’ and 'absurd' today") == ["It was", "ludicrous", "and", "absurd", "today"]
    assert _decoded("a ``ludicrous'' claim") == ["a", "ludicrous", "claim"]
    assert _decoded("an «absurde» idée") == ["an", "absurde", "idée"]


def test_a_quoted_phrase_is_one_span_inside_its_marks():
    text = 'They called it “fake news cartel” again and "fake news cartel".'
    assert _decoded(text) == ["They called it", "fake news cartel", "again and", "fake news cartel"]
    # only the quoted words high: the span is the phrase, not its marks
    prob = lambda toks: [0.9 if t in ("fake", "news", "cartel") else 0.0 for t in toks]  # noqa: E731
    assert _decoded(text, prob) == ["fake news cartel", "fake news cartel"]


def test_apostrophes_inside_words_and_possessives_do_not_cut_a_span():
    text = "Biden’s plan and the senators' argument don’t hold"
    assert _decoded(text) == [text]


def test_a_high_quote_mark_alone_starts_no_span():
    """The mark's own probability cannot carry a run: the run beside it needs a high token itself."""
    text = 'the argument as "ludicrous"'
    prob = lambda toks: [0.9 if t == '"' else 0.3 if t in ("as", "ludicrous") else 0.0 for t in toks]  # noqa: E731
    assert _decoded(text, prob, threshold=0.5, low=0.2) == []


# --- rule spans ----------------------------------------------------------------------------------


def test_rule_spans_are_cut_at_quote_marks():
    text = 'The Twitter account "Kabul Updates" was not verified, and ‘the source’ said so.'
    spans = apply_rules(text)
    assert spans and all(not _crosses(text, s["start"], s["end"]) for s in spans)
    assert all(text[s["start"]] not in QUOTE_CHARS | set("‘’'") for s in spans)
    assert any(s["label"] == UNVERIFIED and s["text"] == "was not verified" for s in spans)


def test_cut_at_quotes_keeps_pieces_with_words():
    text = 'an "absurd" claim, " "'
    hit = RuleHit(LOADED, 0, len(text), 0.5, "r")
    marks = [s for _, s in _marks(text)]
    assert [text[h.start:h.end] for h in cut_at_quotes([hit], marks, text)] == ["an", "absurd", "claim,"]
    assert cut_at_quotes([hit], [], text) == [hit]


# --- a fitted tagger -----------------------------------------------------------------------------


def test_fitted_tagger_on_the_senator_sentence():
    """With every candidate, no span of the shipped (or ANNOTATOR_MODELS_DIR's) tagger crosses a quote
    mark, and the loaded term on "ludicrous" is quoted; its decoding is checked directly too."""
    tagger = load_tagger()
    spans = tag_texts([SENATOR], tagger, all_candidates=True)[0]
    assert all(not _crosses(SENATOR, s["start"], s["end"]) for s in spans)
    assert all(SENATOR[s["start"]] != '"' and SENATOR[s["end"] - 1] != '"' for s in spans)
    on = [s for s in spans if s["label"] == LOADED and s["start"] < SENATOR.index("ludicrous") + 9
          and s["end"] > SENATOR.index("ludicrous")]
    assert on and all(s["voice"] == "quoted" and s["text"] == "ludicrous" for s in on)
    # the decoding itself, at every label's thresholds and at the lowest ones: no run crosses a mark
    toks, starts, ends = tokenize(SENATOR)
    batch = tagger.analyze_batch([SENATOR])
    assert batch.tokens == toks
    seg = segments(SENATOR, toks, starts, ends)
    assert seg.quote.sum() == 2
    for j in range(len(tagger.labels_)):
        for high, low in ((tagger.thresholds_[j], tagger.low_thresholds_[j]), (0.0, 0.0)):
            a, b, _ = runs(batch.probs[:, j], high, low, seg)
            assert len(a) or high > 0
            assert all(not _crosses(SENATOR, int(starts[i]), int(ends[k - 1]))
                       for i, k in zip(a.tolist(), b.tolist()))
