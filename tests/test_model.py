"""The framing model: training on real data, the 0-100 scale, safe model files."""
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from annotator.articles import read_articles
from annotator.errors import AnnotatorError
from annotator.model import (MODEL_TRUSTED, CentredIsotonicCalibration, FramingModel, band_edges, band_of,
                             centred_isotonic, describe_bands, load_model, load_tagger, save_skops)
from annotator.cues import CueTagger
from annotator.model.features import bag_of_words, dense_parts, dense_rates
from annotator.paths import DEFAULT_MODEL
from annotator.taxonomy import load_taxonomy, parse_taxonomy
from annotator.training import describe_metrics, load_training_data, train, training_frame

LOW, ELEVATED, HIGH = load_taxonomy().rating_choices


@pytest.fixture(scope="module")
def small_model(corpora):
    return train(("corpora",), limit=30, span_cv=0)


def test_trains_end_to_end_on_a_real_subset(small_model):
    m = small_model
    d = m.metrics_["document"]
    # 30 PTC and 30 hyperpartisan targets (`corpora`: not the seeds)
    assert d["n"] == 60 and -1 <= d["spearman"] <= 1 and 0 <= d["mae"] <= 100
    assert np.array(d["band_confusion"]).sum() == 60
    assert m.data_summary_["articles_per_corpus"] == {"hyperpartisan": 30, "polnear": 30, "ptc": 30, "szeged": 30}
    assert m.data_summary_["document_targets"] == {"ptc_density_percentile": 30, "hyperpartisan_label": 30}
    assert m.model_version.startswith("framing-") and m.label_config_hash == load_taxonomy().structure_hash
    grouped = m.metrics_["checks"]["grouped"]
    assert grouped["ptc_n"] == 30 and grouped["hyperpartisan_n"] == 30 and 0 <= grouped["hyperpartisan_auc"] <= 1
    # the first 30 PolNeAR articles by name are all Breitbart's: no mainstream ones in this subset
    assert set(m.metrics_["checks"]["genres"]) == {"wikipedia"} and m.metrics_["checks"]["genres"]["wikipedia"]["n"] == 30


def test_score_frame_shape_and_evidence(small_model):
    arts = read_articles("seeds")
    out = small_model.score(arts)
    assert list(out["id"]) == list(arts["id"]) and (out.index == arts.index).all()
    assert out["risk"].between(0, 100).all()
    assert set(out["band"]) <= {LOW, ELEVATED, HIGH}
    assert (out["risk_low"] <= out["risk"]).all() and (out["risk"] <= out["risk_high"]).all()
    assert set(out["confidence"]) <= {"low", "medium", "high"}
    for lab in load_taxonomy().label_ids:
        assert (out[f"n_{lab}"] == out["spans"].map(lambda ss: sum(s["label"] == lab for s in ss))).all()
    assert all(isinstance(e, list) for e in out["evidence"])
    assert out["error"].isna().all()


def test_composed_weights_equal_the_stacked_parts(small_model):
    """The score is one linear model over [TF-IDF | scaled dense features]: its contributions sum to the
    raw output, and that output is what the stored ridge gives on the explicit design matrix."""
    m = small_model
    texts = read_articles("seeds")["text"].tolist()
    bow, dense, shrink = m._features(m.tagger_.analyze_batch(texts), texts)
    raw, contrib = m._contributions(bow, dense, shrink)
    assert ((shrink > 0) & (shrink < 1)).all()
    words = sp.diags(shrink) @ m.tfidf_.transform(bow)
    design = sp.hstack([words, sp.csr_matrix(m.scaler_.transform(dense))], format="csr")
    assert np.allclose(raw, m.ridge_.predict(design), rtol=0, atol=1e-9)
    assert contrib.shape == design.shape and np.isfinite(contrib.data).all()
    assert len(m.feature_names_) == dense.shape[1] and m.feature_names_[-1] == "log_tokens"


def test_the_interval_narrows_with_length(small_model):
    m = small_model
    weather = "The weather was sunny in London today, the Met Office said."
    long_text = read_articles("seeds")["text"].iloc[0]
    out = m.score([weather, long_text])
    widths = (out["risk_high"] - out["risk_low"]).to_numpy()
    assert widths[0] > widths[1]
    assert (np.diff(m.interval_width_) <= 0).all() and len(m.interval_tokens_) >= 3


def test_centred_isotonic_knots():
    """Isotonic blocks become knots at their points' mean: [0], [1, 2] pooled to 15, [3]."""
    x, y = centred_isotonic([3.0, 0.0, 2.0, 1.0], [30.0, 0.0, 10.0, 20.0])
    assert x.tolist() == [0.0, 1.5, 3.0] and y.tolist() == [0.0, 15.0, 30.0]


def test_calibration_is_strictly_increasing_within_0_100(small_model):
    """Different ridge outputs never share a score (a step calibration gave three seeds 50.4)."""
    m = small_model
    x = m.calib_x_
    assert len(x) >= 2 and (np.diff(x) > 0).all() and (np.diff(m.calib_y_) > 0).all()
    grid = np.linspace(x[0] - 0.2, x[-1] + 0.2, 400)
    risk = m._calibrate(grid)
    inside = (risk > 0) & (risk < 100)
    assert inside.sum() > 300 and (np.diff(risk[inside]) > 0).all() and risk.min() >= 0 and risk.max() <= 100
    assert np.allclose(m._calibrate(x), m.calib_y_)
    # beyond the outer knots: the average slope, not a possibly very steep end segment
    slope = (m.calib_y_[-1] - m.calib_y_[0]) / (x[-1] - x[0])
    assert np.isclose(m._calibrate([x[-1] + 0.01])[0], min(100.0, m.calib_y_[-1] + 0.01 * slope))
    assert np.isclose(m._calibrate([x[0] - 0.01])[0], max(0.0, m.calib_y_[0] - 0.01 * slope))


def test_cue_rates_of_a_one_line_text_are_shrunk_towards_the_training_rates(small_model):
    """One cue in a five-word text is weak evidence: its rate is not 200 per 1,000 words."""
    m = small_model
    text = "Officials said the terrorists fled."
    batch = m.tagger_.analyze_batch([text])
    bow = bag_of_words(batch, m.tagger_.tables_.shape[2], m.bigram_bits)
    parts = dense_parts(batch, [text], bow, m.tagger_.labels_, m._classes())
    L = len(m.tagger_.labels_)
    raw = 1000.0 * parts.totals[0, :L] / parts.counts[0]
    rates = dense_rates(parts, m.cue_prior_, m.prior_tokens, m.tagger_.labels_)[0, :L]
    prior = 1000.0 * m.cue_prior_[:L]
    assert raw.max() >= 150  # the tagger does find a cue in it
    # a weighted mean of the text's own rate and the training rate, weights tokens : prior_tokens
    w = parts.counts[0] / (parts.counts[0] + m.prior_tokens)
    assert np.allclose(rates, w * raw + (1 - w) * prior)
    assert (rates[raw > 0] < raw[raw > 0] / 4).all()


def test_error_rows_pass_through(small_model):
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["Sources said the terrorists fled.", None],
                          "error": [None, "b.txt: empty file"]})
    out = small_model.score(frame)
    assert out["error"].tolist() == [None, "b.txt: empty file"]
    assert np.isnan(out["risk"].iloc[1]) and out["band"].iloc[1] is None and out["spans"].iloc[1] == []


def test_clone_fit_score_round_trip(small_model):
    twin = clone(small_model)
    assert twin.get_params() == small_model.get_params() and not hasattr(twin, "ridge_")
    frame = training_frame(load_training_data(("ptc", "szeged"), limit=25))
    twin.fit(frame, frame["target"].to_numpy())
    texts = frame["text"].tolist()[:5]
    again = clone(twin).fit(frame, frame["target"].to_numpy())
    assert np.allclose(twin.predict(texts), again.predict(texts))  # fixed seeds: deterministic


def test_save_load_identical_scores(small_model, tmp_path):
    path = save_skops(small_model, tmp_path / "m.skops")
    loaded = load_model(path)
    arts = read_articles("seeds")
    a, b = small_model.score(arts), loaded.score(arts)
    assert a["risk"].tolist() == b["risk"].tolist()
    assert a["spans"].tolist() == b["spans"].tolist()


def test_refuses_pickle_tampered_and_other_config(small_model, tmp_path):
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(small_model))
    with pytest.raises(AnnotatorError, match="pickle"):
        load_model(pkl)
    # tampered: a skops file whose schema names a type we do not trust
    path = save_skops(small_model, tmp_path / "m.skops")
    tampered = tmp_path / "t.skops"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "schema.json":
                data = data.replace(b'"annotator.model.framing"', b'"os"').replace(b'"annotator.model"', b'"os"')
                data = data.replace(b'"FramingModel"', b'"system"')
            zout.writestr(item, data)
    with pytest.raises(AnnotatorError, match="untrusted|cannot load|unreadable"):
        load_model(tampered)
    # a model built for another label config
    other = clone(small_model)
    other.__dict__.update(small_model.__dict__)
    other.label_config_hash = "0" * 64
    save_skops(other, tmp_path / "other.skops")
    with pytest.raises(AnnotatorError, match="another label config"):
        load_model(tmp_path / "other.skops")


def test_bands_at_boundaries():
    lo, hi = band_edges()
    assert list(band_of([0, lo - 0.01, lo, hi - 0.01, hi, 100])) == [LOW, LOW, ELEVATED, ELEVATED, HIGH, HIGH]


@pytest.mark.corpora("ptc")
def test_empty_and_single_class_are_refused():
    empty = pd.DataFrame({"text": [], "spans": [], "annotated": []})
    with pytest.raises(AnnotatorError, match="empty"):
        FramingModel().fit(empty, np.array([]))
    frame = training_frame(load_training_data(("ptc",), limit=12))
    with pytest.raises(AnnotatorError, match="two distinct values"):
        FramingModel().fit(frame, np.full(len(frame), 0.5))


@pytest.mark.corpora("ptc")
def test_ratings_from_a_pulled_dataset_set_the_target(tmp_path):
    """A Label Studio pull (same table shape) with framing-risk ratings trains the document score."""
    from annotator.corpora import load_ptc
    from annotator.dataset import Dataset, write_dataset

    ptc = load_ptc(limit=24)
    arts = ptc.articles.copy()
    arts["corpus"] = "newsroom project"
    arts["article_id"] = "ls/" + arts["article_id"]
    choices = [LOW, ELEVATED, HIGH]
    docs = pd.DataFrame({
        "article_id": list(arts["article_id"]) * 2,
        "annotator": ["a@x"] * len(arts) + ["b@x"] * len(arts),
        "framing_risk": [choices[i % 3] for i in range(len(arts))] * 2,
        "cancelled": [False] * (2 * len(arts)),
    })
    spans = ptc.spans.assign(article_id="ls/" + ptc.spans["article_id"], annotator="a@x")
    path = write_dataset(Dataset(arts, docs, spans), tmp_path / "pulled")
    frame = training_frame(load_training_data([str(path)]))
    assert set(frame["target_source"]) == {"annotator_rating"}
    expected = {LOW: 1 / 6, ELEVATED: 1 / 2, HIGH: 5 / 6}
    for i, t in enumerate(frame["target"]):
        assert t == pytest.approx(expected[choices[i % 3]])
    model = train([str(path)], span_cv=0, base_corpora=())  # the team's data alone: its ratings are the targets
    assert model.data_summary_["document_targets"] == {"annotator_rating": 24}
    assert model.metrics_["team"]["ratings"] == "target" and model.metrics_["team"]["document"]["n"] == 24
    text = describe_metrics(model.metrics_)
    assert "corpora" not in text and "(team targets, out-of-fold, n=24)" in text
    assert model.score(read_articles("seeds"))["risk"].between(0, 100).all()


# -- the calibration estimator, the bands, model files --------------------------------------------

def _calibrate_as_before(x, y, raw):
    """The calibration as FramingModel._calibrate computed it before it became an estimator."""
    raw = np.asarray(raw, dtype=float)
    if len(x) < 2:
        return np.full(raw.shape, float(y[0]) if len(y) else 50.0)
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    out = np.interp(raw, x, y)
    lo, hi = raw < x[0], raw > x[-1]
    out[lo] = y[0] + (raw[lo] - x[0]) * slope
    out[hi] = y[-1] + (raw[hi] - x[-1]) * slope
    return np.clip(out, 0.0, 100.0)


@pytest.fixture(scope="module")
def shipped_model():
    return load_model()


def test_calibration_estimator_clones_and_is_strictly_increasing():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=300)
    target = np.clip(50 + 20 * raw + rng.normal(scale=15, size=300), 0, 100)
    est = CentredIsotonicCalibration()
    twin = clone(est)
    assert twin.get_params() == est.get_params() == {"y_min": 0.0, "y_max": 100.0}
    est.fit(raw, target)
    assert not hasattr(clone(est), "knots_x_")
    assert (np.diff(est.knots_x_) > 0).all() and (np.diff(est.knots_y_) > 0).all()
    grid = np.linspace(raw.min() - 1, raw.max() + 1, 2000)
    out = est.predict(grid)
    inside = (out > 0) & (out < 100)
    assert inside.sum() > 1000 and (np.diff(out[inside]) > 0).all() and out.min() >= 0 and out.max() <= 100
    assert np.array_equal(est.transform(grid), out)
    knots = centred_isotonic(raw, target)
    assert np.array_equal(knots[0], est.knots_x_) and np.array_equal(knots[1], est.knots_y_)
    # degenerate knots: one knot gives its value, none the middle of the scale
    assert CentredIsotonicCalibration.from_knots([0.3], [42.0]).predict([0.0, 1.0]).tolist() == [42.0, 42.0]
    assert CentredIsotonicCalibration.from_knots([], []).predict([0.0]).tolist() == [50.0]


def test_shipped_file_class_path_version_and_knots(shipped_model):
    """The shipped file names the packaged class, its stored version is what its contents hash to,
    and its knots map exactly as the old inline calibration did; files from before the package
    (annotator.model.FramingModel) are still trusted."""
    import skops.io as sio

    m = shipped_model
    assert "annotator.model.framing.FramingModel" in sio.get_untrusted_types(file=DEFAULT_MODEL)
    assert {"annotator.model.FramingModel", "annotator.model.framing.FramingModel"} <= set(MODEL_TRUSTED)
    assert m.model_version == m._version()
    x, y = m.calib_x_, m.calib_y_
    grid = np.concatenate([np.linspace(x[0] - 1, x[-1] + 1, 5001), x, [x[0] - 1e-9, x[-1] + 1e-9]])
    assert np.array_equal(m._calibrate(grid), _calibrate_as_before(x, y, grid))
    assert np.array_equal(m.calibration().predict(grid), _calibrate_as_before(x, y, grid))
    assert isinstance(load_tagger(), CueTagger) and load_tagger().model_version == m.tagger_.model_version


def test_new_files_name_the_new_class_path(small_model, tmp_path):
    path = save_skops(small_model, tmp_path / "m.skops")
    with zipfile.ZipFile(path) as z:
        assert b'"annotator.model.framing"' in z.read("schema.json")
    assert isinstance(load_tagger(path), CueTagger)


def test_shipped_model_says_the_weather_sentence_is_not_high_and_uncertain(shipped_model):
    """The issue's examples (issue 15): a one-line wire sentence is neither high nor confident."""
    weather = "The weather was sunny in London today, the Met Office said."
    out = shipped_model.score([weather, "Officials said the terrorists fled."])
    assert out["band"].iloc[0] != HIGH and out["confidence"].iloc[0] == "low"
    assert (out["risk_high"] - out["risk_low"]).iloc[0] >= 40


def test_model_version_covers_weights_calibration_and_tagger(small_model):
    m = clone(small_model)
    m.__dict__.update(small_model.__dict__)
    assert m._version() == small_model.model_version
    m.tagger_ = clone(small_model.tagger_)
    m.tagger_.__dict__.update(small_model.tagger_.__dict__)
    m.tagger_.rules_ = {**small_model.tagger_.rules_, "another_rule": {"pattern": "x"}}
    assert m._version() != small_model.model_version
    m.tagger_ = small_model.tagger_
    m.calib_y_ = small_model.calib_y_ + 1e-6
    assert m._version() != small_model.model_version
    # differences far below the rounding (a BLAS kernel's last bits) keep the version
    m.calib_y_ = small_model.calib_y_ * (1 + 1e-13)
    m.ridge_ = clone(small_model.ridge_)
    m.ridge_.__dict__.update(small_model.ridge_.__dict__)
    m.ridge_.coef_ = small_model.ridge_.coef_ * (1 + 1e-13)
    assert m._version() == small_model.model_version


def test_band_edges_come_from_the_taxonomy_rating_choices():
    tax = load_taxonomy()
    assert band_edges() == (33.0, 67.0) and band_edges(tax.rating_choices) == (33.0, 67.0)
    assert describe_bands() == f"{LOW} < 33 <= {ELEVATED} < 67 <= {HIGH}"
    # a config with a fourth rating: four bands, edges at 25, 50 and 75
    last = f'<Choice value="{HIGH}"'
    i = tax.xml.index(last)
    j = tax.xml.index(">", i) + 1
    xml = tax.xml[:j] + '<Choice value="extreme"/>' + tax.xml[j:]
    four = parse_taxonomy(xml).rating_choices
    assert four == (LOW, ELEVATED, HIGH, "extreme")
    assert band_edges(four) == (25.0, 50.0, 75.0)
    assert list(band_of([0, 24.99, 25, 49.99, 50, 74.99, 75, 100], four)) == \
        [LOW, LOW, ELEVATED, ELEVATED, HIGH, HIGH, "extreme", "extreme"]
    assert describe_bands(four) == f"{LOW} < 25 <= {ELEVATED} < 50 <= {HIGH} < 75 <= extreme"
