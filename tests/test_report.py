"""Reports (annotator.report, 'annotator report'): rendered from real runs, opened in headless Chromium.

The browser tests drive Debian's /usr/bin/chromium through Playwright's CDP client
(``playwright install`` is never run) with a fresh profile and the no-network flags.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from annotator.paths import DATA_DIR
from annotator.articles import read_articles
from annotator.cli import main
from annotator.report import CHROMIUM_FLAGS, CSP, highlight, scoring_report, summary_path, training_report
from annotator.scoring import score
from annotator.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
PTC = DATA_DIR / "ptc-semeval2020" / "train-articles"
TAX = load_taxonomy()
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

HOSTILE = (
    "Officials said the notorious regime reportedly lied. <script>alert(1)</script> "
    "According to reports, sources said <img src=x onerror=\"document.title='pwned'\"> the plan was a disaster. "
    "<a href=\"javascript:alert(1)\">x</a> <iframe src=\"https://example.com/\"></iframe> "
    "<style>body{display:none}</style> Anonymous officials allegedly told reporters the terrorists were brutal.\n"
)
UNICODE = (
    "Le président 🇫🇷 a déclaré — «c'est inacceptable» 😀😀. Sources said the disastrous plan was reportedly "
    "abandoned; según fuentes 北京, officials said the notorious ‘cartel’ allegedly paid. 👩‍👩‍👧 Named: "
    "Emmanuel Macron told Reuters the reckless scheme was a shocking failure.\n"
)


# --- real runs ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(corpora):
    """A small framing model trained here on the shared corpora (about 10 s)."""
    from annotator.training import train

    return train(("corpora",), limit=40, span_cv=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory, model):
    """Articles (3 PTC, a hostile one, a non-ASCII one, an empty one) scored with the small model."""
    d = tmp_path_factory.mktemp("report")
    rows = []
    for i, f in enumerate(sorted(PTC.glob("article*.txt"))[:3]):
        rows.append({"id": f.stem, "text": f.read_text(encoding="utf-8"), "outlet": "ptc" if i else "other"})
    rows.append({"id": "hostile", "text": HOSTILE, "outlet": "evil <b>outlet</b>", "title": "<script>alert(2)</script>"})
    rows.append({"id": "unicode", "text": UNICODE, "outlet": "other"})
    rows.append({"id": "empty", "text": "   ", "outlet": "other"})
    src = d / "articles.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    articles = read_articles(src)
    scores = score(articles, model=model, scope_check=False)  # the hostile text is mostly markup: scored anyway
    scores_path = d / "scores.jsonl"
    scores_path.write_text(scores.to_json(orient="records", lines=True, force_ascii=False), encoding="utf-8")
    html = d / "scoring.html"
    summary = scoring_report(scores_path, html, articles=[src], top_n=10)
    texts = dict(zip(articles["id"], articles["text"]))
    return {"dir": d, "src": src, "scores": scores, "scores_path": scores_path, "html": html, "summary": summary,
            "texts": texts}


@pytest.fixture(scope="module")
def training(tmp_path_factory, model):
    html = tmp_path_factory.mktemp("training") / "training.html"
    return html, training_report(model, html)


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span", "b", "div", "table",
             "tr", "th", "td", "img", "mark", "ul", "li"}


def _tags(html):
    """Every start tag of a document with its attributes, as an HTML parser sees them."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    P().feed(html)
    return found


# --- without a browser ----------------------------------------------------------------------------------


def test_highlight_escapes_every_piece_and_keeps_offsets():
    text = "a <b>x</b> & é😀 said \"q\" <script>"
    spans = [{"label": TAX.label_ids[0], "start": 2, "end": 10, "score": 0.9},
             {"label": TAX.label_ids[1], "start": 5, "end": 6, "score": 0.5},       # nested
             {"label": TAX.label_ids[2], "start": 8, "end": 14, "score": 0.5},      # crosses the first
             {"label": TAX.label_ids[3], "start": 13, "end": 15, "score": 0.5,
              TAX.reliability_from_name: TAX.reliability_choices[0]}]
    html, skipped = highlight(text, spans)
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;/b&gt;" in html and "&amp;" in html and "&lt;script&gt;" in html
    assert '<mark class="cue" data-label="%s" data-start="5" data-end="6"' % TAX.label_ids[1] in html
    assert [s["start"] for s in skipped] == [8]
    assert html.count("<mark") == 3
    assert f'data-reliability="{TAX.reliability_choices[0]}"' in html
    assert f"--c:{TAX.color(TAX.label_ids[0])}" in html
    cut, beyond = highlight(text, spans, limit=12)
    assert [s["start"] for s in beyond] == [8, 13] and cut.count("<mark") == 2


def test_scoring_report_html_and_summary(run):
    html = run["html"].read_text(encoding="utf-8")
    s = run["summary"]
    assert s == json.loads(summary_path(run["html"]).read_text(encoding="utf-8"))
    assert s["kind"] == "scoring" and s["rows"] == 6 and s["scored"] == 5 and s["failed"] == 1
    assert s["failed_rows"][0]["id"] == "empty" and s["failed_rows"][0]["error"]
    assert sum(s["bands"].values()) == 5 and list(s["bands"]) == list(TAX.rating_choices)
    assert {t["id"] for t in s["top"]} == {"hostile", "unicode", *[k for k in run["texts"] if k.startswith("article")]}
    assert {o["outlet"] for o in s["outlets"]} == {"ptc", "other", "evil <b>outlet</b>"}
    other = next(o for o in s["outlets"] if o["outlet"] == "other")
    assert other["articles"] == 2  # the empty (failed) row is not counted
    # untrusted text never appears as markup
    assert f'http-equiv="Content-Security-Policy" content="{escape(CSP)}"' in html
    for bad in ("<script>alert", "<img src=x", '<a href="javascript', "<iframe", "<b>outlet", "<style>body"):
        assert bad not in html
    assert "&lt;script&gt;alert(1)&lt;/" in html  # (a span may start inside the payload)
    assert "<script" not in html.lower().replace("&lt;script", "")
    tags = _tags(html)
    assert {t for t, _ in tags} <= SAFE_TAGS
    assert all(v.startswith("data:image/png;base64,") for t, a in tags for k, v in a if k in ("src", "href"))
    assert not any(k.startswith("on") for t, a in tags for k, v in a)


def test_scoring_report_without_texts_lists_spans(run, tmp_path):
    s = scoring_report(run["scores"], tmp_path / "r.html", top_n=2)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert s["with_text"] == 0 and len(s["top"]) == 2 and "pass --articles" in html
    assert s["outlets"] == []


def test_training_report_sections(training, model):
    html_path, s = training
    html = html_path.read_text(encoding="utf-8")
    assert s["kind"] == "training" and s["data"] == json.loads(json.dumps(model.data_summary_))
    assert set(s["top_terms"]) == set(TAX.label_ids) and all(len(v) == 15 for v in s["top_terms"].values())
    assert s["document"]["band_confusion"] and s["spans"]
    assert s["agreement"] is None and "agreement is not shown" in s["agreement_note"]
    assert len(s["worst_errors"]) == 20
    errs = [abs(r["error"]) for r in s["worst_errors"]]
    assert errs == sorted(errs, reverse=True)
    assert html.count('src="data:image/png;base64,') == 3
    for section in ("data", "spans", "document", "terms", "features", "agreement", "worst"):
        assert f'id="{section}"' in html


def test_cli_report_both_kinds(run, tmp_path, model):
    from annotator.model import save_skops

    runner = CliRunner()
    out = tmp_path / "s.html"
    res = runner.invoke(main, ["report", str(run["scores_path"]), "-o", str(out), "--articles", str(run["src"]),
                               "--top", "3"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "s.json").read_text())["top"][0]["has_text"] is True
    path = save_skops(model, tmp_path / "m.skops")
    res = runner.invoke(main, ["report", str(path), "-o", str(tmp_path / "t.html")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "t.json").read_text())["model_version"] == model.model_version
    res = runner.invoke(main, ["report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2


# --- in headless Chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make test installs it)")
    with sync_api.sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile (--user-data-dir)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield b
        b.close()


def _open(browser, path):
    """Open a report; record console errors, page errors, dialogs and every request."""
    page = browser.new_page()
    seen = {"console": [], "pageerror": [], "dialog": [], "requests": [], "failed": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["pageerror"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialog"].append(d.message), d.dismiss()))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append((r.url, r.failure)))
    url = Path(path).resolve().as_uri()
    t0 = time.perf_counter()
    page.goto(url, wait_until="load")
    seen["load_seconds"] = time.perf_counter() - t0
    page.wait_for_timeout(300)  # give any (unexpected) handler a chance to run
    seen["others"] = [u for u in seen["requests"] if u != url and not u.startswith("data:")]
    return page, seen


def _clean(seen):
    assert [c for c in seen["console"] if c[0] in ("error", "warning")] == []
    assert seen["pageerror"] == [] and seen["dialog"] == []
    assert seen["failed"] == [] and seen["others"] == []


@pytest.mark.browser
def test_scoring_report_in_browser(browser, run):
    page, seen = _open(browser, run["html"])
    _clean(seen)
    assert page.title() == f"Scoring report: {run['summary']['rows']:,} articles"
    # the hostile article ran nothing and added no element: article texts hold only our <mark>s
    assert page.evaluate("document.querySelectorAll('script, a, iframe, object, embed, form, style:not(head style)')"
                         ".length") == 0
    assert page.evaluate("[...document.images].every(i => i.classList.contains('plot'))")
    assert page.evaluate("[...document.querySelectorAll('.text *')].every(e => e.tagName === 'MARK' "
                         "&& e.classList.contains('cue'))")
    hostile = page.locator('.article[data-id="hostile"] .text').text_content()
    assert hostile == HOSTILE
    assert page.locator('.article[data-id="unicode"] .text').text_content() == UNICODE
    assert "<script>alert(2)</script>" in page.locator('.article[data-id="hostile"] .head').text_content()
    # every <mark> sits on the characters of its span (Python offsets; non-ASCII included)
    marks = page.evaluate("""[...document.querySelectorAll('mark.cue')].map(m => ({
        id: m.closest('.article').dataset.id, label: m.dataset.label,
        start: +m.dataset.start, end: +m.dataset.end, text: m.textContent}))""")
    spans = {r["id"]: {(s["label"], s["start"], s["end"]) for s in r["spans"]}
             for r in run["scores"].to_dict(orient="records") if isinstance(r["spans"], list)}
    assert marks and {m["id"] for m in marks} >= {"hostile", "unicode"}
    for m in marks:
        assert m["text"] == run["texts"][m["id"]][m["start"]:m["end"]], m
        assert (m["label"], m["start"], m["end"]) in spans[m["id"]]
    uni = [m for m in marks if m["id"] == "unicode"]
    assert any(m["start"] > UNICODE.index("😀") for m in uni)  # offsets after astral characters
    # every span is either marked or listed as overlapping
    shown = {(m["id"], m["label"], m["start"], m["end"]) for m in marks}
    listed = sum(len(t.get("unmarked", [])) for t in run["summary"]["top"])
    assert len(shown) + listed == sum(len(v) for k, v in spans.items() if k in {t["id"] for t in run["summary"]["top"]})
    # the legend uses the taxonomy colours
    legend = page.evaluate("[...document.querySelectorAll('#legend .swatch')].map(s => s.style.getPropertyValue('--c'))")
    assert legend == [lab.color for lab in TAX.labels]
    page.close()


@pytest.mark.browser
def test_training_report_in_browser(browser, training):
    html, s = training
    page, seen = _open(browser, html)
    _clean(seen)
    assert page.title() == f"Training report: {s['model_version']}"
    assert page.evaluate("[...document.images].length") == 3
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 100)")
    page.close()


@pytest.mark.browser
def test_csp_blocks_injected_content(browser, run, tmp_path):
    """Belt and braces: if markup ever slipped through, the CSP would still stop scripts and requests."""
    html = run["html"].read_text(encoding="utf-8").replace(
        "</body>", '<script>document.title="ran"</script><img src="http://127.0.0.1:9/x.png"></body>')
    bad = tmp_path / "bad.html"
    bad.write_text(html, encoding="utf-8")
    page, seen = _open(browser, bad)
    assert page.title() != "ran"
    assert seen["others"] == ["http://127.0.0.1:9/x.png"]  # attempted, and blocked before leaving the browser
    assert seen["failed"] == [("http://127.0.0.1:9/x.png", "csp")]
    assert sum("Content Security Policy" in c[1] for c in seen["console"]) == 2  # console errors are seen
    page.close()


@pytest.mark.browser
def test_screenshot(run, tmp_path):
    from annotator.report import screenshot

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    png = screenshot(run["html"], tmp_path / "s.png", height=1200, chromium=CHROMIUM)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_training_report_agreement_from_a_pulled_dataset(model, tmp_path):
    import pandas as pd

    from annotator.dataset import Dataset, write_dataset

    text = "Officials said the notorious plan reportedly failed. " * 3
    low, high = TAX.rating_choices[0], TAX.rating_choices[-1]
    lab = TAX.label_ids[0]
    arts = pd.DataFrame({"article_id": ["a1", "a2"], "text": [text] * 2, "corpus": "project <b>x</b>"})
    docs = pd.DataFrame([("a1", "ann", high, False), ("a1", "bob", high, False), ("a2", "ann", low, False),
                         ("a2", "bob", high, False)], columns=["article_id", "annotator", "framing_risk", "cancelled"])
    spans = pd.DataFrame([("a1", "ann", lab, 0, 9), ("a1", "bob", lab, 0, 9)],
                         columns=["article_id", "annotator", "label", "start", "end"])
    spans["text"] = [text[s:e] for s, e in zip(spans["start"], spans["end"])]
    folder = write_dataset(Dataset(arts, docs, spans), tmp_path / "pulled")
    html = tmp_path / "t.html"
    s = training_report(model, html, dataset=folder)
    assert s["agreement_note"] is None and {r["annotator"] for r in s["agreement"]["annotators"]} == {"ann", "bob"}
    pair = [r for r in s["agreement"]["span_f1"] if r["label"] == lab]
    assert pair and pair[0]["exact_f1"] == 1.0
    page = html.read_text(encoding="utf-8")
    assert "Krippendorff" in page and "ann" in page
