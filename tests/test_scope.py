"""The scope check (annotator.articles.scope) and the status of every scored row: real model, real files."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from annotator.articles.scope import MIN_WORDS, check_scope, scope_reason
from annotator.cli import main
from annotator.corpora import load_polnear, load_ptc, load_szeged
from annotator.scoring import read_scores, score, score_files
from annotator.scoring.records import STATUSES
from annotator.taxonomy import load_taxonomy

HERE = Path(__file__).resolve().parent
LANGUAGES = [json.loads(ln) for ln in (HERE / "data" / "scope" / "languages.jsonl").open(encoding="utf-8")]
NOT_PROSE = [json.loads(ln) for ln in (HERE / "data" / "scope" / "not_prose.jsonl").open(encoding="utf-8")]

CHINESE = ("据新华社报道，强台风周二晚间在广东沿海登陆，当地政府已紧急转移超过十万名群众。"
           "气象部门表示，未来两天仍将有强降雨。")
GERMAN = ("Der Streik der Lokführer legt seit Montagmorgen große Teile des Bahnverkehrs lahm. Die Gewerkschaft "
          "fordert höhere Löhne und kürzere Arbeitszeiten, die Bahn spricht von einer unverhältnismäßigen Eskalation.")
WEATHER = "The weather was sunny in London today, the Met Office said."


# --- the check ---------------------------------------------------------------------------------------


def test_chinese_and_german_are_out_of_scope_with_the_language_as_reason():
    out = check_scope(pd.Series([CHINESE, GERMAN, WEATHER], index=[10, 11, 12]))
    assert list(out.index) == [10, 11, 12]
    assert out["status"].tolist() == ["out_of_scope", "out_of_scope", "in_scope"]
    assert out["reason"].tolist() == ["language: zh", "language: de", None]


def test_short_english_news_lines_are_in_scope():
    lines = [WEATHER, "Officials said the terrorists fled.", "Obama Commutes Sentence Of Chelsea Manning",
             "Follow Ian Hanchett on Twitter @IanHanchett."]
    assert check_scope(lines)["reason"].tolist() == [None] * len(lines)


def test_too_short_says_how_many_words():
    assert scope_reason("Fire kills two.") == "too short: 3 words"
    assert scope_reason("Breaking") == "too short: 1 word"
    assert scope_reason(" ".join(["word"] * MIN_WORDS)) != f"too short: {MIN_WORDS} words"


@pytest.mark.parametrize("row", LANGUAGES, ids=[f"{r['lang']}-{i}" for i, r in enumerate(LANGUAGES)])
def test_every_hand_made_non_english_paragraph_is_out_of_scope_on_language(row):
    reason = scope_reason(row["text"])
    assert reason is not None and reason.startswith("language: ")
    assert reason != "language: en"


@pytest.mark.parametrize("row", NOT_PROSE, ids=[f"{r['kind']}-{i}" for i, r in enumerate(NOT_PROSE)])
def test_links_code_tables_lyrics_and_listicles_are_not_prose(row):
    reason = scope_reason(row["text"])
    assert reason is not None and reason.startswith("not prose: "), reason


def test_not_a_string_is_out_of_scope():
    assert check_scope([None])["reason"].tolist() == ["no text"]


@pytest.mark.corpora("ptc", "polnear", "szeged")
def test_english_news_and_wikipedia_are_in_scope():
    """The false out-of-scope rate on English prose: none of PTC and PolNeAR, at most 0.1 % of Szeged."""
    for loader, most in ((load_ptc, 0), (load_polnear, 0), (load_szeged, 0.001)):
        texts = loader().articles["text"]
        out = check_scope(texts)
        bad = out[out["status"] == "out_of_scope"]
        assert len(bad) <= most * len(texts), (loader.__name__, bad["reason"].tolist()[:5])


# --- every scored row has a status ------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A JSONL input with an English article, a one-liner, Chinese, German, a link list, a bad row."""
    path = tmp_path_factory.mktemp("scope") / "mixed.jsonl"
    english = ("The city council voted on Tuesday to expand the bus network, officials said. The plan adds "
               "twelve routes and will be paid for by a regional transport levy, according to the mayor's office.")
    rows = [{"id": "en", "text": english}, {"id": "one-liner", "text": WEATHER}, {"id": "zh", "text": CHINESE},
            {"id": "de", "text": GERMAN}, {"id": "links", "text": NOT_PROSE[0]["text"]}]
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.write("{broken\n")
    return path


EXPECTED = {"en": "scored", "one-liner": "scored", "zh": "out_of_scope", "de": "out_of_scope",
            "links": "out_of_scope"}


def _check_rows(out: pd.DataFrame) -> None:
    assert set(out["status"]) == set(STATUSES)  # the three in one run
    assert out["id"].tolist()[:5] == list(EXPECTED)  # input order, ids kept
    assert out["status"].tolist() == [*EXPECTED.values(), "error"]
    oos = out[out["status"] == "out_of_scope"]
    assert oos["risk"].isna().all() and oos["band"].isna().all() and oos["spans"].isna().all()
    assert oos["reason"].tolist() == ["language: zh", "language: de", oos["reason"].iloc[2]]
    assert oos["reason"].iloc[2].startswith("not prose: ")
    scored = out[out["status"] == "scored"]
    assert scored["risk"].between(0, 100).all() and scored["reason"].isna().all()
    assert set(scored["confidence"]) <= {"low", "medium", "high"}  # the model's confidence, in every format
    assert ((scored["risk_low"] <= scored["risk"]) & (scored["risk"] <= scored["risk_high"])).all()
    assert oos["confidence"].isna().all() and oos["risk_low"].isna().all()
    err = out[out["status"] == "error"]
    assert err["error"].str.contains("invalid JSON").all() and err["risk"].isna().all()
    assert out.loc[out["status"] != "error", "error"].isna().all()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_every_output_row_has_a_status_in_every_format(tmp_path, mixed, fmt):
    out = tmp_path / f"scores.{fmt}"
    summary = score_files([mixed], out, jobs=1)
    assert (summary.rows, summary.scored, summary.out_of_scope, summary.failed) == (6, 2, 3, 1)
    assert "6 rows: 2 scored, 3 out of scope, 1 failed" in summary.line()
    frame = read_scores(out)
    _check_rows(frame)
    if fmt == "jsonl":  # null, never a number, in the file itself
        raw = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
        assert all("status" in r for r in raw)
        assert [r["risk"] for r in raw if r["status"] == "out_of_scope"] == [None, None, None]
    if fmt == "csv":
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("id,source,status,reason,risk,band,confidence,risk_low,risk_high,spans")
        zh = next(ln for ln in lines if ln.startswith("zh,"))
        assert ",out_of_scope,language: zh,,,," in zh


def test_score_in_memory_and_no_scope_check(mixed):
    from annotator.articles import read_articles

    arts = read_articles([mixed])
    checked = score(arts)
    _check_rows(checked)
    unchecked = score(arts, scope_check=False)
    assert unchecked["status"].tolist() == ["scored"] * 5 + ["error"]
    assert unchecked["risk"].iloc[:5].notna().all()


def test_cli_counts_the_three_and_exits_1_only_for_errors(tmp_path, mixed):
    out = tmp_path / "s.jsonl"
    res = CliRunner().invoke(main, ["score", str(mixed), "-o", str(out), "-j", "1"])
    assert res.exit_code == 1  # the broken row
    assert "6 rows: 2 scored, 3 out of scope, 1 failed" in res.stderr
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(ln + "\n" for ln in mixed.read_text(encoding="utf-8").splitlines()[:5]),
                     encoding="utf-8")
    res = CliRunner().invoke(main, ["score", str(clean), "-o", str(tmp_path / "c.csv"), "-j", "1"])
    assert res.exit_code == 0, res.output  # out of scope is not a failure
    assert Counter(read_scores(tmp_path / "c.csv")["status"]) == {"scored": 2, "out_of_scope": 3}


# --- tagging reports the status too -------------------------------------------------------------------


def test_tag_reports_status_and_tags_no_out_of_scope_text(tmp_path, mixed):
    out = tmp_path / "spans.jsonl"
    res = CliRunner().invoke(main, ["tag", str(mixed), "--rules-only", "-o", str(out)])
    assert res.exit_code == 1  # the broken row
    assert "tagged 2 articles, 3 out of scope, 1 with errors" in res.stderr
    rows = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == ["tagged", "tagged", "out_of_scope", "out_of_scope", "out_of_scope",
                                           "error"]
    assert rows[3]["reason"] == "language: de" and rows[3]["spans"] == []
    assert rows[0]["reason"] is None and rows[0]["spans"]  # "officials said", "according to"


# --- the Dask engine and the report -------------------------------------------------------------------


@pytest.mark.dask
def test_dask_engine_rows_have_the_same_status(tmp_path, mixed):
    pytest.importorskip("dask.distributed")
    local = tmp_path / "local.parquet"
    score_files([mixed], local, jobs=1)
    out = tmp_path / "dask"
    summary = score_files([mixed], out, engine="dask", jobs=1, format="parquet")
    assert (summary.rows, summary.scored, summary.out_of_scope, summary.failed) == (6, 2, 3, 1)
    assert json.loads((out / "_summary.json").read_text())["out_of_scope"] == 3
    frame = read_scores(out)
    _check_rows(frame)
    pd.testing.assert_frame_equal(frame, read_scores(local))


def test_report_counts_out_of_scope_rows_and_lists_them_apart(tmp_path, mixed):
    from annotator.report import scoring_report

    scores = tmp_path / "s.jsonl"
    score_files([mixed], scores, jobs=1)
    summary = scoring_report(scores, tmp_path / "r.html", articles=[mixed])
    assert (summary["rows"], summary["scored"], summary["out_of_scope"], summary["failed"]) == (6, 2, 3, 1)
    assert [r["id"] for r in summary["out_of_scope_rows"]] == ["zh", "de", "links"]
    assert summary["out_of_scope_rows"][0]["reason"] == "language: zh"
    assert summary["out_of_scope_reasons"] == {"language: zh": 1, "language: de": 1, "not prose": 1}
    assert [r["id"] for r in summary["failed_rows"]] == [summary["failed_rows"][0]["id"]]
    assert {t["id"] for t in summary["top"]} == {"en", "one-liner"}  # only scored rows are ranked
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Out of scope (3)" in html and "language: zh" in html and "2 scored, 3 out of scope, 1 failed" in html


def test_output_written_before_the_scope_check_is_still_read(tmp_path):
    old = tmp_path / "old.jsonl"
    tax = load_taxonomy()
    rec = {"id": "a", "source": "a.txt", "risk": 40.0, "band": tax.rating_choices[1], "spans": [],
           **{f"n_{lab}": 0 for lab in tax.label_ids}, "error": None}
    old.write_text(json.dumps(rec) + "\n" + json.dumps({**rec, "id": "b", "risk": None, "band": None,
                                                         "spans": None, "error": "b.txt: empty file"}) + "\n")
    frame = read_scores(old)
    assert frame["status"].tolist() == ["scored", "error"] and frame["reason"].isna().all()


def test_tag_with_the_shipped_tagger_marks_in_scope_rows_tagged(tmp_path):
    """Regression: in-scope rows were written as out_of_scope with a NaN reason (None stored as NaN)."""
    src = tmp_path / "in.jsonl"
    rows = [{"id": "en", "text": "A Black man shot in the back by police was taken to hospital, officials said."},
            {"id": "zh", "text": "据新华社报道，强台风周二晚间在广东沿海登陆，当地政府已紧急转移超过十万名群众。"}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "spans.jsonl"
    res = CliRunner().invoke(main, ["tag", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["status"], r["reason"]) for r in got] == [("tagged", None), ("out_of_scope", "language: zh")]
    assert got[0]["spans"] and got[1]["spans"] == []
