"""Cue rules and the learned span tagger, on real corpora and the seeds."""
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import clone

from annotator.cli import main
from annotator.corpora import load_corpora
from annotator.corpus_mapping import corpus_mapping
from annotator.cues import (CueTagger, apply_rules, load_rules, merge_spans, tag_articles, tag_texts, tokenize,
                            training_inputs)
from annotator.errors import AnnotatorError
from annotator.model import load_tagger, save_skops
from annotator.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LABELS = load_taxonomy().label_ids
ANON, NAMED, UNVERIFIED, LOADED = LABELS  # config order, checked in test_taxonomy


@pytest.fixture(scope="module")
def small_tagger(corpora):
    ds = load_corpora(limit=40)
    texts, spans, annotated = training_inputs(ds, {c: m["annotates"] for c, m in corpus_mapping().items()})
    return CueTagger(random_state=0).fit(texts, spans, annotated=annotated), texts


def _hits(spans, label, phrase, text):
    start = text.index(phrase)
    end = start + len(phrase)
    return [s for s in spans if s["label"] == label and s["start"] < end and s["end"] > start]


def test_every_rule_loads_with_a_taxonomy_label():
    rules = load_rules()
    assert len({r.name for r in rules}) == len(rules) >= 10
    assert {r.label for r in rules} == set(LABELS)


def test_duplicate_rule_name_is_refused(tmp_path):
    path = tmp_path / "cues.toml"
    path.write_text('[[rule]]\nname="a"\nlabel="loaded_term"\npattern="x"\n[[rule]]\nname="a"\nlabel="loaded_term"\npattern="y"\n')
    with pytest.raises(AnnotatorError, match="defined twice"):
        load_rules(path)


def test_rule_with_unknown_label_is_refused(tmp_path):
    path = tmp_path / "cues.toml"
    path.write_text('[[rule]]\nname="a"\nlabel="nonsense"\npattern="x"\n')
    with pytest.raises(AnnotatorError, match="unknown label"):
        load_rules(path)


def test_rules_on_seed_000():
    text = (SEEDS / "000_10cd50cdaed94430.txt").read_text(encoding="utf-8")
    spans = apply_rules(text)
    assert _hits(spans, ANON, "sources told Republic Media Network", text)
    assert _hits(spans, ANON, "the source said", text)
    assert _hits(spans, LOADED, "fake news cartel", text)
    assert _hits(spans, LOADED, "terrorists", text)
    assert _hits(spans, UNVERIFIED, "Rumours that are doing rounds", text)


def test_rule_spans_stay_within_a_line():
    """A capitalised headline above a paragraph is not part of the name that starts it."""
    text = "Resistance Holds Out\n\nJohn Smith said the valley had not fallen."
    spans = apply_rules(text)
    assert all("\n" not in s["text"] for s in spans)
    assert [s["text"] for s in spans if s["label"] == NAMED] == ["John Smith"]


def test_offsets_on_non_ascii_and_emoji(small_tagger):
    tagger, _ = small_tagger
    text = "Café 👍🏽 «Sources told» the 🇦🇫 crowd that the notorious terrorists were reportedly pummelled — “fake news”."
    for spans in (tag_texts([text], tagger)[0], tag_texts([text], False)[0]):
        assert spans, "expected some spans"
        for s in spans:
            assert text[s["start"]:s["end"]] == s["text"]
            assert s["label"] in LABELS and 0.0 <= s["score"] <= 1.0
    rules_only = tag_texts([text], False)[0]
    assert any(s["text"] == "reportedly" for s in rules_only)
    assert any("terrorists" in s["text"] for s in rules_only)


def test_tokenize_offsets():
    text = "naïve 👍 U.S. war-ravaged “quote”"
    toks, starts, ends = tokenize(text)
    assert [text[s:e] for s, e in zip(starts, ends)] == toks
    assert "naïve" in toks and "U.S" in toks and "war-ravaged" in toks and "“" in toks


def test_learned_spans_do_not_start_or_end_on_edge_words(small_tagger):
    import copy

    from annotator.cues.lexicons import span_edge_words

    never_first, never_last = span_edge_words()
    assert {"and", "but"} <= never_first and {"the", "and", "of"} <= never_last
    tagger = copy.deepcopy(small_tagger[0])
    assert tagger.edge_words_.split("\n") == [" ".join(sorted(w)) for w in (never_first, never_last)]
    j = tagger.labels_.index(LOADED)
    tagger.thresholds_[j] = tagger.low_thresholds_[j] = 0.0  # every token is in a span: only the edges trim it
    tagger.use_rules = False
    text = "And the crowd shouted at the.\nBut of the.\nThen they said and the"
    spans = [s for s in tagger.predict_spans([text])[0] if s["label"] == LOADED]
    assert [s["text"] for s in spans] == ["the crowd shouted", "they said"]


@pytest.mark.corpora("ptc")
def test_fast_token_split_matches_the_plain_pattern():
    from annotator.cues.tokens import PLAIN_SPLIT as _PLAIN_SPLIT
    from annotator.cues.tokens import TOKEN_SPLIT as _TOKEN_SPLIT

    texts = list(load_corpora(("ptc",), limit=20).articles["text"])
    texts.append("U.S. the. e.g. naïve's co-op 3.5% “quote” 👍🏽 x")
    for text in texts:
        assert _TOKEN_SPLIT.split(text) == _PLAIN_SPLIT.split(text)


def test_merge_spans_unions_same_label_only():
    text = "abcdefghij"
    spans = [{"label": "x", "start": 0, "end": 4, "score": 0.2}, {"label": "x", "start": 3, "end": 6, "score": 0.9},
             {"label": "y", "start": 2, "end": 3, "score": 0.5}]
    out = merge_spans(spans, text)
    assert out == [{"label": "x", "start": 0, "end": 6, "text": "abcdef", "score": 0.9},
                   {"label": "y", "start": 2, "end": 3, "text": "c", "score": 0.5}]


def test_tagger_is_an_estimator(small_tagger):
    tagger, texts = small_tagger
    params = tagger.get_params()
    twin = clone(tagger)
    assert twin.get_params() == params and not hasattr(twin, "tables_")
    feats = tagger.transform(texts[:3])
    assert feats.shape == (3, 2 * len(LABELS)) and np.isfinite(feats).all()
    assert len(tagger.get_feature_names_out()) == feats.shape[1]


def test_tagger_learns_something(small_tagger):
    tagger, texts = small_tagger
    ds = load_corpora(limit=40)
    words = ds.spans[(ds.spans["label"] == UNVERIFIED) & ~ds.spans["text"].str.contains(" ")]["text"]
    cue = words.value_counts().index[0]  # the commonest one-word doxastic cue in the training part
    probs = tagger.token_scores(["It", "is", cue, "that", "the", "table", "is", "red"])
    assert probs.shape == (8, len(LABELS))
    j = LABELS.index(UNVERIFIED)
    assert probs[2, j] > 5 * probs[5, j]


def test_unknown_tokens_score_without_error(small_tagger):
    tagger, _ = small_tagger
    spans = tagger.predict_spans(["Zzyzx-qwv ǂXam said 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 thing.", ""])
    assert spans[1] == []


def test_skops_round_trip_and_refusals(small_tagger, tmp_path):
    tagger, texts = small_tagger
    path = save_skops(tagger, tmp_path / "t.skops")
    again = load_tagger(path)
    assert again.predict_spans(texts[:20]) == tagger.predict_spans(texts[:20])
    pickled = tmp_path / "t.pkl"
    import pickle
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(AnnotatorError, match="pickle"):
        load_tagger(pickled)
    with pytest.raises(AnnotatorError, match="not found"):
        load_tagger(tmp_path / "missing.skops")


def test_fit_refuses_empty_and_single_class():
    with pytest.raises(AnnotatorError, match="empty"):
        CueTagger().fit([], [])
    with pytest.raises(AnnotatorError, match="only one class"):
        CueTagger(labels=[LOADED], tune_fraction=0).fit(["no cues here at all"], [[]])


def test_tag_articles_keeps_error_rows():
    import pandas as pd
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["Sources said it was reportedly over.", None],
                          "error": [None, "b.txt: empty file"]})
    out = tag_articles(frame, False)
    assert list(out["id"]) == ["a", "b"]
    assert out["error"].iloc[1] == "b.txt: empty file" and out["spans"].iloc[1] == []
    assert out["error"].iloc[0] is None and out["spans"].iloc[0]


@pytest.mark.skipif(not (ROOT / "models" / "framing.skops").exists(), reason="shipped model not built")
def test_cli_tag_seeds_acceptance(tmp_path):
    out = tmp_path / "spans.jsonl"
    result = CliRunner().invoke(main, ["tag", str(SEEDS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert len(rows) == 5 and all(r["error"] is None for r in rows.values())
    t0 = (SEEDS / "000_10cd50cdaed94430.txt").read_text(encoding="utf-8").split(" ", 3)[3]
    s0 = rows["000_10cd50cdaed94430"]["spans"]
    for s in s0:
        assert t0[s["start"]:s["end"]] == s["text"]
    assert _hits(s0, ANON, "sources told Republic Media Network", t0)
    assert _hits(s0, ANON, "the source said", t0)
    assert _hits(s0, LOADED, "terrorists", t0)
    assert _hits(s0, LOADED, "fake news cartel", t0)
    t2 = (SEEDS / "002_eb1553226c65909d.txt").read_text(encoding="utf-8").split(" ", 3)[3]
    s2 = rows["002_eb1553226c65909d"]["spans"]
    assert _hits(s2, NAMED, "NRF spokesperson Ali Nazary", t2)
    assert _hits(s2, NAMED, "Zabihullah", t2)
    assert _hits(s2, UNVERIFIED, "The Twitter account from which the information was transmitted, however, was unverified", t2)


def test_context_bags_stay_inside_sentences():
    from annotator.cues.tagger.context import window_sum as _window_sum
    from annotator.cues.tokens import sentence_spans as _sentence_spans

    # two sentences: tokens 0-4 ("a b c d ."), 5-8 (a line break before token 5)
    stop = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
    brk = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
    first, last = _sentence_spans(stop, brk)
    assert first.tolist() == [0] * 5 + [5] * 4 and last.tolist() == [4] * 5 + [8] * 4
    values = np.arange(1, 10, dtype=float)[:, None]  # token i has value i + 1
    right = _window_sum(values, first, last, 2, 3, side=0)[:, 0]
    left = _window_sum(values, first, last, 2, 3, side=1)[:, 0]
    assert right.tolist() == [3 + 4, 4 + 5, 5, 0, 0, 8 + 9, 9, 0, 0]
    assert left.tolist() == [0, 0, 1, 1 + 2, 2 + 3, 0, 0, 6, 6 + 7]


@pytest.mark.corpora("polnear")
def test_source_span_filter_and_head_lexicon_labels():
    from annotator.cues.lexicons import is_anonymous as _anonymous
    from annotator.cues.lexicons import lexicon_regex as _lexicon_regex

    ds = load_corpora(("polnear",), limit=60)
    texts, spans, annotated = training_inputs(ds, {c: m["annotates"] for c, m in corpus_mapping().items()})
    tagger = CueTagger(random_state=0).fit(texts, spans, annotated=annotated)
    assert sorted(tagger.labels_[j] for j in tagger.filter_labels_) == sorted([ANON, NAMED])
    assert tagger.context_tables_[[LABELS.index(ANON), LABELS.index(NAMED)]].any()
    assert not tagger.context_tables_[LABELS.index(LOADED)].any()
    text = ("Officials said on Monday that the plan would fail. Sen. John McCain, R-Ariz., told reporters "
            "he was worried.\nA senior aide said the campaign was over, according to two people familiar with it.")
    tagger.filter_threshold_ = 0.0  # keep every candidate: each source span is labelled by the head lexicon
    found = [s for s in tagger.predict_spans([text])[0] if s["label"] in (ANON, NAMED)]
    assert found
    heads = _lexicon_regex(corpus_mapping()["polnear"]["anonymous_lexicon"])
    assert all(s["label"] == (ANON if _anonymous(s["text"], heads) else NAMED) for s in found)
    assert tagger.predict_spans([texts[0], text, texts[1]])[1] == tagger.analyze(text)["spans"]  # no leak across texts


@pytest.mark.corpora("ptc", "polnear")
def test_sample_weight_of_ones_changes_nothing_and_a_weight_steers():
    """Weights of 1 give the very tagger no weights give (span filter included); a team's few articles
    marking "said" as a loaded term move "said" further with weight 20 than with weight 1."""
    import re

    ds = load_corpora(("ptc", "polnear"), limit=30)
    texts, spans, annotated = training_inputs(ds, {c: m["annotates"] for c, m in corpus_mapping().items()})
    plain = CueTagger(random_state=0).fit(texts, spans, annotated=annotated)
    ones = CueTagger(random_state=0).fit(texts, spans, annotated=annotated, sample_weight=np.ones(len(texts)))
    assert ones.model_version == plain.model_version and np.array_equal(ones.tables_, plain.tables_)
    assert plain.filter_labels_ is not None and ones.filter_threshold_ == plain.filter_threshold_
    team = [i for i, t in enumerate(texts) if LOADED in annotated[i] and " said " in t][:4]
    assert len(team) == 4
    spans = [s + [(LOADED, m.start(), m.end()) for m in re.finditer(r"\bsaid\b", texts[i])] if i in team else s
             for i, s in enumerate(spans)]
    probe = "The minister said on Monday that the plan said nothing new."
    said = [k for k, t in enumerate(tokenize(probe)[0]) if t == "said"]

    def p_said(weight):
        w = np.where(np.isin(np.arange(len(texts)), team), weight, 1.0)
        tagger = CueTagger(random_state=0).fit(texts, spans, annotated=annotated, sample_weight=w)
        return float(tagger.analyze(probe)["probs"][said, LABELS.index(LOADED)].mean())

    light, heavy = p_said(1.0), p_said(20.0)
    assert heavy > light + 0.1, (light, heavy)
    with pytest.raises(ValueError):
        CueTagger().fit(texts, spans, annotated=annotated, sample_weight=np.ones(3))


# -- the rules belong to the fitted tagger ----------------------------------------------------

def _edited_rules(tmp_path, monkeypatch):
    """Point the live rule files at edited copies: a rule tagging every "the", every precision 0.01."""
    import annotator.cues.rules as rules_mod

    src = rules_mod.RULES_FILE.read_text(encoding="utf-8")
    path = tmp_path / "cues.toml"
    path.write_text(src + f'\n[[rule]]\nname = "every_the"\nlabel = "{LOADED}"\npattern = \'\'\'\\bthe\\b\'\'\'\n',
                    encoding="utf-8")
    measured = json.loads(rules_mod.RULES_MEASURED.read_text(encoding="utf-8"))
    for r in measured["rules"]:
        r["precision"] = 0.01
    (tmp_path / "rules_measured.json").write_text(json.dumps(measured), encoding="utf-8")
    monkeypatch.setattr(rules_mod, "RULES_FILE", path)
    monkeypatch.setattr(rules_mod, "RULES_MEASURED", tmp_path / "rules_measured.json")
    rules_mod.rule_precision.cache_clear()


@pytest.fixture
def edited_rules(tmp_path, monkeypatch):
    import annotator.cues.rules as rules_mod

    _edited_rules(tmp_path, monkeypatch)
    yield
    monkeypatch.undo()
    rules_mod.rule_precision.cache_clear()


def test_editing_the_live_rules_after_fit_does_not_change_a_fitted_tagger(small_tagger, tmp_path, request):
    import copy

    tagger, texts = small_tagger
    saved = save_skops(tagger, tmp_path / "t.skops")
    before = tagger.predict_spans(texts[:20])
    text = "The minister said the terrorists were reportedly the problem."
    rules_before = apply_rules(text)
    request.getfixturevalue("edited_rules")
    live = apply_rules(text)
    assert any(s["rule"] == "every_the" for s in live) and len(live) > len(rules_before)
    assert {s["score"] for s in live if s["rule"] != "every_the"} == {0.01}  # the live files did change
    assert copy.deepcopy(tagger).predict_spans(texts[:20]) == before  # no cached lookups: rebuilt from rules_
    assert load_tagger(saved).predict_spans(texts[:20]) == before
    assert not any(s["start"] == text.index("the") for s in tagger.predict_spans([text])[0])


@pytest.mark.corpora("ptc")
def test_model_version_hashes_the_rules(tmp_path, monkeypatch):
    ds = load_corpora(("ptc",), limit=15)
    texts, spans, annotated = training_inputs(ds, {c: m["annotates"] for c, m in corpus_mapping().items()})

    def fit():
        return CueTagger(labels=[LOADED], tune_fraction=0).fit(texts, spans, annotated=annotated)

    first, again = fit(), fit()
    assert first.model_version == again.model_version
    _edited_rules(tmp_path, monkeypatch)
    try:
        edited = fit()
    finally:
        monkeypatch.undo()
        import annotator.cues.rules as rules_mod
        rules_mod.rule_precision.cache_clear()
    assert np.array_equal(edited.tables_, first.tables_)
    assert edited.model_version != first.model_version
    assert [r["name"] for r in edited.rules_["rules"]][-1] == "every_the"
    assert {r["score"] for r in edited.rules_["rules"][:-1]} == {0.01}


def test_a_tagger_without_frozen_rules_takes_the_live_ones_on_first_use(small_tagger):
    import copy

    from annotator.cues import live_rule_set

    tagger, texts = small_tagger
    old = copy.deepcopy(tagger)
    del old.rules_  # as fitted before the rules were frozen into the tagger
    version = old.model_version
    assert old.predict_spans(texts[:20]) == tagger.predict_spans(texts[:20])
    assert old.rules_ == tagger.rules_ == live_rule_set().to_builtins()
    assert old.model_version == version


@pytest.mark.skipif(not (ROOT / "models" / "framing.skops").exists(), reason="shipped model not built")
def test_shipped_tagger_carries_the_rules_of_this_commit():
    """The shipped model was built with the rules in label_config/ (edit a rule: run `make model`)."""
    from annotator.cues import live_rule_set

    tagger = load_tagger()
    version = tagger.model_version
    assert tagger.rules_ == live_rule_set().to_builtins(), "label_config/ rules changed: run 'make model'"
    tagger.warm()
    assert tagger.model_version == version


def test_rule_analysis_overlaps_and_conflicts(tmp_path):
    import pandas as pd

    from annotator.cues.measure import measure_rules, rule_analysis
    from annotator.dataset import Dataset

    path = tmp_path / "cues.toml"
    path.write_text(f'[[rule]]\nname="a"\nlabel="{LOADED}"\npattern="fake news"\n'
                    f'[[rule]]\nname="b"\nlabel="{NAMED}"\npattern="news cartel"\n'
                    f'[[rule]]\nname="c"\nlabel="{LOADED}"\npattern="fake"\n')
    rules = load_rules(path)
    text = "the fake news cartel"
    ds = Dataset(pd.DataFrame({"article_id": ["x", "y"], "text": [text, "nothing here"], "corpus": ["ptc", "ptc"]}),
                 None, pd.DataFrame({"article_id": ["x"], "annotator": ["g"], "label": [LOADED], "start": [4],
                                     "end": [13], "text": ["fake news"]}))
    table = rule_analysis(ds, {"ptc": [LOADED]}, rules).set_index("rule")
    assert table["matches"].tolist() == [1, 1, 1] and table["articles_matched"].tolist() == [0.5, 0.5, 0.5]
    assert table["overlaps"].tolist() == [1.0, 1.0, 1.0]
    assert table["conflicts"].tolist() == [1.0, 1.0, 0.0]
    assert table.at["a", "precision"] == 1.0 and table.at["c", "precision"] == 1.0
    assert pd.isna(table.at["b", "precision"])  # ptc does not annotate named sources
    measured = measure_rules(ds, {"ptc": [LOADED]}, rules).set_index("rule")
    assert measured.at["a", "coverage"] == 1.0 and measured.at["b", "articles"] == 0
