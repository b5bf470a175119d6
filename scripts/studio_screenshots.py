"""PNG screenshots of a Label Studio task pre-annotated by the shipped model, as an annotator sees it.

    python scripts/studio_screenshots.py [--out out]      # part of `make screenshots`

Starts a throwaway Label Studio on 127.0.0.1 (a copy of the migrated template,
:class:`annotator.studio.TemplateServer`; your own local server is not touched),
pushes the seeds with the shipped framing model, logs in with headless Chromium
(Playwright driving Debian's ``/usr/bin/chromium``, or ``$CHROMIUM``) and opens
the riskiest seed. Writes:

* ``OUT/studio-task.png``: the task as opened: pre-filled spans, the framing-risk
  rating from the model's band, title and metadata in the header;
* ``OUT/studio-source-region.png``: the same task with an anonymous-source region
  selected: its reliability choice, pre-filled, beside the text.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from annotator.articles import read_articles
from annotator.model import load_model
from annotator.paths import seed_texts
from annotator.report.screenshot import CHROMIUM_FLAGS
from annotator.studio import TemplateServer, connect, push, template_cache_dir
from annotator.taxonomy import load_taxonomy

PROJECT = "annotator screenshots"


def _push_seeds(url: str, api_key: str) -> tuple[int, int, str]:
    """Push the seeds with the shipped model; ``(project id, task id, anonymous-source text)`` of the riskiest."""
    studio = connect(url, api_key)
    model = load_model()
    seeds = read_articles(seed_texts())
    summary = push(seeds, PROJECT, tagger=model, studio=studio, progress=False)
    scores = model.score(seeds)
    riskiest = scores.sort_values("risk", ascending=False).iloc[0]
    anon = next(lab for lab in load_taxonomy().reliability_prefill)  # a label whose reliability is pre-filled
    span = next(s for s in riskiest["spans"] if s["label"] == anon)
    task = int(summary.loc[summary["article_id"] == riskiest["id"], "task_id"].item())
    print(f"pushed {len(summary)} seeds; task {task}: {riskiest['id']}, risk {riskiest['risk']} "
          f"({riskiest['band']}); selecting the {anon} region {span['text']!r}")
    return int(summary["project_id"].iloc[0]), task, span["text"]


def _shoot(url: str, email: str, password: str, project: int, task: int, region_text: str, out: Path,
           chromium: str) -> None:
    from playwright.sync_api import sync_playwright  # optional: the test extra

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS[1:]))
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{url}/user/login/")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)
            page.goto(f"{url}/projects/{project}/data?task={task}")
            page.wait_for_selector(".htx-highlight", timeout=120_000)
            page.wait_for_timeout(1500)  # let the side panels settle
            page.screenshot(path=str(out / "studio-task.png"))
            page.locator(".htx-highlight", has_text=region_text).first.click()
            page.wait_for_selector("text=Reliability of the selected source", timeout=30_000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "studio-source-region.png"))
        finally:
            browser.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("out"))
    args = ap.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("studio_screenshots: chromium not found (make chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="annotator-shots-") as work:
        with TemplateServer(template_cache_dir(), Path(work), progress=True) as srv:
            c = srv.credentials
            project, task, region = _push_seeds(srv.url, c["api_key"])
            _shoot(srv.url, c["email"], c["password"], project, task, region, args.out, chromium)
    print(f"wrote {args.out / 'studio-task.png'} and {args.out / 'studio-source-region.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
