"""Label Studio round trip against a real server (the session fixture in conftest.py).

Module-scoped fixtures build the shared project step by step: push the seeds
plus a non-ASCII/emoji article (``first_push``, with a snapshot of the tasks right
after it), annotate as two users through the API (what the UI sends: code-point
offsets, verified in Chromium), pull. The tests check push again, a newer model
version, the pulled tables, offsets and agreement, then the error cases and the
local-server commands. Each test asks for every fixture it relies on and changes
the project only in ways the others do not read (a new model version's
predictions; a deleted annotation, after ``pulled`` was taken), so each passes
alone and in any order.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import socket
import stat
import shutil
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

from annotator import studio as S
from annotator.agreement import agreement
from annotator.articles import read_articles
from annotator.cli import main
from annotator.dataset import read_dataset
from annotator.errors import AnnotatorError
from annotator.taxonomy import load_taxonomy

pytestmark = pytest.mark.studio

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "issue-3 round trip"
TAX = load_taxonomy()
ANON, NAMED, UNVER, LOADED = TAX.label_ids  # config order; the names live in framing.xml only
LOW, ELEVATED, HIGH = TAX.rating_choices
EMOJI_TEXT = ("Rebels 😀 said the “terrorists” fled 👍🏽. Officials said naïve émigrés heard rumours 🎉 spread.\n"
              "A source told Reuters.")
PLAIN_TEXT = "An article nobody annotates: the Taliban said nothing 𝐚𝐭 𝐚𝐥𝐥."


class WordTagger:
    """A deterministic tagger with the annotator.cues contract: every occurrence of some words."""

    def __init__(self, model_version, words):
        self.model_version = model_version
        self.words = words

    def tag(self, texts):
        out = []
        for text in texts:
            spans = []
            for word, label in self.words.items():
                for m in re.finditer(re.escape(word), text):
                    spans.append({"label": label, "start": m.start(), "end": m.end(), "text": m.group(),
                                  "score": 0.5 + 0.1 * len(spans)})
            out.append(spans)
        return out


V1 = WordTagger("test-v1", {"Taliban": LOADED, "terrorists": LOADED, "Officials said": ANON, "rumours 🎉": UNVER,
                            "Reuters": NAMED})
V2 = WordTagger("test-v2", {"Massoud": NAMED, "naïve": LOADED})


@pytest.fixture(scope="module")
def articles():
    seeds = read_articles(str(ROOT / "seeds"))
    extra = pd.DataFrame([
        {"id": "emoji-1", "text": EMOJI_TEXT, "title": "Émigrés 🎉", "date": "2026-11-01", "outlet": "Test",
         "url": "https://example.org/e", "source": "test", "error": None},
        {"id": "plain-1", "text": PLAIN_TEXT, "title": None, "date": None, "outlet": None, "url": None,
         "source": "test", "error": None},
        {"id": "bad-1", "text": None, "title": None, "date": None, "outlet": None, "url": None,
         "source": "bad.csv:3", "error": "bad.csv:3: text is missing"},
    ])
    return pd.concat([seeds, extra], ignore_index=True)


@pytest.fixture(scope="module")
def client(studio_server):
    return S.Studio(S.Connection(studio_server.url, studio_server.token, "test"), timeout=30)


@dataclass
class FirstPush:
    summary: pd.DataFrame
    #: the project's tasks right after the first push (other tests add predictions and annotations later)
    tasks: list


@pytest.fixture(scope="module")
def first_push(client, articles):
    summary = S.push(articles, PROJECT, tagger=V1, studio=client, progress=False)
    return FirstPush(summary, _tasks(client))


@pytest.fixture(scope="module")
def pushed(first_push):
    return first_push.summary


def _project(client):
    return client.get_project(PROJECT)


def _tasks(client):
    proj = _project(client)
    return [t.model_dump() for t in client.sdk.tasks.list(project=proj.id, fields="all", page_size=100)]


def test_push_creates_one_task_per_article(first_push, articles):
    pushed = first_push.summary
    good = articles[articles["error"].isna()]
    assert list(pushed["status"]) == ["created"] * len(good) + ["error"]
    assert pushed.loc[pushed["article_id"] == "bad-1", "detail"].item() == "bad.csv:3: text is missing"
    tasks = first_push.tasks
    assert len(tasks) == len(good) == 7
    by_id = {t["id"]: t for t in tasks}
    for aid, tid in zip(pushed["article_id"][:7], pushed["task_id"][:7]):
        data = by_id[int(tid)]["data"]
        assert data["article_id"] == aid
        assert data[TAX.text_field] == good.loc[good["id"] == aid, "text"].item()
    seed = by_id[int(pushed["task_id"][0])]["data"]
    assert seed["date"] == "2021-09-03" and not seed[TAX.text_field].startswith(" date")
    # no title column: the first line of the text, shortened at a word to 120 characters
    first_line = seed[TAX.text_field].splitlines()[0]
    assert seed["title"].endswith("…") and len(seed["title"]) <= 120
    assert first_line.startswith(seed["title"][:-1]) and first_line[len(seed["title"]) - 1] == " "
    assert set(seed) >= {"title", "outlet", "url", "date", "article_id"}
    emoji = by_id[int(pushed.loc[pushed["article_id"] == "emoji-1", "task_id"].item())]
    assert emoji["data"]["title"] == "Émigrés 🎉" and emoji["data"]["url"] == "https://example.org/e"
    assert emoji["data"]["outlet"] == "Test" and emoji["data"]["date"] == "2026-11-01"
    (pred,) = emoji["predictions"]
    assert pred["model_version"] == "test-v1"
    result = pred["result"]
    spans = [r for r in result if r["from_name"] == TAX.span_from_name]
    assert {r["from_name"] for r in result} == {TAX.span_from_name, TAX.reliability_from_name}
    # Label Studio stores our offsets verbatim; they are Python (code point) indices into the text.
    for r in result:
        v = r["value"]
        assert EMOJI_TEXT[v["start"]:v["end"]] == v["text"]
    starts = {r["value"]["text"]: r["value"]["start"] for r in spans}
    assert starts["terrorists"] == EMOJI_TEXT.index("terrorists") == 19
    assert starts["rumours 🎉"] == EMOJI_TEXT.index("rumours") == 75
    # each region keeps its own score; a tagger gives no document score (it would read as the risk)
    assert [r["score"] for r in spans] == pytest.approx([0.5 + 0.1 * i for i in range(len(spans))])
    assert pred["score"] is None
    # the anonymous source's reliability is pre-filled on its own region; the named one is left open
    (rel,) = [r for r in result if r["from_name"] == TAX.reliability_from_name]
    anon = next(r for r in spans if r["value"]["labels"] == [ANON])
    assert rel["id"] == anon["id"] and rel["value"]["choices"] == [TAX.reliability_prefill[ANON]]
    assert (rel["value"]["start"], rel["value"]["end"]) == (anon["value"]["start"], anon["value"]["end"])
    assert NAMED in {r["value"]["labels"][0] for r in spans} and NAMED not in TAX.reliability_prefill
    plain = by_id[int(pushed.loc[pushed["article_id"] == "plain-1", "task_id"].item())]
    assert plain["predictions"][0]["result"][0]["value"]["text"] == "Taliban"
    assert plain["data"]["title"] == PLAIN_TEXT


def test_push_again_creates_no_task(pushed, client, articles):
    again = S.push(articles, PROJECT, tagger=V1, studio=client, progress=False)
    assert list(again["status"]) == ["existing"] * 7 + ["error"]
    assert list(again["task_id"][:7]) == list(pushed["task_id"][:7])
    assert len(_tasks(client)) == 7


# --- annotations through the API, as two users ------------------------------------------------


def _span(rid, text, word, label, *, nth=0, stored=None, reliability=None):
    start = [m.start() for m in re.finditer(re.escape(word), text)][nth]
    s, e = S.py_to_ls_offsets(text, start, start + len(word))
    out = [{"id": rid, "from_name": TAX.span_from_name, "to_name": TAX.to_name, "type": "labels",
            "value": {"start": s, "end": e, "text": word if stored is None else stored, "labels": [label]}}]
    if reliability:
        out.append({"id": rid, "from_name": TAX.reliability_from_name, "to_name": TAX.to_name, "type": "choices",
                    "value": {"start": s, "end": e, "text": word, "choices": [reliability]}})
    return out


def _rating(value):
    return [{"id": "doc", "from_name": TAX.rating_from_name, "to_name": TAX.to_name, "type": "choices",
             "value": {"choices": [value]}}]


@pytest.fixture(scope="module")
def annotated(pushed, client, studio_server, articles):
    sdk = client.sdk
    admin = sdk.users.whoami()
    second = sdk.users.create(username="second", email="second@annotator.test", password="second-password-1",
                              first_name="Second", last_name="Annotator")
    tid = dict(zip(pushed["article_id"], pushed["task_id"]))
    text = dict(zip(articles["id"], articles["text"]))
    s0, s1, s2, s3, s4 = sorted(a for a in tid if a[:3].isdigit())
    rel = TAX.reliability_choices

    def ann(aid, user, result, **kw):
        return sdk.annotations.create(id=int(tid[aid]), result=result, completed_by=user.id, lead_time=12.5, **kw)

    e = EMOJI_TEXT
    made = [
        ann(s0, admin, _span("a1", text[s0], "Taliban", LOADED) + _rating(HIGH)),
        ann(s0, second, _span("b1", text[s0], "Taliban", LOADED) + _rating(HIGH)),
        ann(s1, admin, _rating(ELEVATED)),
        ann(s1, second, _span("b2", text[s1], "rumours", LOADED) + _rating(HIGH)),
        ann("emoji-1", admin, _span("a3", e, "terrorists", LOADED) + _span("a4", e, "Officials said", ANON)
            + _span("a5", e, "Reuters", NAMED, reliability=rel[0]) + _span("a6", e, "rumours 🎉 spread", UNVER)
            + _rating(LOW)),
        ann("emoji-1", second, _span("b3", e, "“terrorists”", LOADED)
            + _span("b4", e, "Officials said", ANON, reliability=rel[3]) + _span("b5", e, "Reuters", NAMED)
            + _span("b6", e, "rumours 🎉", UNVER) + _rating(LOW)),
        # a span across a paragraph break, with the text as the Label Studio UI stores it
        ann(s2, admin, _span("a7", text[s2], text[s2][text[s2].index("\n\n") - 5:text[s2].index("\n\n") + 6],
                             NAMED, stored=re.sub(r"\s+", " ", text[s2][text[s2].index("\n\n") - 5:
                                                  text[s2].index("\n\n") + 6].replace("\n", "\\n")))
            + _rating(ELEVATED)),
        ann(s3, second, [], was_cancelled=True),
        # a span whose stored text does not match the article at its offsets
        ann(s4, admin, _span("a8", text[s4], "Panjshir", LOADED, stored="WRONG TEXT") + _rating(HIGH)),
    ]
    # the SDK has no drafts method: the documented REST endpoint
    draft = httpx.post(f"{studio_server.url}/api/tasks/{int(tid[s4])}/drafts", timeout=30,
                       headers={"Authorization": f"Token {studio_server.token}"},
                       json={"result": _rating(LOW), "lead_time": 3.0})
    assert draft.status_code == 201, draft.text
    return {"admin": admin, "second": second, "tid": tid, "seeds": (s0, s1, s2, s3, s4), "made": made}


def test_label_studio_stores_offsets_as_sent(annotated, client):
    a = client.sdk.annotations.get(id=annotated["made"][4].id)
    spans = {r["id"]: r["value"] for r in a.result if r["from_name"] == TAX.span_from_name}
    assert EMOJI_TEXT[spans["a6"]["start"]:spans["a6"]["end"]] == "rumours 🎉 spread"
    assert (spans["a6"]["start"], spans["a6"]["end"]) == (75, 91)
    # what a UTF-16 (JavaScript string) count would have given instead
    assert S.py_to_ls_offsets(EMOJI_TEXT, 75, 91, "utf16") == (78, 95)
    assert S.ls_to_py_offsets(EMOJI_TEXT, 78, 95, "utf16") == (75, 91)


def test_push_newer_model_version_adds_predictions_only(annotated, client, articles):
    before = {t["id"]: (t["annotations"], len(t["predictions"])) for t in _tasks(client)}
    out = S.push(articles, PROJECT, tagger=V2, studio=client, progress=False)
    assert list(out["status"]) == ["updated"] * 7 + ["error"]
    after = _tasks(client)
    assert len(after) == 7
    for t in after:
        anns, n_pred = before[t["id"]]
        assert len(t["predictions"]) == n_pred + 1
        assert sorted(p["model_version"] for p in t["predictions"]) == ["test-v1", "test-v2"]
        assert [(a["id"], a["result"], a["updated_at"]) for a in t["annotations"]] == \
               [(a["id"], a["result"], a["updated_at"]) for a in anns]
    emoji = next(t for t in after if t["data"]["article_id"] == "emoji-1")
    v2 = next(p for p in emoji["predictions"] if p["model_version"] == "test-v2")
    (naive,) = v2["result"]
    assert EMOJI_TEXT[naive["value"]["start"]:naive["value"]["end"]] == "naïve"
    again = S.push(articles, PROJECT, tagger=V2, studio=client, progress=False)
    assert list(again["status"]) == ["existing"] * 7 + ["error"]


@pytest.fixture(scope="module")
def pulled(annotated, client, tmp_path_factory):
    out = tmp_path_factory.mktemp("pull") / "dataset"
    with pytest.warns(S.StudioWarning, match="1 span"):
        ds = S.pull(PROJECT, out, studio=client)
    return ds, out


def test_pull_tables(pulled, annotated, articles):
    ds, out = pulled
    s0, s1, s2, s3, s4 = annotated["seeds"]
    back = read_dataset(out)
    pd.testing.assert_frame_equal(back.spans, ds.spans)
    assert sorted(ds.articles["article_id"]) == sorted(articles.loc[articles["error"].isna(), "id"])
    assert set(ds.articles["corpus"]) == {PROJECT}
    arts = ds.articles.set_index("article_id")
    assert arts.loc["emoji-1", "text"] == EMOJI_TEXT and arts.loc["emoji-1", "title"] == "Émigrés 🎉"
    docs = ds.documents.set_index(["article_id", "annotator"]).sort_index()
    A, B = S.ADMIN_EMAIL, "second@annotator.test"
    assert len(docs) == 9
    assert "plain-1" not in set(ds.documents["article_id"])  # task without annotations: article only
    assert docs.loc[(s0, A), "framing_risk"] == HIGH and docs.loc[(s1, A), "framing_risk"] == ELEVATED
    assert docs.loc[("emoji-1", B), "framing_risk"] == LOW
    assert bool(docs.loc[(s3, B), "cancelled"]) and pd.isna(docs.loc[(s3, B), "framing_risk"])
    assert (s4, B) not in docs.index  # a draft is not a judgement
    assert ds.meta["drafts_excluded"] == 1 and ds.meta["cancelled"] == 1
    assert docs["lead_time"].dropna().eq(12.5).all()
    assert docs["created_at"].notna().all() and docs["updated_at"].notna().all()
    assert set(ds.documents["annotator"]) == {A, B}


def test_pull_offsets_are_python_indices(pulled, annotated):
    ds, _ = pulled
    texts = dict(zip(ds.articles["article_id"], ds.articles["text"]))
    assert ds.check_offsets().empty
    for row in ds.spans.itertuples():
        assert texts[row.article_id][row.start:row.end] == row.text
    emoji = ds.spans[ds.spans["article_id"] == "emoji-1"].set_index(["annotator", "text"])
    A, B = S.ADMIN_EMAIL, "second@annotator.test"
    assert emoji.loc[(A, "rumours 🎉 spread"), ["start", "end", "label"]].tolist() == [75, 91, UNVER]
    assert emoji.loc[(B, "“terrorists”"), "start"] == EMOJI_TEXT.index("“terrorists”")
    assert emoji.loc[(A, "Reuters"), "reliability"] == TAX.reliability_choices[0]
    assert emoji.loc[(B, "Officials said"), "reliability"] == TAX.reliability_choices[3]
    assert pd.isna(emoji.loc[(B, "Reuters"), "reliability"])
    # the paragraph-crossing span (stored with a literal \n by the UI) is not a mismatch; the bad one is
    mism = S.span_mismatches(ds)
    assert len(mism) == 1
    assert mism.iloc[0]["stored_text"] == "WRONG TEXT" and mism.iloc[0]["article_text"] == "Panjshir"
    s2 = annotated["seeds"][2]
    (cross,) = ds.spans[ds.spans["article_id"] == s2]["text"]
    assert "\n\n" in cross


def test_agreement_on_pulled_dataset(pulled, tmp_path):
    ds, out = pulled
    res = agreement(ds)
    A, B = S.ADMIN_EMAIL, "second@annotator.test"
    sp = res["spans"].set_index("label")
    assert set(res["spans"]["annotator_a"]) == {A} and set(res["spans"]["annotator_b"]) == {B}
    assert (res["spans"]["articles"] == 3).all()  # both judged: seed 0, seed 1, emoji-1

    def f1(p, r):
        return 2 * p * r / (p + r)

    # loaded terms: A {Taliban, terrorists}, B {Taliban, “terrorists”, rumours}
    assert sp.loc[LOADED, ["spans_a", "spans_b"]].tolist() == [2, 3]
    assert sp.loc[LOADED, "exact_f1"] == pytest.approx(float(Fraction(2 * 1, 2 + 3)))
    assert sp.loc[LOADED, "partial_f1"] == pytest.approx(
        float(f1(Fraction(1 + Fraction(10, 12) + 0, 3), Fraction(1 + 1, 2))))
    assert sp.loc[ANON, "exact_f1"] == 1 and sp.loc[NAMED, "partial_f1"] == 1
    # unverified: A "rumours 🎉 spread" (16 code points), B "rumours 🎉" (9)
    assert sp.loc[UNVER, "exact_f1"] == 0
    assert sp.loc[UNVER, "partial_f1"] == pytest.approx(float(f1(Fraction(1), Fraction(9, 16))))
    p_all = Fraction(1 + Fraction(10, 12) + 0 + 1 + 1 + 1, 6)
    r_all = Fraction(1 + 1 + 1 + 1 + Fraction(9, 16), 5)
    assert sp.loc["*", "exact_f1"] == pytest.approx(float(Fraction(2 * 3, 5 + 6)))
    assert sp.loc["*", "partial_f1"] == pytest.approx(float(f1(p_all, r_all)))
    # ratings (low < elevated < high): seed0 high/high, seed1 elevated/high, emoji low/low -> alpha 7/9
    assert res["rating"]["alpha"] == pytest.approx(7 / 9)
    assert res["rating"]["units"] == 3 and res["rating"]["values"] == 6
    counts = res["annotators"].set_index("annotator")
    assert counts.loc[A, ["documents", "cancelled", "rated", "spans"]].tolist() == [5, 0, 5, 7]
    assert counts.loc[B, ["documents", "cancelled", "rated", "spans"]].tolist() == [4, 1, 3, 6]
    # the CLI prints the table and writes JSON
    r = CliRunner().invoke(main, ["agreement", str(out), "--json", str(tmp_path / "agr.json")])
    assert r.exit_code == 0, r.output
    assert "0.778" in r.output and LOADED in r.output
    js = json.loads((tmp_path / "agr.json").read_text())
    assert js["framing_risk_alpha"]["alpha"] == pytest.approx(7 / 9)


@pytest.mark.filterwarnings("ignore::annotator.studio.StudioWarning")
def test_repull_replaces_dataset(pulled, client, annotated, tmp_path):
    ds, first_out = pulled  # taken before the deletion below
    out = tmp_path / "dataset"
    shutil.copytree(first_out, out)  # its own copy: the pulled dataset stays as the other tests read it
    (out / "stray.txt").write_text("left over")
    client.sdk.annotations.delete(id=annotated["made"][0].id)  # admin's seed-0 annotation
    ds2 = S.pull(PROJECT, out, studio=client)
    assert not (out / "stray.txt").exists()
    assert len(read_dataset(out).documents) == len(ds.documents) - 1 == len(ds2.documents)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_cli_pull_and_push_with_environment(annotated, studio_server, tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio_server.token)
    runner = CliRunner()
    r = runner.invoke(main, ["pull", "--project", PROJECT, "-o", str(tmp_path / "ds"), "--mismatches",
                             str(tmp_path / "mism.csv")])
    assert r.exit_code == 0, r.output
    assert "7 articles" in r.output and "warning: 1 span" in r.output
    assert studio_server.token not in r.output
    assert len(pd.read_csv(tmp_path / "mism.csv")) == 1
    r = runner.invoke(main, ["push", str(ROOT / "seeds"), "--project", PROJECT, "--no-predictions",
                             "--summary", str(tmp_path / "summary.csv")])
    assert r.exit_code == 0, r.output
    assert "0 created, 5 existing" in r.output
    assert studio_server.token not in r.output + (tmp_path / "summary.csv").read_text()
    assert not any(studio_server.token in p.read_text(errors="ignore")
                   for p in (tmp_path / "ds").iterdir() if p.suffix == ".json")


# --- pre-annotations from the framing model; reliability and rating pre-filled ------------------


def test_build_prediction_fills_every_field():
    text = "Officials said the terrorists fled, Reuters reported."
    spans = [{"label": ANON, "start": 0, "end": 9, "score": 0.8}, {"label": LOADED, "start": 19, "end": 29,
                                                                    "score": 0.6},
             {"label": NAMED, "start": 36, "end": 43, "score": 0.7}]
    pred = S.build_prediction(text, spans, "framing-x", TAX, risk=89.9, band=HIGH, score=0.42)
    assert pred["score"] == pytest.approx(0.42) and pred["model_version"] == "framing-x"
    by = {}
    for r in pred["result"]:
        by.setdefault(r["from_name"], []).append(r)
    assert [r["score"] for r in by[TAX.span_from_name]] == [0.8, 0.6, 0.7]
    (rel,) = by[TAX.reliability_from_name]
    assert rel["id"] == by[TAX.span_from_name][0]["id"] and rel["value"] == {
        "start": 0, "end": 9, "text": "Officials", "choices": [TAX.reliability_prefill[ANON]]}
    (rating,) = by[TAX.rating_from_name]
    assert rating["value"] == {"choices": [HIGH]} and "start" not in rating["value"]
    assert rating["meta"] == {"text": ["framing risk 89.9"]}  # the risk is the rating's note, not the score
    # a tagger: no rating and no score
    bare = S.build_prediction(text, spans, "tagger-x", TAX)
    assert "score" not in bare and TAX.rating_from_name not in {r["from_name"] for r in bare["result"]}
    with pytest.raises(AnnotatorError, match="not a framing-risk rating"):
        S.build_prediction(text, spans, "framing-x", TAX, risk=50.0, band="medium")
    with pytest.raises(AnnotatorError, match="outside"):
        S.build_prediction(text, spans, "framing-x", TAX, risk=50.0, band=HIGH, score=50.0)


@pytest.fixture(scope="module")
def shipped_model():
    from annotator.model import load_model

    return load_model()


def test_push_with_the_framing_model_prefills_reliability_and_rating(client, shipped_model):
    """What `make demo` pushes: spans, reliability of anonymous sources, the rating from the band (the risk in
    its note), score = the model's confidence, 1 - informativeness (what the queue orders by)."""
    from annotator.scoring import score
    from annotator.studio.informativeness import informativeness

    seeds = read_articles(str(ROOT / "seeds"))
    out = S.push(seeds, "issue-13 prefilled", tagger=shipped_model, studio=client, progress=False)
    assert list(out["status"]) == ["created"] * len(seeds)
    # the spans pre-annotated are those `annotator score` emits: the model's operating point
    scores = score(seeds, shipped_model).set_index("id")
    info = informativeness(shipped_model, seeds[["id", "text"]]).set_index("id")["informativeness"]
    cut = {lab: r["threshold"] for lab, r in shipped_model.tagger_.operating_point_.items()}
    proj = client.get_project("issue-13 prefilled")
    tasks = [t.model_dump() for t in client.sdk.tasks.list(project=proj.id, fields="all", page_size=100)]
    assert len(tasks) == len(seeds)
    n_anon = 0
    for t in tasks:
        data = t["data"]
        assert data["title"] and set(data) >= {"title", "outlet", "url", "date"}
        (pred,) = t["predictions"]
        assert pred["model_version"] == shipped_model.model_version
        row = scores.loc[data["article_id"]]
        assert pred["score"] == pytest.approx(1 - info[data["article_id"]], abs=1e-6)
        ratings = [r for r in pred["result"] if r["from_name"] == TAX.rating_from_name]
        assert [r["value"]["choices"] for r in ratings] == [[row["band"]]]
        assert ratings[0]["meta"] == {"text": [f"framing risk {row['risk']:.1f}"]}
        spans = {r["id"]: r for r in pred["result"] if r["from_name"] == TAX.span_from_name}
        assert len(spans) == len(row["spans"])
        rel = {r["id"]: r["value"]["choices"] for r in pred["result"] if r["from_name"] == TAX.reliability_from_name}
        for rid, r in spans.items():
            label = r["value"]["labels"][0]
            assert rel.get(rid) == ([TAX.reliability_prefill[label]] if label in TAX.reliability_prefill else None)
            assert r["score"] >= cut[label]  # each region shows its score, at or above the operating point
            n_anon += label == ANON
            # the span's voice rides along as the region's meta note (Label Studio keeps it)
            assert r["meta"]["text"][0].split(" (")[0] in ("voice: narrator", "voice: quoted")
    assert n_anon >= 3  # seed 000 alone has several anonymous "sources"


def test_push_all_candidates_is_told_apart_and_shows_every_candidate(client, shipped_model):
    seeds = read_articles(str(ROOT / "seeds"))
    S.push(seeds, "issue-14 candidates", tagger=shipped_model, studio=client, progress=False, all_candidates=True)
    every = shipped_model.score(seeds).set_index("id")  # the framing model itself gives every candidate
    cut = {lab: r["threshold"] for lab, r in shipped_model.tagger_.operating_point_.items()}
    proj = client.get_project("issue-14 candidates")
    below = 0
    for t in client.sdk.tasks.list(project=proj.id, fields="all", page_size=100):
        t = t.model_dump()
        (pred,) = t["predictions"]
        assert pred["model_version"] == shipped_model.model_version + "@all-candidates"
        regions = [r for r in pred["result"] if r["from_name"] == TAX.span_from_name]
        assert len(regions) == len(every.loc[t["data"]["article_id"], "spans"])
        below += sum(r["score"] < cut[r["value"]["labels"][0]] for r in regions)
    assert below > 0  # candidates under the operating point are pushed only on request


def test_push_gives_out_of_scope_articles_no_prediction_and_a_visible_note(client, shipped_model):
    """Issue 15: a Chinese and a German article become tasks without a prediction (so no score), their
    ``scope`` data field (a header in the label config, a Data Manager column) saying why."""
    chinese = "据新华社报道，强台风周二晚间在广东沿海登陆，当地政府已紧急转移超过十万名群众。气象部门表示，未来两天仍将有强降雨。"
    german = ("Der Streik der Lokführer legt seit Montagmorgen große Teile des Bahnverkehrs lahm. Die Gewerkschaft "
              "fordert höhere Löhne und kürzere Arbeitszeiten.")
    arts = pd.DataFrame({"id": ["zh-1", "en-1", "de-1"], "text": [chinese, EMOJI_TEXT, german]})
    out = S.push(arts, "issue-15 scope", tagger=shipped_model, studio=client, progress=False)
    assert list(out["status"]) == ["created"] * 3
    assert list(out["detail"]) == ["out of scope (language: zh): no prediction", "",
                                   "out of scope (language: de): no prediction"]
    proj = client.get_project("issue-15 scope")
    assert "$scope" in proj.label_config

    def tasks():
        return {t["data"]["article_id"]: t for t in (x.model_dump() for x in
                client.sdk.tasks.list(project=proj.id, fields="all", page_size=100))}

    first = tasks()
    for aid, lang in (("zh-1", "zh"), ("de-1", "de")):
        assert first[aid]["predictions"] == []
        assert first[aid]["data"]["scope"].startswith(f"Out of scope (language: {lang}): no pre-annotation")
    (pred,) = first["en-1"]["predictions"]
    assert 0 <= pred["score"] <= 1 and first["en-1"]["data"]["scope"] is None
    # a newer pre-annotator: the English task gets its prediction, the others still none
    again = S.push(arts, "issue-15 scope", tagger=V2, studio=client, progress=False)
    assert list(again["status"]) == ["existing", "updated", "existing"]
    assert again["detail"].iloc[0] == "out of scope (language: zh): no prediction"
    second = tasks()
    assert second["zh-1"]["predictions"] == [] and second["de-1"]["predictions"] == []
    assert len(second["en-1"]["predictions"]) == 2


# --- a second annotator -------------------------------------------------------------------------


def _fake_local_server(studio_server, data_dir: Path) -> Path:
    """A local-server data dir (state.json, credentials.json) for the session's server."""
    data_dir.mkdir()
    (data_dir / "state.json").write_text(json.dumps({"pid": studio_server.pid, "url": studio_server.url}))
    (data_dir / "credentials.json").write_text(json.dumps({
        "url": studio_server.url, "email": studio_server.email, "password": studio_server.password,
        "api_key": studio_server.token}))
    return data_dir


def _log_in(url, email, password):
    """Log in through Label Studio's login form, as a browser does; the logged-in user's email, else None."""
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        c.get("/user/login/")
        c.post("/user/login/", data={"email": email, "password": password,
                                     "csrfmiddlewaretoken": c.cookies.get("csrftoken")})
        me = c.get("/api/current-user/whoami")
        return me.json()["email"] if me.status_code == 200 else None


def test_studio_user_add(studio_server, client, tmp_path):
    data_dir = _fake_local_server(studio_server, tmp_path / "local")
    runner = CliRunner()
    r = runner.invoke(main, ["studio", "user", "add", "New.Annotator@Example.org", "--data-dir", str(data_dir)])
    assert r.exit_code == 0, r.output
    stored = json.loads((data_dir / "annotators.json").read_text())
    password = stored["new.annotator@example.org"]["password"]
    assert stat.S_IMODE(os.stat(data_dir / "annotators.json").st_mode) == 0o600
    assert f"{studio_server.url}/user/login/" in r.output and "new.annotator@example.org" in r.output
    assert str(data_dir / "annotators.json") in r.output
    assert password not in r.output and studio_server.token not in r.output and "token" not in r.output
    assert _log_in(studio_server.url, "new.annotator@example.org", password) == "new.annotator@example.org"
    assert _log_in(studio_server.url, "new.annotator@example.org", "wrong-password") is None
    # a member of the organization: sees the projects
    assert "new.annotator@example.org" in {u.email for u in client.sdk.users.list()}
    # adding them again changes nothing and says so in one line
    r = runner.invoke(main, ["studio", "user", "add", "new.annotator@example.org", "--data-dir", str(data_dir)])
    _one_line_error(r, r"new.annotator@example.org already has an account at .*nothing changed")
    assert json.loads((data_dir / "annotators.json").read_text()) == stored
    # a password from a file is used as given, and not copied anywhere
    pw_file = tmp_path / "pw.txt"
    pw_file.write_text("a long enough password\n")
    r = runner.invoke(main, ["studio", "user", "add", "third@example.org", "--data-dir", str(data_dir),
                             "--password-file", str(pw_file)])
    assert r.exit_code == 0, r.output
    assert str(pw_file) in r.output and "a long enough password" not in r.output
    assert _log_in(studio_server.url, "third@example.org", "a long enough password") == "third@example.org"
    assert "third@example.org" not in json.loads((data_dir / "annotators.json").read_text())
    pw_file.write_text("short\n")
    r = runner.invoke(main, ["studio", "user", "add", "fourth@example.org", "--data-dir", str(data_dir),
                             "--password-file", str(pw_file)])
    _one_line_error(r, "has 5 characters: Label Studio needs 8 to 128")


def test_studio_user_add_needs_the_local_server(tmp_path):
    r = CliRunner().invoke(main, ["studio", "user", "add", "a@example.org", "--data-dir", str(tmp_path / "none")])
    _one_line_error(r, r"local Label Studio .* is not running: start it with 'annotator studio up'")


# --- errors -----------------------------------------------------------------------------------


def _one_line_error(result, pattern):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("annotator: error: "), result.output
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.output


def test_unreachable_server(tmp_path, monkeypatch):
    port = S.free_port()  # nothing listens there
    with pytest.raises(S.StudioError, match=r"cannot connect to Label Studio at http://127.0.0.1:\d+ .*studio up"):
        S.connect(f"http://127.0.0.1:{port}", "some-token")
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "some-token")
    r = CliRunner().invoke(main, ["pull", "--project", PROJECT, "-o", str(tmp_path / "ds")])
    _one_line_error(r, "cannot connect")
    assert not (tmp_path / "ds").exists()


def test_no_server_configured():
    with pytest.raises(S.StudioError, match="no Label Studio configured.*studio up"):
        S.resolve_connection()


def test_bad_token(studio_server, tmp_path, monkeypatch):
    with pytest.raises(S.StudioError, match=r"refused the API key \(401"):
        S.connect(studio_server.url, "not-the-token")
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-the-token-either")
    r = CliRunner().invoke(main, ["push", str(ROOT / "seeds"), "--project", PROJECT, "--no-predictions"])
    _one_line_error(r, "refused the API key")
    assert "not-the-token-either" not in r.output


def test_expired_personal_access_token(studio_server):
    import jwt

    expired = jwt.encode({"token_type": "refresh", "exp": int(time.time()) - 60, "user_id": 1}, "k" * 32,
                         algorithm="HS256")
    with pytest.raises(S.StudioError, match="personal access token .* has expired"):
        S.connect(studio_server.url, expired)


def test_server_side_validation_is_reported(client, articles):
    with pytest.raises(S.StudioError, match="rejected create project .*title: Ensure this field has at least 3"):
        S.push(articles.head(1), "ab", studio=client, progress=False)


def test_unknown_project(pushed, client, tmp_path):
    with pytest.raises(S.StudioError, match=r"no project titled 'no such project'.*issue-3 round trip"):
        S.pull("no such project", tmp_path / "ds", studio=client)
    assert not (tmp_path / "ds").exists()


def test_config_mismatch(client, articles):
    xml = TAX.xml.replace(f'value="{UNVER}"', 'value="rumour"')
    xml = xml.replace(f'<Choice value="{HIGH}"', f'<Choice value="extreme"/><Choice value="{HIGH}"')
    client.sdk.projects.create(title="mismatched", label_config=xml)
    with pytest.raises(S.StudioError) as exc:
        S.push(articles, "mismatched", tagger=V1, studio=client, progress=False)
    msg = str(exc.value)
    assert f"span labels added in the project: rumour; span labels missing from the project: {UNVER}" in msg
    assert "framing-risk ratings added in the project: extreme" in msg
    assert "\n" not in msg
    assert S.compare_configs(TAX, TAX.xml) == ([], "")
    diffs, cosmetic = S.compare_configs(TAX, TAX.xml.replace("#e8590c", "#000000"))
    assert diffs == [] and ANON in cosmetic


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "502"

    def do_GET(self):
        if self.mode == "slow":
            time.sleep(3)
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>Bad gateway</body></html>")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("mode,pattern", [("502", r"failed \(version\) with HTTP 502 after 3 tries"),
                                          ("slow", r"did not answer \(version\) within 1 s, 3 tries")])
def test_server_errors_are_retried_then_reported(mode, pattern):
    handler = type("H", (_Handler,), {"mode": mode})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.handle_error = lambda *args: None  # the client hung up on the slow handler
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        studio = S.Studio(S.Connection(f"http://127.0.0.1:{srv.server_port}", "tok"), timeout=1, retries=2,
                          backoff=0.01)
        with pytest.raises(S.StudioError, match=pattern):
            studio.check()
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.filterwarnings("ignore::annotator.studio.StudioWarning")
@pytest.mark.filterwarnings("ignore:The `parse_obj` method is deprecated")  # inside the SDK's token refresh
def test_personal_access_token_and_legacy_disabled(pushed, studio_server, client, tmp_path):
    pat = client.sdk.tokens.create().token
    assert pat.count(".") == 2  # a JWT refresh token
    jwt_client = S.connect(studio_server.url, pat)
    assert jwt_client.check()["user"] == studio_server.email
    settings = client.sdk.jwt_settings.get()
    try:
        jwt_client.sdk.jwt_settings.update(api_token_ttl_days=settings.api_token_ttl_days,
                                           legacy_api_tokens_enabled=False)
        with pytest.raises(S.StudioError, match="legacy API tokens disabled.*personal access token"):
            S.connect(studio_server.url, studio_server.token)
        ds = S.pull(PROJECT, tmp_path / "ds", studio=jwt_client)  # the PAT still works
        assert len(ds.articles) == 7
    finally:
        jwt_client.sdk.jwt_settings.update(api_token_ttl_days=settings.api_token_ttl_days,
                                           legacy_api_tokens_enabled=True)
    assert S.connect(studio_server.url, studio_server.token).check()["version"] == S.LS_VERSION


def test_resolution_order(studio_server, tmp_path, monkeypatch):
    cfg = tmp_path / "studio.json"
    cfg.write_text(json.dumps({"url": "http://127.0.0.1:1", "api_key": "from-file"}))
    monkeypatch.setenv("ANNOTATOR_STUDIO_CONFIG", str(cfg))
    c = S.resolve_connection()
    assert (c.url, c.api_key, c.source) == ("http://127.0.0.1:1", "from-file", str(cfg))
    monkeypatch.setenv("LABEL_STUDIO_URL", studio_server.url + "/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "from-env")
    c = S.resolve_connection()
    assert (c.url, c.api_key, c.source) == (studio_server.url, "from-env", "LABEL_STUDIO_URL")
    assert "from-env" not in repr(c)
    assert S.resolve_connection("http://127.0.0.1:2").api_key == "from-env"
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    with pytest.raises(S.StudioError, match="no API key .*LABEL_STUDIO_URL"):
        S.resolve_connection()


# --- the local server -------------------------------------------------------------------------


def test_migration_progress_counts_applied_migrations(studio_server, tmp_path):
    """The first start's progress line counts the migrations applied so far (read-only, from its sqlite)."""
    from annotator.studio.server import applied_migrations

    assert applied_migrations(studio_server.template) > 100
    assert applied_migrations(tmp_path) is None
    (tmp_path / "label_studio.sqlite3").write_bytes(b"")  # created, not migrated yet
    assert applied_migrations(tmp_path) is None


def test_local_server_up_status_down(studio_server, tmp_path):
    data_dir = tmp_path / "local"
    local = S.LocalStudio(data_dir)
    runner = CliRunner()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(S.StudioError, match=f"port {busy.getsockname()[1]} on 127.0.0.1 is in use"):
            local.up(busy.getsockname()[1], progress=False, template=studio_server.template,
                     template_credentials={"email": studio_server.email, "password": studio_server.password,
                                           "api_key": studio_server.token})
    finally:
        busy.close()
    st = local.up(progress=False, template=studio_server.template,
                  template_credentials={"email": studio_server.email, "password": studio_server.password,
                                        "api_key": studio_server.token})
    try:
        assert st["running"] and st["healthy"] and st["url"].startswith("http://127.0.0.1:")
        state = json.loads((data_dir / "state.json").read_text())
        assert state["pid"] == st["pid"] and state["url"] == st["url"]
        assert stat.S_IMODE(os.stat(data_dir / "credentials.json").st_mode) == 0o600
        # a loopback ML backend needs both settings (Label Studio 1.23.1 blocks it by default)
        environ = dict(x.split("=", 1) for x in Path(f"/proc/{st['pid']}/environ").read_text().split("\0") if "=" in x)
        assert environ["ML_BLOCK_LOCAL_IP"] == "false" and environ["SSRF_PROTECTION_ENABLED"] == "false"
        r = runner.invoke(main, ["studio", "up", "--data-dir", str(data_dir)])  # already up: says where
        assert r.exit_code == 0 and st["url"] in r.output and "credentials.json" in r.output
        assert "annotator backend is up at http://127.0.0.1:" in r.output, r.output  # started beside it
        assert studio_server.token not in r.output and studio_server.password not in r.output
        r = runner.invoke(main, ["studio", "status", "--data-dir", str(data_dir)])
        assert r.output.startswith(f"up: {st['url']}")
        # the local server is the last resort of the connection lookup
        c = S.resolve_connection(data_dir=data_dir)
        assert c.url == st["url"] and c.source.startswith("local server")
        assert S.connect(data_dir=data_dir).check()["version"] == S.LS_VERSION
    finally:
        r = runner.invoke(main, ["studio", "down", "--data-dir", str(data_dir)])
    assert r.exit_code == 0 and "stopped" in r.output and "annotator backend stopped" in r.output
    assert not (data_dir / "state.json").exists()
    r = runner.invoke(main, ["studio", "status", "--data-dir", str(data_dir)])
    assert r.output.startswith("down")
    assert runner.invoke(main, ["studio", "down", "--data-dir", str(data_dir)]).output.startswith(
        "Label Studio was not running")
