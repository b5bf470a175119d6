"""Benchmark of the scoring report ('annotator report SCORES --articles ...') at 10,000 articles.

Builds a JSONL corpus of N articles (default 10,000) from the PTC training articles
(../shared/data/ptc-semeval2020/train-articles, repeated and shuffled with a fixed seed;
each row gets one of a few outlets), scores it with ``annotator score`` (the shipped
model, all cores), writes the scoring report with the texts of the riskiest articles,
and opens it in headless Chromium (Debian's /usr/bin/chromium through Playwright's CDP
client, fresh profile, no network).

Printed: scoring time, report build time, HTML size, and the browser's load time
(navigation until the ``load`` event, median of 3), plus requests other than the page
itself (must be none).

    python bench/report.py                 # 10,000 articles, top 25
    python bench/report.py --n 2000 --top 100

Targets (issue 6): the report stays under 10 MB and loads in under 3 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from annotator.paths import DATA_DIR
from annotator.report import CHROMIUM_FLAGS

PTC = DATA_DIR / "ptc-semeval2020" / "train-articles"
OUTLETS = ("outlet-a", "outlet-b", "outlet-c", "outlet-d", "outlet-e")


def build_corpus(path: Path, n: int, seed: int = 0) -> None:
    files = sorted(PTC.glob("*.txt"))
    if not files:
        sys.exit(f"bench: no PTC articles in {PTC} (set ANNOTATOR_DATA_DIR)")
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in files]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            stem, text = texts[rng.randrange(len(texts))]
            f.write(json.dumps({"id": f"{stem}-{i}", "text": text, "outlet": OUTLETS[i % len(OUTLETS)]},
                               ensure_ascii=False) + "\n")


def browser_load(html: Path, runs: int = 3) -> tuple[float, list]:
    from playwright.sync_api import sync_playwright  # optional: the test extra

    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    url = html.resolve().as_uri()
    times, others = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        for _ in range(runs):
            page = b.new_page()
            page.on("request", lambda r: others.append(r.url) if r.url != url and not r.url.startswith("data:") else None)
            t0 = time.perf_counter()
            page.goto(url, wait_until="load")
            times.append(time.perf_counter() - t0)
            page.close()
        b.close()
    return statistics.median(times), others


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--keep", type=Path, default=None, help="Folder to keep the corpus, scores and report in.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        d = args.keep or Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        corpus, scores, html = d / "articles.jsonl", d / "scores.jsonl", d / "report.html"
        build_corpus(corpus, args.n)
        exe = Path(sys.executable).parent / "annotator"
        t0 = time.perf_counter()
        res = subprocess.run([str(exe), "score", str(corpus), "-o", str(scores)], stdin=subprocess.DEVNULL)
        t_score = time.perf_counter() - t0
        if res.returncode not in (0, 1):
            sys.exit(f"bench: annotator score failed ({res.returncode})")
        t0 = time.perf_counter()
        res = subprocess.run([str(exe), "report", str(scores), "--articles", str(corpus), "--top", str(args.top),
                              "-o", str(html)], stdin=subprocess.DEVNULL)
        t_report = time.perf_counter() - t0
        if res.returncode != 0:
            sys.exit(f"bench: annotator report failed ({res.returncode})")
        size = html.stat().st_size
        load, others = browser_load(html)
        summary = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        print(f"articles: {summary['rows']:,} ({summary['scored']:,} scored, {summary['failed']:,} failed), "
              f"top {len(summary['top'])}, {len(summary['outlets'])} outlets")
        print(f"annotator score: {t_score:.1f} s; annotator report (CLI, incl. reading the texts): {t_report:.1f} s")
        print(f"report.html: {size / 2**20:.2f} MB (target < 10 MB): {'OK' if size < 10 * 2**20 else 'FAIL'}")
        print(f"browser load (median of 3): {load:.2f} s (target < 3 s): {'OK' if load < 3 else 'FAIL'}")
        print(f"requests besides the page: {len(others)}")


if __name__ == "__main__":
    main()
