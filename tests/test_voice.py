"""Voice: quoted and reported speech found in text, each span's voice and source."""
from __future__ import annotations

import time

import pytest

from annotator.cues.voice import Quote, add_voice, find_quotes, span_voices


def _regions(text, **kw):
    return [(text[q.start:q.end], q.kind, None if q.source_start is None else text[q.source_start:q.source_end])
            for q in find_quotes(text, **kw)]


def _voice_of(text, word):
    s = text.index(word)
    span = {"label": "loaded_term", "start": s, "end": s + len(word), "text": word, "score": 0.5}
    return add_voice([span], text)[0]


def test_word_inside_quotes_is_quoted_and_narrator_stays_narrator():
    text = 'The senator panned the argument as "ludicrous".'
    assert _voice_of(text, "ludicrous")["voice"] == "quoted"
    assert _voice_of(text, '"ludicrous"')["voice"] == "quoted"
    assert _voice_of(text, "panned")["voice"] == "narrator"
    assert "attributed_to" not in _voice_of(text, "panned")


def test_curly_quotes_and_a_quote_across_a_paragraph_break():
    text = "“The first part of it is a disgrace.\n\n“And the second part is worse,” she said.\n\nThe vote is on Monday."
    got = _regions(text)
    assert got[0] == ("“The first part of it is a disgrace.", "direct", "she")
    assert got[1] == ("“And the second part is worse,”", "direct", "she")
    assert _voice_of(text, "disgrace")["voice"] == "quoted"
    assert _voice_of(text, "worse")["attributed_to"]["text"] == "she"
    assert _voice_of(text, "vote")["voice"] == "narrator"


def test_quote_across_a_line_break_and_typewriter_quotes():
    text = '"This is the first sentence.\nThis is the second," Smith said.\nThe end.'
    assert _regions(text) == [('"This is the first sentence.\nThis is the second,"', "direct", "Smith")]
    text = "''We may be seeing some wage growth,'' the economist Jared Bernstein wrote."
    assert _regions(text)[0][2] == "the economist Jared Bernstein"


def test_reported_speech():
    text = "Smith said that the plan was a disastrous failure. The weather was fine."
    assert _regions(text) == [("the plan was a disastrous failure", "reported", "Smith")]
    v = _voice_of(text, "disastrous")
    assert v["voice"] == "quoted" and v["attributed_to"] == {"start": 0, "end": 5, "text": "Smith"}
    assert _voice_of(text, "weather")["voice"] == "narrator"
    assert _regions("The economy grew fast, according to the Commerce Department.") == [
        ("The economy grew fast", "reported", "the Commerce Department")]
    assert _regions("He told reporters that the deal was dead.") == [("the deal was dead", "reported", "He")]
    assert _regions(text, reported=False) == []
    assert _regions('"We won," Smith said on Tuesday.', reported=False) == [('"We won,"', "direct", "Smith")]


def test_attributed_to_after_a_quote():
    text = 'Critics were unmoved. "It is a sham, a total sham," Smith said.'
    v = _voice_of(text, "sham")
    assert v["voice"] == "quoted"
    assert v["attributed_to"]["text"] == "Smith"
    assert text[v["attributed_to"]["start"]:v["attributed_to"]["end"]] == "Smith"
    assert _regions('"It was great," said Jane Doe, the mayor.')[0][2] == "Jane Doe"


def test_single_quotes_only_where_unambiguous():
    text = "He called it 'crooked' and left. The Smiths' house isn't red."
    assert [r[0] for r in _regions(text, reported=False)] == ["'crooked'"]


def test_span_voices_boundaries():
    quotes = [Quote(10, 20, "direct"), Quote(30, 40, "reported", 0, 3)]
    starts = [0, 8, 7, 10, 18, 19, 20, 25, 35, 38, 40]
    ends = [10, 12, 11, 20, 22, 21, 22, 35, 45, 42, 41]
    got = [(v.voice, v.quote) for v in span_voices(starts, ends, quotes)]
    assert got == [("narrator", None),  # ends where the quote starts
                   ("quoted", 0),  # 2 of 4 characters inside: half counts
                   ("narrator", None),  # 1 of 4 inside
                   ("quoted", 0), ("quoted", 0),  # 2 of 4
                   ("quoted", 0),  # 1 of 2
                   ("narrator", None),  # starts where the quote ends
                   ("quoted", 1),  # 5 of 10 in the second
                   ("quoted", 1), ("quoted", 1), ("narrator", None)]
    assert span_voices([], [], quotes) == []
    assert [v.voice for v in span_voices([0], [5], [])] == ["narrator"]


@pytest.mark.parametrize("text", [
    'He said "', '"', '""', "''", "“", "”", '"a" "b', "'", "“”“”", "said", "according to", ", said .",
    'x "\n\n"', 'a ”b” “c', "Smith said", "according to ,", '"' * 50, "‘" * 7 + "’" * 3,
])
def test_malformed_quotes_never_crash(text):
    quotes = find_quotes(text)
    assert all(0 <= q.start < q.end <= len(text) for q in quotes)
    assert all(a.end <= b.start for a, b in zip(quotes, quotes[1:]))


def test_unclosed_quote_stays_short():
    narrator = "The council met on Tuesday and approved the budget for the next year. " * 40
    text = 'The mayor called it "a disgrace and moved on.\n' + narrator + "\n" + narrator
    quotes = find_quotes(text, reported=False)
    assert len(quotes) == 1 and quotes[0].end == text.index("\n")
    flat = text.replace("\n", " ")  # no line breaks at all: capped at 600 characters
    q = find_quotes(flat, reported=False)
    assert len(q) == 1 and q[0].end - q[0].start <= 600
    assert _voice_of(text, "budget")["voice"] == "narrator"


def test_find_quotes_is_linear():
    unit = 'Smith said that "the plan, it is said, was a ludicrous failure," according to aides. '
    small, big = unit * 200, unit * 2000
    t0 = time.perf_counter()
    find_quotes(small)
    t1 = time.perf_counter()
    find_quotes(big)
    t2 = time.perf_counter()
    assert (t2 - t1) < 30 * max(t1 - t0, 1e-4)
