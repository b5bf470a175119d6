"""The framing model: training on real data, the 0-100 scale, safe model files."""
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from annotator.articles import read_articles
from annotator.errors import AnnotatorError
from annotator.model import BAND_EDGES, FramingModel, _centred_isotonic, band_of, load_model, save_skops
from annotator.taxonomy import load_taxonomy
from annotator.training import load_training_data, train, training_frame

LOW, ELEVATED, HIGH = load_taxonomy().rating_choices


@pytest.fixture(scope="module")
def small_model():
    return train(("corpora",), limit=30, span_cv=0)


def test_trains_end_to_end_on_a_real_subset(small_model):
    m = small_model
    d = m.metrics_["document"]
    assert d["n"] == 35 and -1 <= d["spearman"] <= 1 and 0 <= d["mae"] <= 100  # 30 PTC + 5 rated seeds
    assert np.array(d["band_confusion"]).sum() == 35
    assert m.data_summary_["articles_per_corpus"] == {"polnear": 30, "ptc": 30, "seeds": 5, "szeged": 30}
    assert m.model_version.startswith("framing-") and m.label_config_hash == load_taxonomy().config_hash


def test_score_frame_shape_and_evidence(small_model):
    arts = read_articles("seeds")
    out = small_model.score(arts)
    assert list(out["id"]) == list(arts["id"]) and (out.index == arts.index).all()
    assert out["risk"].between(0, 100).all()
    assert set(out["band"]) <= {LOW, ELEVATED, HIGH}
    for lab in load_taxonomy().label_ids:
        assert (out[f"n_{lab}"] == out["spans"].map(lambda ss: sum(s["label"] == lab for s in ss))).all()
    assert all(isinstance(e, list) for e in out["evidence"])
    assert out["error"].isna().all()


def test_folded_character_block_equals_the_explicit_design(small_model):
    """Prediction folds the L1-normalised character block into two vectors over the vocabulary;
    it must give what the ridge gives on the explicit design matrix it was fitted on."""
    m = small_model
    arts = read_articles("seeds")
    bow, cues = m._features(m.tagger_.analyze_batch(arts["text"].tolist()))
    raw, contrib = m._contributions(bow, cues)
    assert np.allclose(raw, m.ridge_.predict(m._design(bow, cues)), rtol=0, atol=1e-9)
    assert contrib.shape[0] == len(arts) and np.isfinite(contrib.data).all()


def test_centred_isotonic_knots():
    """Isotonic blocks become knots at their points' mean: [0], [1, 2] pooled to 15, [3]."""
    x, y = _centred_isotonic([3.0, 0.0, 2.0, 1.0], [30.0, 0.0, 10.0, 20.0])
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
    batch = m.tagger_.analyze_batch(["Officials said the terrorists fled."])
    totals, counts = m._cue_totals(batch, m.tagger_.labels_)
    raw = 1000.0 * totals[0, :len(m.tagger_.labels_)] / counts[0]
    rates = m._cue_rates(totals, counts)[0, :len(m.tagger_.labels_)]
    prior = 1000.0 * m.cue_prior_[:len(m.tagger_.labels_)]
    assert raw.max() >= 150  # the tagger does find a cue in it
    # a weighted mean of the text's own rate and the training rate, weights tokens : prior_tokens
    w = counts[0] / (counts[0] + m.prior_tokens)
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
                data = data.replace(b'"annotator.model"', b'"os"').replace(b'"FramingModel"', b'"system"')
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
    lo, hi = BAND_EDGES
    assert list(band_of([0, lo - 0.01, lo, hi - 0.01, hi, 100])) == [LOW, LOW, ELEVATED, ELEVATED, HIGH, HIGH]


def test_empty_and_single_class_are_refused():
    empty = pd.DataFrame({"text": [], "spans": [], "annotated": []})
    with pytest.raises(AnnotatorError, match="empty"):
        FramingModel().fit(empty, np.array([]))
    frame = training_frame(load_training_data(("ptc",), limit=12))
    with pytest.raises(AnnotatorError, match="two distinct values"):
        FramingModel().fit(frame, np.full(len(frame), 0.5))


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
    model = train([str(path)], span_cv=0)
    assert model.data_summary_["document_targets"] == {"annotator_rating": 24}
    assert model.score(read_articles("seeds"))["risk"].between(0, 100).all()
