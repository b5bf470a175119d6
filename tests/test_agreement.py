"""Agreement figures on small hand-made datasets (no server)."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

from annotator.agreement import (agreement, agreement_to_json, coincidence_matrix, format_agreement,
                                 krippendorff_alpha)
from annotator.cli import main
from annotator.dataset import Dataset, write_dataset
from annotator.taxonomy import load_taxonomy

TAX = load_taxonomy()
ANON, NAMED, UNVER, LOADED = TAX.label_ids
LOW, ELEVATED, HIGH = TAX.rating_choices

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 observers x 12 units example.
K_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
K_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
K_C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
K_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
K_UNITS = [[v for v in unit if v is not None] for unit in zip(K_A, K_B, K_C, K_D)]


@pytest.mark.parametrize("metric,expected", [("nominal", 0.743), ("interval", 0.849), ("ordinal", 0.815)])
def test_krippendorff_published_example(metric, expected):
    res = krippendorff_alpha(K_UNITS, [1, 2, 3, 4, 5], metric)
    assert res["alpha"] == pytest.approx(expected, abs=5e-4)
    assert res["units"] == 11 and res["values"] == 40  # unit 12 has one value: not pairable


def test_coincidence_matrix_by_hand():
    # unit 1: (a, a, b) -> each ordered pair weighted 1/(m-1) = 1/2; unit 2: (b, c)
    o = coincidence_matrix([["a", "a", "b"], ["b", "c"], ["c"]], ["a", "b", "c"])
    assert o.tolist() == [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    assert o.sum() == 5  # pairable values


def test_ordinal_alpha_by_hand():
    # n_low=2, n_elev=1, n_high=3; D_o = 8/6; D_e = 6 -> alpha = 7/9
    units = [[HIGH, HIGH], [ELEVATED, HIGH], [LOW, LOW], [ELEVATED]]
    res = krippendorff_alpha(units, TAX.rating_choices)
    assert res["observed"] == pytest.approx(8 / 6) and res["expected"] == pytest.approx(6)
    assert res["alpha"] == pytest.approx(7 / 9)


def test_alpha_undefined_without_variation_or_pairs():
    assert math.isnan(krippendorff_alpha([[LOW, LOW], [LOW, LOW]], TAX.rating_choices)["alpha"])
    assert math.isnan(krippendorff_alpha([[LOW], [HIGH]], TAX.rating_choices)["alpha"])
    assert krippendorff_alpha([[LOW, HIGH], [HIGH, LOW]], TAX.rating_choices)["alpha"] < 0


def _dataset():
    text = "x" * 100
    arts = pd.DataFrame({"article_id": ["a1", "a2", "a3"], "text": [text] * 3, "corpus": "t"})
    docs = pd.DataFrame([
        ("a1", "ann", HIGH, False), ("a1", "bob", HIGH, False), ("a1", "cy", LOW, False),
        ("a2", "ann", LOW, False), ("a2", "bob", ELEVATED, False), ("a2", "cy", None, True),
        ("a3", "ann", ELEVATED, False),
    ], columns=["article_id", "annotator", "framing_risk", "cancelled"])
    spans = pd.DataFrame([
        ("a1", "ann", LOADED, 0, 10), ("a1", "bob", LOADED, 0, 10),    # exact match
        ("a1", "ann", ANON, 20, 30), ("a1", "bob", ANON, 25, 35),      # half overlap
        ("a2", "ann", LOADED, 40, 50), ("a2", "bob", LOADED, 40, 45), ("a2", "bob", LOADED, 45, 50),  # split
        ("a3", "ann", NAMED, 0, 5),                                    # a3: only ann judged it
        ("a1", "cy", LOADED, 0, 10),
    ], columns=["article_id", "annotator", "label", "start", "end"])
    spans["text"] = [text[s:e] for s, e in zip(spans["start"], spans["end"])]
    return Dataset(arts, docs, spans)


def test_span_f1_by_hand():
    res = agreement(_dataset())
    sp = res["spans"]
    ab = sp[(sp.annotator_a == "ann") & (sp.annotator_b == "bob")].set_index("label")
    assert (ab["articles"] == 2).all()
    # loaded: ann {a1 0-10, a2 40-50}; bob {a1 0-10, a2 40-45, a2 45-50} -> bob's a2 pieces touch and merge
    assert ab.loc[LOADED, ["spans_a", "spans_b"]].tolist() == [2, 2]
    assert ab.loc[LOADED, "exact_f1"] == 1.0 and ab.loc[LOADED, "partial_f1"] == 1.0
    # anonymous: 5 of 10 characters shared each way -> P = R = 0.5
    assert ab.loc[ANON, "exact_f1"] == 0.0 and ab.loc[ANON, "partial_f1"] == pytest.approx(0.5)
    # named: only on a3, which bob did not judge -> no span on common articles
    assert math.isnan(ab.loc[NAMED, "exact_f1"]) and math.isnan(ab.loc[UNVER, "partial_f1"])
    # pooled: exact 2 of 4 vs 4 -> 0.5 ... partial P = R = (1 + 1 + 0.5) / 3
    assert ab.loc["*", "exact_f1"] == pytest.approx(2 * 2 / (3 + 3))
    assert ab.loc["*", "partial_f1"] == pytest.approx(2.5 / 3)
    # ann-cy: cy cancelled a2, so only a1 is common
    ac = sp[(sp.annotator_a == "ann") & (sp.annotator_b == "cy")].set_index("label")
    assert (ac["articles"] == 1).all()
    assert ac.loc[LOADED, "exact_f1"] == 1.0 and ac.loc[ANON, "partial_f1"] == 0.0
    assert len(sp) == 3 * (len(TAX.label_ids) + 1)


def test_rating_alpha_and_counts():
    res = agreement(_dataset())
    # units: a1 (high, high, low), a2 (low, elevated); a3 and cy's cancelled a2 are left out
    expected = krippendorff_alpha([[HIGH, HIGH, LOW], [LOW, ELEVATED]], TAX.rating_choices)["alpha"]
    assert res["rating"]["alpha"] == pytest.approx(expected)
    assert res["rating"]["units"] == 2 and res["rating"]["scale"] == list(TAX.rating_choices)
    counts = res["annotators"].set_index("annotator")
    assert counts.loc["ann", ["documents", "cancelled", "rated", "spans", LOADED]].tolist() == [3, 0, 3, 4, 2]
    assert counts.loc["cy", ["documents", "cancelled", "rated", "spans"]].tolist() == [2, 1, 1, 1]


def test_json_and_table(tmp_path):
    res = agreement(_dataset())
    js = agreement_to_json(res)
    text = json.dumps(js, allow_nan=False)  # NaN became null
    assert json.loads(text)["framing_risk_alpha"]["scale"] == list(TAX.rating_choices)
    table = format_agreement(res)
    assert "Krippendorff's alpha (ordinal" in table and ANON in table
    write_dataset(_dataset(), tmp_path / "ds")
    r = CliRunner().invoke(main, ["agreement", str(tmp_path / "ds"), "--json", str(tmp_path / "a.json")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "a.json").read_text())["span_f1"][0]["annotator_a"] == "ann"


def test_single_annotator_and_empty():
    ds = _dataset()
    one = Dataset(ds.articles, ds.documents[ds.documents.annotator == "ann"], ds.spans[ds.spans.annotator == "ann"])
    res = agreement(one)
    assert res["spans"].empty and math.isnan(res["rating"]["alpha"])
    assert "fewer than two annotators" in format_agreement(res)
    empty = agreement(Dataset())
    assert empty["annotators"].empty


def test_unknown_rating_is_an_error():
    ds = _dataset()
    ds.documents.loc[0, "framing_risk"] = "catastrophic"
    with pytest.raises(Exception, match="catastrophic"):
        agreement(ds)
