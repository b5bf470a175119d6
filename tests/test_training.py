"""Training on a team's labels: a pulled dataset on the corpora, the id rule, weights, progress, figures, report."""
import importlib
import json
import threading
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from annotator.articles import read_articles
from annotator.cli import main
from annotator.dataset import Dataset, write_dataset
from annotator.errors import AnnotatorError
from annotator.model import load_model
from annotator.model.features import bag_of_words
from annotator.model.naming import bigram_columns
from annotator.paths import SEEDS_DIR
from annotator.taxonomy import load_taxonomy
from annotator.training import TEAM_WEIGHT, gather, train, training_frame
from annotator.training.progress import STAGES, Stages
from annotator.training.run import _weighted_dataset, _weighted_frame
from annotator.training.targets import MIN_TEAM_RATINGS, plan_ratings

TAX = load_taxonomy()
LOW, ELEVATED, HIGH = TAX.rating_choices
PROJECT = "newsroom project"


def team_dataset(extra_unannotated=True) -> Dataset:
    """A pulled project in the shape ``annotator pull`` writes: the five seeds (so the demo project's
    ids), two annotators who rated them and marked the guidelines' spans, and one task nobody has
    annotated yet."""
    arts = read_articles(SEEDS_DIR)
    rows = [json.loads(line) for line in (SEEDS_DIR / "annotations.jsonl").read_text().splitlines() if line]
    docs, spans = [], []
    for k, who in enumerate(("ann@newsroom.example", "bob@newsroom.example")):
        for i, r in enumerate(rows):
            rating = r["framing_risk"] if k == 0 else TAX.rating_choices[min(2, TAX.rating_choices.index(r["framing_risk"]) + i % 2)]
            docs.append({"article_id": r["article_id"], "annotator": who, "framing_risk": rating, "lead_time": 60.0,
                         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "cancelled": False})
            spans += [{"article_id": r["article_id"], "annotator": who, **s} for s in r["spans"]]
    articles = pd.DataFrame({"article_id": arts["id"], "text": arts["text"], "title": arts["title"], "date": arts["date"],
                             "corpus": PROJECT})
    if extra_unannotated:
        articles.loc[len(articles)] = {"article_id": "task-99", "text": "Nobody has read this one yet.", "title": None,
                                       "date": None, "corpus": PROJECT}
    return Dataset(articles, pd.DataFrame(docs), pd.DataFrame(spans), {"tasks": len(articles)})


# -- without the corpora ------------------------------------------------------------------------------

def test_team_id_wins_over_the_same_id_in_a_corpus():
    """The demo project's tasks are the seeds: training on a pull of it plus `seeds` no longer fails on
    duplicate ids; the team's copy (its project, its annotators) is kept, once."""
    data = gather([team_dataset(), "seeds"])
    arts = data.dataset.articles
    assert len(arts) == 5 and arts["article_id"].is_unique and set(arts["corpus"]) == {PROJECT}
    assert data.team_ids == set(arts["article_id"]) and data.corpora == ("seeds",)
    assert "seed-guidelines" not in set(data.dataset.documents["annotator"])
    assert any("5 of seeds replaced" in n for n in data.notes)
    assert any("1 of 6 articles have no annotation yet" in n for n in data.notes)


def test_corpora_means_the_public_corpora_and_is_the_base_of_a_team_dataset(tmp_path):
    """`corpora` no longer brings the seeds; a dataset folder alone gets the base corpora under it."""
    folder = write_dataset(team_dataset(), tmp_path / "pulled")
    other = Dataset(pd.DataFrame({"article_id": ["x1"], "text": ["Officials said it."], "corpus": "other project"}),
                    pd.DataFrame({"article_id": ["x1"], "annotator": ["ann"], "cancelled": [False]}))
    data = gather([str(folder), other], base_corpora=("seeds",))
    assert data.corpora == ("seeds",) and data.team_names == ["pulled", "other project"]
    assert len(data.dataset) == 6 and len(data.team) == 6 and len(data.corpus_part) == 0
    with pytest.raises(AnnotatorError, match="same article ids in two team datasets"):
        gather([team_dataset(), team_dataset()])
    with pytest.raises(AnnotatorError, match="not a dataset folder nor a corpus name"):
        gather([str(tmp_path / "missing")])


def test_ratings_plan():
    frame = training_frame(gather([team_dataset(), "seeds"]).dataset, frozenset())
    frame["team"] = [True] * 3 + [False] * 2  # three team articles rated, two corpus targets
    plan = plan_ratings(frame)
    assert not plan.use_team and plan.team_rated == 3 and f"fewer than {MIN_TEAM_RATINGS}" in plan.note
    assert "corpora's 2 targets only" in plan.note
    assert plan_ratings(frame, min_team_ratings=3).use_team
    frame["team"] = True  # no other target: the team's ratings are all there is, and 5 are too few
    with pytest.raises(AnnotatorError, match="needs 10\\+ rated articles.*has 5 with"):
        plan_ratings(frame)


def test_team_copies_weigh_the_tagger_only():
    data = gather([team_dataset(), "seeds"])
    frame = training_frame(data.dataset, data.team_ids)
    weighted = _weighted_frame(frame, 3)
    assert len(weighted) == 3 * len(frame)
    assert np.isfinite(weighted["target"]).sum() == np.isfinite(frame["target"]).sum()  # rated once
    ds = _weighted_dataset(data, 3)
    assert len(ds.articles) == 15 and len(ds.spans) == len(data.dataset.spans)  # same ids: grouped folds keep copies together
    assert _weighted_frame(frame, 1) is frame


def test_stage_functions_still_exist():
    """The progress lines name stages by function; a rename must show here, not as silence."""
    for module, qualname, caller, _ in STAGES:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        assert callable(obj), (module, qualname)
        assert caller is None or caller in {q for _, q, _, _ in STAGES}, caller


def _slow_stage():
    time.sleep(0.5)


def test_stages_say_each_stage_with_elapsed_seconds():
    lines = []
    stages = Stages(lines.append, heartbeat=0.3, poll=0.05,
                    stages=((__name__, "_slow_stage", None, "sleeping"),))
    with stages.watch(prefix="test: "):
        _slow_stage()
    stages("done")
    assert lines[0].endswith("] test: sleeping") and lines[0].startswith("[")
    assert any("test: still sleeping" in line for line in lines[1:-1])
    assert lines[-1].endswith("] done")
    assert not [t for t in threading.enumerate() if t.name == "training-progress"]
    quiet = Stages(None)
    with quiet.watch():
        _slow_stage()  # no thread, no output


def test_cli_train_default_weight_is_the_library_default():
    opt = next(p for p in main.commands["train"].params if p.name == "team_weight")
    assert opt.default == TEAM_WEIGHT


# -- on small corpora -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`annotator train DATASET -o m.skops` on a five-article pull, with 15 articles of each corpus."""
    d = tmp_path_factory.mktemp("team")
    folder = write_dataset(team_dataset(), d / "pulled")
    result = CliRunner().invoke(main, ["train", str(folder), "-o", str(d / "m.skops"), "--limit", "15",
                                       "--span-cv", "0"])
    return result, d / "m.skops"


@pytest.mark.corpora()
def test_train_on_a_small_pulled_dataset_shows_the_team_apart(trained):
    result, path = trained
    assert result.exit_code == 0, result.output
    err, out = result.stderr, result.stdout
    # stages inside the fit are named by sampling twice a second (test_stages_say_each_stage_...), so
    # on 50 articles a short one may pass unseen; the stages said around the fit always appear
    for stage in ("loaded corpus ptc: 15 articles", "loaded corpus szeged",
                  "training data: 65 articles (5 the team's, each counted 5x", "] done"):
        assert stage in err, stage
    assert all(line.startswith("[") and " s] " in line for line in err.splitlines() if not line.startswith("annotator:"))
    assert "the team rated 5 articles (fewer than 20): the document score learns from the corpora's 30 targets" in err
    assert "1 of 6 articles have no annotation yet: left out" in err
    team_line = out.splitlines()[0]
    assert team_line.startswith("team (pulled): 5 articles, 2 annotators, ") and "5 rated" in team_line
    assert "document score vs rating (held out: ratings not trained on, n=5): band agreement" in out
    corpora = [line for line in out.splitlines() if line.startswith("corpora")]
    assert corpora == ["corpora (hyperpartisan 15, polnear 15, ptc 15, szeged 15 articles)"]
    model = load_model(path)
    assert model.data_summary_["team"]["articles"] == 5 and model.data_summary_["team"]["annotators"] == 2
    assert model.data_summary_["corpora"]["articles_per_corpus"] == {"hyperpartisan": 15, "polnear": 15, "ptc": 15,
                                                                     "szeged": 15}
    team = model.metrics_["team"]
    assert team["weight"] == TEAM_WEIGHT and team["ratings"] == "check" and team["document"]["n"] == 5
    assert model.metrics_["corpora"]["document"]["n"] == 30 == model.metrics_["document"]["n"]


@pytest.mark.corpora()
def test_report_names_document_features_and_shows_the_team(trained, tmp_path):
    from annotator.report import training_report

    _, path = trained
    s = training_report(path, tmp_path / "t.html")
    html = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "hashed bucket" not in html and "hashed bucket" not in json.dumps(s)
    kinds = {t["kind"]: t for t in s["document_features"]["kinds"]}
    assert set(kinds) == {"word"}  # no bigram columns by default
    for t in kinds.values():
        assert t["up"] and t["down"]
    assert [c["feature"] for c in s["document_features"]["cues"]][0].endswith("spans per 1,000 words")
    assert s["team"]["document"]["how"] == "held_out" and len(s["team"]["document"]["rows"]) == 5
    assert 'id="team"' in html and "(team)" in html and "the team rated 5 articles" in html


@pytest.mark.corpora()
def test_bigram_columns_hash_as_the_model_does(trained):
    _, path = trained
    model = load_model(path)
    batch = model.tagger_.analyze_batch(read_articles(SEEDS_DIR)["text"].tolist())
    n_vocab = model.tagger_.tables_.shape[2]
    assert bag_of_words(batch, n_vocab, model.bigram_bits).shape[1] == n_vocab  # the default: no bigrams
    bow = bag_of_words(batch, n_vocab, 18)[:, n_vocab:]
    cols, _, _ = bigram_columns(batch.ids, batch.offsets, 18)
    assert set(np.unique(bow.indices)) == set(cols.tolist())


@pytest.mark.corpora()
def test_enough_team_ratings_become_targets_scored_out_of_fold():
    model = train([team_dataset()], limit=15, span_cv=0, min_team_ratings=5)
    team = model.metrics_["team"]
    assert team["ratings"] == "target" and team["document"]["how"] == "out_of_fold"
    assert model.data_summary_["document_targets"] == {"ptc_density_percentile": 15, "hyperpartisan_label": 15,
                                                       "annotator_rating": 5}
    assert model.metrics_["document"]["n"] == 35 and model.metrics_["corpora"]["document"]["n"] == 30
    oof = dict(zip(model.oof_["article_id"], model.oof_["risk"]))
    assert [r["risk"] for r in team["document"]["rows"]] == [oof[r["article_id"]] for r in team["document"]["rows"]]


@pytest.mark.corpora()
def test_evaluate_prints_the_document_checks(trained):
    """`annotator evaluate --no-spans`: every document figure of issue 15, each beside its target."""
    _, path = trained
    result = CliRunner().invoke(main, ["evaluate", "--no-spans", "--model", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for needle in ("PTC: Spearman with propaganda density", "hyperpartisan: ROC AUC", "with sites held out",
                   "Spearman(score, article length)", "PolNeAR mainstream articles", "(n=480)",
                   "Szeged Wikipedia documents", "(n=3624; target high <= 2 %)",
                   "subjectivity sentences (CheckThat! 2025, measured only; n=1287, 538 subjective)"):
        assert needle in out, needle
    auc = float(out.split("ROC AUC of the score ")[1].split(",")[0])
    assert 0 <= auc <= 1
