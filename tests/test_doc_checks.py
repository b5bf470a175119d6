"""The document checks' figures (the hyperpartisan AUC within length strata, and its text) and their targets."""
import numpy as np
from sklearn.metrics import roc_auc_score

from annotator.articles.scope import check_scope
from annotator.model.checktext import describe_checks
from annotator.training import load_training_data, training_frame
from annotator.training.checks import HYPERPARTISAN_SOURCE, PTC_SOURCE, grouped_figures, length_strata


def test_length_strata_separate_what_length_alone_explains():
    # the label goes with length (long articles positive more often); the score ranks by length only:
    # pooled it separates, within each stratum of about one length it cannot
    rng = np.random.default_rng(0)
    tokens = np.arange(300) * 10 + 50
    labels = (rng.random(300) < np.linspace(0.05, 0.6, 300)).astype(int)
    strata = length_strata(labels, tokens.astype(float), tokens)
    assert [s["n"] for s in strata] == [100, 100, 100]
    assert strata[0]["tokens"] == [50, 1040] and strata[2]["tokens"] == [2050, 3040]
    assert [s["positives"] for s in strata] == [int(labels[:100].sum()), int(labels[100:200].sum()),
                                                 int(labels[200:].sum())]
    noise = rng.random(300)
    # a score that is the label plus noise separates within every stratum
    good = length_strata(labels, labels + 0.5 * noise, tokens)
    assert all(s["auc"] > 0.9 for s in good)
    # length alone: pooled AUC well above 0.5, within strata nearer it on average
    pooled = roc_auc_score(labels, tokens)
    assert pooled > 0.65
    assert np.mean([s["auc"] for s in strata]) < pooled - 0.05


def test_one_class_stratum_has_no_auc():
    strata = length_strata([0, 0, 0, 1, 1, 0], [1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60], n_strata=3)
    assert strata[0]["auc"] is None and strata[0]["positives"] == 0
    assert strata[1]["auc"] == 1.0


def test_grouped_figures_report_and_print_the_length_strata():
    rng = np.random.default_rng(1)
    n = 60
    source = np.array([PTC_SOURCE] * 30 + [HYPERPARTISAN_SOURCE] * 30)
    target = np.r_[rng.random(30) * 100, np.where(np.arange(30) % 3 == 0, 83.3, 16.7)]
    tokens = rng.integers(50, 2000, n)
    risk = target + rng.normal(0, 20, n)
    g = grouped_figures({"risk": risk, "target": target, "source": source, "tokens": tokens})
    assert len(g["hyperpartisan_by_length"]) == 3 and sum(s["n"] for s in g["hyperpartisan_by_length"]) == 30
    assert 0 <= g["hyperpartisan_length_auc"] <= 1
    text = describe_checks({"grouped": g | {"folds": 5}})
    assert "hyperpartisan AUC within length thirds" in text and "length alone" in text


def test_articles_out_of_scope_are_no_document_targets(corpora):
    """The hyperpartisan set's Chinese page is never scored (the scope check), so it is no target either."""
    frame = training_frame(load_training_data(("hyperpartisan",)))
    out = check_scope(frame["text"])["status"] == "out_of_scope"
    assert out.sum() >= 1 and frame.loc[out, "target"].isna().all() and frame.loc[out, "target_source"].isna().all()
    assert frame.loc[~out, "target"].notna().all() and (frame.loc[~out, "target_source"] == HYPERPARTISAN_SOURCE).all()
    assert any(reason.startswith("language: zh") for reason in check_scope(frame.loc[out, "text"])["reason"])
