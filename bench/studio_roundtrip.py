"""Push 10,000 articles with predictions to a real Label Studio and pull them back.

Prints, for the same data in the same run, the seconds taken by ``annotator``
(push / pull) beside the raw SDK calls they wrap (``import_tasks`` in chunks /
snapshot export + download + ``json.loads``; exports are timed twice, alternating
raw and ours, and the best of each is kept). Targets: push <= 30 s, pulling the
pushed tasks back <= 20 s, each within 1.3x of raw. A third project, the same
tasks imported with two annotations each, measures a pull of real annotation
volume (the server's export dominates it; target: within 1.3x of raw).

    python bench/studio_roundtrip.py [--n 10000] [--chunk-size 1000] [--annotated 2]

A throwaway server is started on a free 127.0.0.1 port from the cached template
(``S.template_cache_dir()``: ``$XDG_CACHE_HOME/annotator/ls-template-<version>``, made once in about 45 s) and
stopped at the end. Predictions are computed once with the cue rules and replayed,
so both sides import identical payloads and the tagger's own time is reported apart.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator import studio as S  # noqa: E402
from annotator.articles import read_articles  # noqa: E402
from annotator.paths import seed_texts  # noqa: E402
from annotator.taxonomy import load_taxonomy  # noqa: E402


def make_articles(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct articles of about 2.5 KB made by reshuffling the seeds' paragraphs."""
    rng = random.Random(seed)
    seeds = read_articles(seed_texts())
    paragraphs = [p for t in seeds["text"] for p in t.split("\n\n") if p.strip()]
    rows = []
    for i in range(n):
        k = rng.randint(4, 7)
        text = f"Report {i} 📰 — " + "\n\n".join(rng.sample(paragraphs, k))
        rows.append({"id": f"bench-{i:06d}", "text": text[:3000], "title": f"Report {i}", "date": "2026-11-01",
                     "outlet": rng.choice(["A", "B", "C"]), "url": f"https://example.org/{i}", "source": "bench",
                     "error": None})
    return pd.DataFrame(rows)


class Replay:
    """A tagger returning precomputed spans (same predictions on both sides)."""

    def __init__(self, model_version, spans_by_text):
        self.model_version = model_version
        self.spans = spans_by_text

    def tag(self, texts):
        return [self.spans[t] for t in texts]


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def raw_import(sdk, project_id, tasks, chunk_size):
    for i in range(0, len(tasks), chunk_size):
        sdk.projects.import_tasks(id=project_id, request=tasks[i:i + chunk_size], return_task_ids=True)


def raw_export(sdk, project_id):
    exp = sdk.projects.exports.create(project_id, title="raw", serialization_options={
        "predictions": {"only_id": True}, "drafts": {"only_id": True},
        "annotations__completed_by": {"only_id": False}})
    while sdk.projects.exports.get(project_id, exp.id).status not in ("completed", "failed"):
        time.sleep(0.1)
    data = json.loads(b"".join(sdk.projects.exports.download(project_id, exp.id, export_type="JSON",
                                                             request_options={"timeout_in_seconds": 600})))
    sdk.projects.exports.delete(project_id, exp.id)
    return data


def annotations_for(text, spans, tax, who, rng):
    """A plausible human annotation: most predicted spans, a rating."""
    result = []
    for i, sp in enumerate(spans):
        if rng.random() < 0.8:
            result.append({"id": f"r{i}", "from_name": tax.span_from_name, "to_name": tax.to_name, "type": "labels",
                           "value": {"start": sp["start"], "end": sp["end"], "text": sp["text"],
                                     "labels": [sp["label"]]}})
    result.append({"id": "doc", "from_name": tax.rating_from_name, "to_name": tax.to_name, "type": "choices",
                   "value": {"choices": [rng.choice(tax.rating_choices)]}})
    return {"result": result, "completed_by": who, "lead_time": rng.uniform(20, 200)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--annotated", type=int, default=2, help="annotations per task in the pull project")
    ap.add_argument("--repeat", type=int, default=2, help="exports of each kind (the best is kept)")
    args = ap.parse_args(argv)
    tax = load_taxonomy()
    cache = S.template_cache_dir()

    arts = make_articles(args.n)
    from annotator.cues import tag_texts

    spans, t_tag = timed(tag_texts, list(arts["text"]), False)
    replay = Replay("bench-rules-1", dict(zip(arts["text"], spans)))
    tasks = []
    for rec, sp in zip(arts.itertuples(index=False), spans):
        data = {tax.text_field: rec.text, "title": rec.title, "date": rec.date, "outlet": rec.outlet,
                "url": rec.url, "article_id": rec.id}
        tasks.append({"data": data, "predictions": [S.build_prediction(rec.text, sp, replay.model_version, tax)]})
    mb = len(json.dumps(tasks).encode()) / 2**20
    print(f"{args.n} articles, {mb:.1f} MB of task JSON with {sum(map(len, spans))} predicted spans "
          f"(cue rules tagged them in {t_tag:.1f} s, not counted below)", flush=True)

    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as work, \
            S.TemplateServer(cache, Path(work), progress=True) as srv:
        studio = S.Studio(S.Connection(srv.url, srv.credentials["api_key"], "bench"), timeout=300)
        sdk = studio.sdk
        # raw SDK import of the same payload, then annotator push
        raw_proj = sdk.projects.create(title="bench-raw", label_config=tax.xml)
        _, t_raw_import = timed(raw_import, sdk, raw_proj.id, tasks, args.chunk_size)
        summary, t_push = timed(S.push, arts, "bench-push", tagger=replay, studio=studio,
                                chunk_size=args.chunk_size, progress=False)
        assert (summary["status"] == "created").all(), summary["status"].value_counts()
        again, t_repush = timed(S.push, arts, "bench-push", tagger=replay, studio=studio,
                                chunk_size=args.chunk_size, progress=False)
        assert (again["status"] == "existing").all()

        # a project with annotations by two users for the pull
        users = [sdk.users.whoami().id]
        for k in range(1, args.annotated):
            users.append(sdk.users.create(username=f"bench{k}", email=f"bench{k}@annotator.localhost").id)
        rng = random.Random(1)
        annotated = [dict(t, annotations=[annotations_for(t["data"][tax.text_field], sp, tax, u, rng)
                                          for u in users])
                     for t, sp in zip(tasks, spans)]
        ann_proj = sdk.projects.create(title="bench-annotated", label_config=tax.xml)
        _, t_ann_import = timed(raw_import, sdk, ann_proj.id, annotated, args.chunk_size)
        # exports vary run to run with the server's state: alternate raw and ours, keep the best of 2
        push_id = studio.get_project("bench-push").id
        t_raw_export = t_pull = t_raw_export2 = t_pull2 = float("inf")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", S.StudioWarning)
            for _ in range(args.repeat):
                raw, t = timed(raw_export, sdk, ann_proj.id)
                t_raw_export = min(t_raw_export, t)
                ds, t = timed(S.pull, "bench-annotated", Path(work) / "dataset", studio=studio)
                t_pull = min(t_pull, t)
                assert len(ds.articles) == args.n == len(raw)
                # the push project too (predictions only, no annotation)
                raw2, t = timed(raw_export, sdk, push_id)
                t_raw_export2 = min(t_raw_export2, t)
                ds2, t = timed(S.pull, "bench-push", Path(work) / "dataset2", studio=studio)
                t_pull2 = min(t_pull2, t)

    print()
    print(f"{'step':<48} {'annotator':>10} {'raw SDK':>9} {'ratio':>6}  target")
    rows = [
        (f"push {args.n} new tasks with predictions", t_push, t_raw_import, "<= 30 s, <= 1.3x"),
        (f"pull them back ({args.n} tasks, no annotation)", t_pull2, t_raw_export2, "<= 20 s, <= 1.3x"),
        (f"push the same {args.n} again (all existing)", t_repush, None, ""),
        (f"pull {args.n} tasks, {len(ds.documents)} annotations, {len(ds.spans)} spans", t_pull, t_raw_export,
         "<= 1.3x"),
        ("(raw import of those annotated tasks)", None, t_ann_import, ""),
    ]
    for name, ours, raw_t, target in rows:
        o = f"{ours:9.1f}s" if ours is not None else f"{'':>10}"
        r = f"{raw_t:8.1f}s" if raw_t is not None else f"{'':>9}"
        ratio = f"{ours / raw_t:5.2f}x" if ours and raw_t else f"{'':>6}"
        print(f"{name:<48} {o} {r} {ratio}  {target}")
    ok = (t_push <= 30 and t_push <= 1.3 * t_raw_import and t_pull2 <= 20 and t_pull2 <= 1.3 * t_raw_export2
          and t_pull <= 1.3 * t_raw_export)
    print("\ntargets met" if ok else "\ntargets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
