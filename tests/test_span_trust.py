"""Spans people can trust (issue 14): the operating point, identity descriptors, pronoun sources."""
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from annotator import paths
from annotator.cli import main
from annotator.cues import CueTagger, tag_texts
from annotator.cues.operating import choose_threshold, span_cutoffs
from annotator.cues.vetting import Vetting, live_vetting, vet_spans
from annotator.evaluation import identity_share
from annotator.model import load_model, load_tagger, save_skops
from annotator.neutral_text import sentence_bounds
from annotator.scoring import score
from annotator.studio.preannotate import preannotate
from annotator.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
LABELS = load_taxonomy().label_ids
ANON, NAMED, UNVERIFIED, LOADED = LABELS  # config order, checked in test_taxonomy
BLACK = "A Black man shot in the back by police"


def _span(label, text, phrase, score=0.5):
    s = text.index(phrase)
    return {"label": label, "start": s, "end": s + len(phrase), "text": phrase, "score": score}


def _on(spans, label, text, phrase):
    s = text.index(phrase)
    return [d for d in spans if d["label"] == label and d["start"] < s + len(phrase) and d["end"] > s]


# --- identity descriptors ------------------------------------------------------------------------


def test_identity_descriptors_never_form_a_loaded_term_alone_labelling_phrases_stay():
    v = Vetting.from_builtins(live_vetting())
    assert v.identity_label == LOADED and v.pronoun_label == NAMED
    text = ("A Black man shot. The racial profile of Muslim voters. Illegal aliens, jihadis and Islamist terrorists. "
            "African-American families. radical Muslim clerics")
    spans = [_span(LOADED, text, p) for p in ("A Black man shot", "racial profile", "Muslim voters", "Illegal aliens",
                                                "jihadis", "Islamist terrorists", "African-American families",
                                                "radical Muslim clerics")]
    kept = {d["text"]: d for d in vet_spans(spans, text, v)}
    # "radical Muslim clerics" labels people: the descriptor is inside a phrase with other words, kept whole
    assert set(kept) == {"shot", "Illegal aliens", "jihadis", "Islamist terrorists", "radical Muslim clerics"}
    assert text[kept["shot"]["start"]:kept["shot"]["end"]] == "shot"
    # another label is left alone
    assert vet_spans([_span(NAMED, text, "Muslim voters")], text, v)[0]["text"] == "Muslim voters"


def test_identity_share_counts_occurrences_inside_loaded_terms():
    text = "Muslim voters and Black residents met. The jihadis attacked a Muslim village."
    spans = [_span(LOADED, text, "jihadis attacked a Muslim village")]
    res = identity_share([text], [spans])
    assert (res["occurrences"], res["in_loaded_terms"], res["share"]) == (3, 1, round(1 / 3, 4))
    first = [(0, text.index("."))]
    assert identity_share([text], [spans], regions=[first])["occurrences"] == 2
    assert sentence_bounds('He said "no." Then\nnext') == [(0, 13), (14, 18), (19, 23)]


def _tiny_texts(n=24):
    texts, spans = [], []
    for i in range(n):
        t = f"In town {i} a Black man was stopped, he said, and the mob fled. Officials in town {i} were calm."
        texts.append(t)
        spans.append([(LOADED, t.index("Black man"), t.index("Black man") + 9),
                      (LOADED, t.index("mob"), t.index("mob") + 3), (NAMED, t.index("he said"), t.index("he said") + 2)])
    return texts, spans


def _tiny_tagger(**kw):
    texts, spans = _tiny_texts()
    params = dict(labels=[NAMED, LOADED], tune_fraction=0, context=None, random_state=0)
    return CueTagger(**{**params, **kw}).fit(texts, spans)


def test_black_man_is_no_loaded_term_even_for_a_tagger_taught_so():
    tagger = _tiny_tagger()
    text = "In town 99 a Black man was stopped, he said, and the mob fled."
    bare = CueTagger.__new__(CueTagger)
    bare.__dict__.update({k: v for k, v in tagger.__dict__.items() if k not in ("vetting_", "_lookup_cache")})
    unvetted = bare.predict_spans([text])[0]
    assert _on(unvetted, LOADED, text, "Black") and _on(unvetted, NAMED, text, "he said")  # it learned them
    spans = tagger.predict_spans([text])[0]
    assert not _on(spans, LOADED, text, "Black") and _on(spans, LOADED, text, "mob")
    assert not _on(spans, NAMED, text, "he said")  # a pronoun alone is no named source


def test_shipped_model_black_man_acceptance():
    tagger = load_tagger()
    for spans in (tag_texts([BLACK], tagger)[0], tag_texts([BLACK], tagger, all_candidates=True)[0]):
        assert not _on(spans, LOADED, BLACK, "Black"), spans


def test_identity_lexicon_is_read_from_the_file_and_frozen_at_fit(tmp_path, monkeypatch):
    fitted = _tiny_tagger()
    saved = save_skops(fitted, tmp_path / "t.skops")
    text = "In town 99 a Black man was stopped, he said, and the mob fled."
    config = tmp_path / "label_config"
    shutil.copytree(paths.LABEL_CONFIG_DIR, config)
    terms = config / "lexicons" / "identity_terms.txt"
    terms.write_text("\n".join(w for w in terms.read_text(encoding="utf-8").splitlines() if w != "black") + "\n",
                     encoding="utf-8")
    monkeypatch.setattr(paths, "LABEL_CONFIG_DIR", config)
    assert "black" not in live_vetting()["identity"]
    fresh = _tiny_tagger()
    assert _on(fresh.predict_spans([text])[0], LOADED, text, "Black")  # the edited file changed a fresh fit
    assert fresh.model_version != fitted.model_version
    for old in (fitted, load_tagger(saved)):  # not a fitted model
        assert "black" in old.vetting_["identity"]
        assert not _on(old.predict_spans([text])[0], LOADED, text, "Black")


# --- pronouns as named sources: hint, guidelines and pre-annotations agree -------------------------


def _pronouns():
    v = live_vetting()
    assert v["pronoun_label"] == NAMED
    return set(v["pronouns"])


def test_hint_guidelines_and_preannotations_agree_on_pronoun_sources():
    pronouns = _pronouns()
    assert {"he", "who", "they"} <= pronouns
    root = ET.parse(paths.LABEL_CONFIG_DIR / "framing.xml").getroot()
    (label,) = [x for x in root.iter("Label") if x.get("value") == NAMED]
    hint = label.get("hint")
    assert "never a pronoun" in hint
    hint_examples = {w.lower() for w in re.findall(r"'([^']+)'", hint)}
    assert hint_examples and hint_examples <= pronouns
    guide = (paths.LABEL_CONFIG_DIR / "guidelines.md").read_text(encoding="utf-8")
    section = guide[guide.index(f"### `{NAMED}`"):]
    section = section[:section.index("\n### ")]
    (bullet,) = [b for b in section.split("\n- ") if b.startswith("Pronouns")]
    assert "never a `named_source` on their own" in bullet and "source_pronouns.txt" in bullet
    guide_examples = {w.lower() for w in re.findall(r"\*\*(\w+)\*\*", bullet)}
    assert guide_examples and guide_examples <= pronouns and hint_examples <= guide_examples
    # pre-annotations: a tagger taught PolNeAR-style pronoun sources offers none of them
    tagger = _tiny_tagger()
    text = "In town 7 a Black man was stopped, he said, and the mob fled."
    (pre,) = preannotate(tagger, [text], all_candidates=True)
    assert not [d for d in pre.spans if d["label"] == NAMED and d["text"].lower() in pronouns]
    v = Vetting.from_builtins(live_vetting())
    for word in sorted(pronouns | {w.capitalize() for w in pronouns}):
        assert vet_spans([{"label": NAMED, "start": 0, "end": len(word), "text": word, "score": 0.9}], word, v) == []
    named = "Sen. John McCain"
    assert vet_spans([_span(NAMED, named, named)], named, v)[0]["text"] == named


@pytest.mark.corpora("polnear")
def test_polnear_pronoun_sources_are_no_gold_named_sources():
    """PolNeAR marks pronouns as sources; the importer leaves a source made only of the vetting's
    pronouns out of the gold (the same word list), so the tagger does not learn them."""
    from annotator.corpora import load_polnear, polnear_annotations
    from annotator.corpus_mapping import corpus_mapping
    from annotator.paths import DATA_DIR

    pronouns = _pronouns()
    assert (paths.LABEL_CONFIG_DIR / corpus_mapping()["polnear"]["pronoun_lexicon"]).name == "source_pronouns.txt"
    ds = load_polnear(limit=30)
    gold = [t for t in ds.spans.loc[ds.spans["label"] == NAMED, "text"]]
    assert len(gold) > 50 and any(" " in t for t in gold)
    assert not [t for t in gold if t.strip().lower() in pronouns]
    anns = polnear_annotations(DATA_DIR / "polnear" / "train")
    raw = [line.rsplit("\t", 1)[1] for aid in ds.articles["article_id"] if aid.split("/", 1)[1] in anns
           for line in anns[aid.split("/", 1)[1]].read_text(encoding="utf-8").splitlines()
           if re.match(r"T\d+\tSource ", line)]
    dropped = [t for t in raw if t.strip().lower() in pronouns]
    assert len(dropped) > 20  # the corpus does mark them: the test above can fail


# --- the operating point -----------------------------------------------------------------------------


def test_choose_threshold_reaches_the_target_or_says_why_not():
    gold = [[(0, 5), (10, 15)]] * 10
    pred = [[(0, 5, 0.9), (10, 15, 0.4), (20, 25, 0.3), (30, 35, 0.2), (40, 45, 0.1)]] * 10
    res = choose_threshold(gold, pred, target=0.6)
    # the lowest score keeping precision >= 0.6: at 0.3, 2 of 3 spans are right
    assert res["target_met"] and res["threshold"] == pytest.approx(0.3) and res["precision"] == pytest.approx(0.6667)
    assert res["recall"] == 1.0 and res["candidates_precision"] == pytest.approx(0.4)
    bad = [[(20, 25, 0.9), (0, 5, 0.5), (30, 35, 0.4)]] * 10
    res = choose_threshold(gold, bad, target=0.6)
    assert not res["target_met"] and "not reached" in res["note"] and res["precision"] < 0.6


def _operating(tagger):
    return {lab: r["threshold"] for lab, r in tagger.operating_point_.items()}


def test_operating_point_is_stored_hashed_and_applied_by_default():
    texts, spans = _tiny_texts(30)
    tagger = CueTagger(labels=[NAMED, LOADED], context=None, random_state=0, tune_fraction=0.3).fit(texts, spans)
    point = tagger.operating_point_
    assert set(point) == {NAMED, LOADED}
    for r in point.values():
        assert {"threshold", "precision", "recall", "target_met", "candidates_precision"} <= set(r)
    version = tagger.model_version
    tagger.operating_point_ = {**point, LOADED: {**point[LOADED], "threshold": 1.01}}
    assert tagger._version() != version
    text = texts[0]
    every = tag_texts([text], tagger, all_candidates=True)[0]
    default = tag_texts([text], tagger)[0]
    assert default == [d for d in every if d["score"] >= _operating(tagger)[d["label"]]]
    assert len(default) < len(every)  # a threshold over every score drops the loaded terms
    assert tag_texts([text], tagger, min_score=0.0) == [every]
    assert span_cutoffs(tagger, min_score=0.5) == {"*": 0.5}


def _run_tag(tmp_path, name, *options):
    out = tmp_path / f"{name}.jsonl"
    r = CliRunner().invoke(main, ["tag", str(ROOT / "seeds"), "-o", str(out), *options])
    assert r.exit_code == 0, r.output
    return {row["id"]: row["spans"] for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def test_cli_below_threshold_candidates_only_with_all_candidates_or_min_score(tmp_path):
    cut = _operating(load_tagger())
    assert set(cut) == set(LABELS)
    default = _run_tag(tmp_path, "default")
    every = _run_tag(tmp_path, "every", "--all-candidates")
    low = _run_tag(tmp_path, "low", "--min-score", "0.05")
    below = 0
    for aid, spans in every.items():
        assert default[aid] == [d for d in spans if d["score"] >= cut[d["label"]]]
        assert low[aid] == [d for d in spans if d["score"] >= 0.05]
        below += sum(d["score"] < cut[d["label"]] for d in spans)
    assert below > 0  # the seeds have candidates under the operating point: only these options show them


def test_score_counts_follow_the_emitted_spans():
    model = load_model()
    frame = pd.DataFrame({"id": ["a"], "text": [(ROOT / "seeds" / "000_10cd50cdaed94430.txt").read_text()]})
    default, every = score(frame, model), score(frame, model, all_candidates=True)
    cut = _operating(model.tagger_)
    assert default["spans"][0] == [d for d in every["spans"][0] if d["score"] >= cut[d["label"]]]
    assert default["risk"][0] == every["risk"][0]  # the document score does not depend on what is shown
    for lab in LABELS:
        assert default[f"n_{lab}"][0] == sum(d["label"] == lab for d in default["spans"][0])
    assert np.all(score(frame, model, min_score=1.1)[[f"n_{lab}" for lab in LABELS]].to_numpy() == 0)
