"""Fast retraining on a team's annotations: the team's convention wins over the corpora's, and the plan keeps to its budget.

The convention test builds a team's annotations synthetically from real PTC articles: the team
marks loaded terms as PTC does, except that it never marks "terrorists" (a word the shipped
model's lexicon rule always marks) and always marks "immigration" (which PTC never marks). After
one retrain on fewer than 100 of those articles, the new model must follow the team on PolNeAR
articles it has never seen, where the shipped model follows the corpora.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from annotator.corpora import load_polnear, load_ptc
from annotator.dataset import Dataset
from annotator.model.files import load_model
from annotator.training.retrain import describe_retrain, retrain
from annotator.training.retrain_data import held_out_mask, plan_fit, sample_base

NEVER = re.compile(r"\bterrorists\b", re.I)
ALWAYS = re.compile(r"\bimmigration\b", re.I)


def _team_dataset(ptc: Dataset, n: int) -> Dataset:
    """``n`` PTC articles holding either word, with the team's loaded-term spans (see the module docstring)."""
    arts = ptc.articles[ptc.articles["text"].str.contains(NEVER) | ptc.articles["text"].str.contains(ALWAYS)]
    arts = arts.iloc[:n].assign(corpus="team-project")
    rows = []
    for aid, text in zip(arts["article_id"], arts["text"]):
        never = [m.span() for m in NEVER.finditer(text)]
        always = [m.span() for m in ALWAYS.finditer(text)]
        gold = ptc.spans[(ptc.spans["article_id"] == aid) & (ptc.spans["label"] == "loaded_term")]
        for s, e in zip(gold["start"], gold["end"]):
            if not any(a < e and b > s for a, b in never + always):
                rows.append((aid, int(s), int(e)))
        rows += [(aid, s, e) for s, e in always]
    spans = pd.DataFrame(rows, columns=["article_id", "start", "end"])
    texts = dict(zip(arts["article_id"], arts["text"]))
    spans = spans.assign(annotator="team@example.org", label="loaded_term", reliability=None,
                         text=[texts[a][s:e] for a, s, e in zip(spans["article_id"], spans["start"], spans["end"])])
    docs = pd.DataFrame({"article_id": arts["article_id"], "annotator": "team@example.org", "framing_risk": None,
                         "cancelled": False})
    return Dataset(arts, docs, spans)


def _marked_share(model, texts, pattern) -> float:
    """Share of the word's occurrences in ``texts`` that a loaded_term span of ``model`` covers."""
    scored = model.score(pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts}), evidence=0)
    hit = total = 0
    for text, spans in zip(texts, scored["spans"]):
        loaded = [(d["start"], d["end"]) for d in spans if d["label"] == "loaded_term"]
        for m in pattern.finditer(text):
            total += 1
            hit += any(s < m.end() and e > m.start() for s, e in loaded)
    return hit / max(total, 1)


@pytest.mark.corpora("ptc", "polnear")
def test_team_convention_steers_the_retrained_model():
    ptc, polnear = load_ptc(), load_polnear()
    team = _team_dataset(ptc, 100)  # every PTC article holding either word: 71
    assert 60 <= len(team) <= 100 and team.spans["text"].str.contains(ALWAYS).sum() >= 60
    unseen = polnear.articles["text"]
    never_texts = unseen[unseen.str.contains(NEVER)].iloc[:25].tolist()
    always_texts = unseen[unseen.str.contains(ALWAYS)].iloc[:25].tolist()
    base = load_model()
    before = _marked_share(base, never_texts, NEVER), _marked_share(base, always_texts, ALWAYS)
    assert before[0] > 0.8 and before[1] < 0.2, before  # the shipped model follows the corpora
    out = retrain(base, team, base_corpora=("ptc",), budget_chars=1_200_000, holdout=0.15)
    after = _marked_share(out.model, never_texts, NEVER), _marked_share(out.model, always_texts, ALWAYS)
    print(f"share of occurrences marked loaded_term (terrorists, immigration): shipped {before}, retrained {after}, "
          f"{out.seconds} s")
    assert after[0] < 0.2 and after[1] > 0.6, (before, after)
    assert out.model_version != base.model_version and out.model_version.startswith("framing-")
    assert out.counts["team_articles"] == len(team) == out.counts["team_held_out"] + out.counts["team_fitted"]
    assert any("terrorists" in note for note in out.notes)
    held = out.held_out["labels"]["loaded_term"]
    assert held["new"]["n_gold"] == held["base"]["n_gold"] > 0
    assert out.model.metrics_["retrain"]["counts"] == out.counts
    text = describe_retrain(out)
    assert "terrorists" in text and f"{'loaded_term':<18} {held['base']['f1']:.3f} -> {held['new']['f1']:.3f}" in text


@pytest.mark.corpora("ptc")
def test_retrain_command_writes_a_model(tmp_path):
    from click.testing import CliRunner

    from annotator.cli import main
    from annotator.dataset import write_dataset

    write_dataset(_team_dataset(load_ptc(), 30), tmp_path / "team")
    r = CliRunner().invoke(main, ["retrain", str(tmp_path / "team"), "-o", str(tmp_path / "m.skops"),
                                  "--budget-chars", "300000", "--holdout", "0.2"])
    assert r.exit_code == 0, r.output
    model = load_model(tmp_path / "m.skops")
    assert model.model_version in r.output and "held-out team articles (" in r.output
    assert model.metrics_["retrain"]["counts"]["team_articles"] == 30


def test_plan_lets_the_base_sample_fill_the_budget():
    small = plan_fit(100_000, 3_000_000)
    assert small.base_chars == 2_900_000 and small.team_chars == 100_000  # the base fills the rest of the budget
    big = plan_fit(2_400_000, 3_000_000)  # 500 PolNeAR articles: the base keeps 30 % of the budget
    assert big.base_chars == 900_000


def test_held_out_articles_are_stable_and_grouped_by_id():
    ids = [f"a{i}" for i in range(200)]
    mask = held_out_mask(ids, 0.15)
    assert 10 < mask.sum() < 50
    assert (held_out_mask(ids[:150], 0.15) == mask[:150]).all()  # the same article stays held out
    assert not held_out_mask(ids[:19], 0.15).any()


def test_base_sample_shares_and_size():
    frame = pd.DataFrame({"corpus": ["ptc"] * 50 + ["polnear"] * 50 + ["szeged"] * 50,
                          "text": ["x" * 1000] * 150, "article_id": [str(i) for i in range(150)]})
    out = sample_base(frame, 40_000)
    per = out["corpus"].value_counts()
    assert per["ptc"] == 18 and per["polnear"] == 16 and per["szeged"] == 6
    assert out["article_id"].is_unique and np.isin(out["article_id"], frame["article_id"]).all()


def test_a_pulled_task_naming_a_corpus_counts_for_that_corpus_s_labels_only():
    """Corpus articles imported with ``data.corpus`` (the learning-curve bench) keep it in a pull, so a
    PolNeAR article annotated with its sources does not teach "no loaded term here"."""
    from annotator.studio.tables import tasks_to_dataset
    from annotator.taxonomy import load_taxonomy
    from annotator.training.targets import training_frame

    tax = load_taxonomy()
    tasks = [{"id": i + 1, "data": {tax.text_field: "Officials said so.", "article_id": f"a{i}", "corpus": c},
              "annotations": [{"id": i + 1, "completed_by": 1, "result": [], "was_cancelled": False}]}
             for i, c in enumerate(["polnear", "not-a-corpus", None])]
    ds = tasks_to_dataset(tasks, tax, "Week 12")
    assert list(ds.articles["corpus"]) == ["polnear", "Week 12", "Week 12"]
    frame = training_frame(ds, set(ds.articles["article_id"]))
    annotated = dict(zip(frame["article_id"], frame["annotated"]))
    assert "loaded_term" not in annotated["a0"] and "named_source" in annotated["a0"]
    assert set(annotated["a1"]) == set(tax.label_ids)


def test_a_corpus_short_of_its_share_leaves_the_rest_to_the_others():
    frame = pd.DataFrame({"corpus": ["ptc"] * 5 + ["polnear"] * 80 + ["szeged"] * 50,
                          "text": ["x" * 1000] * 135, "article_id": [str(i) for i in range(135)]})
    per = sample_base(frame, 60_000)["corpus"].value_counts()
    assert per["ptc"] == 5  # all it has (its 45 % would be 27 articles)
    assert 58 <= per["polnear"] + per["szeged"] + 5 <= 60 and per["polnear"] > per["szeged"]  # the budget is filled
    assert len(sample_base(frame, 10**6)) == 135  # a budget above the corpora: all of them
