"""Learning curve: does the team's annotation in Label Studio steer the model, and does the queue help?

    python bench/learning_curve.py [--rounds 25,50,100,200] [--eval 100] [--base FILE] [--base-only]

1. **Held-out articles.** The shipped model learns from every PolNeAR and PTC article the shared data
   holds (their train splits; nothing is left out), so this bench holds out a fixed random set
   (``--polnear`` + ``--ptc`` articles, seed 0) and builds a base model without them
   (``FramingModel`` with the shipped parameters on the rest of the three corpora; cached in ``--base``).
   The retrains sample their base corpora from the same rest (``retrain(base_frame=...)``).
2. **Label Studio.** A throwaway server from the tests' cached template (``TemplateServer``) on a free
   127.0.0.1 port. Two projects receive the same held-out articles with the base model's predictions:
   one annotated in import order, one in the order of the queue (``refresh_queue``: the tab "Most
   informative first", refreshed with each new model). ``--eval`` articles of the project are never
   annotated: every figure is measured on them (the project's remaining articles, the same for both
   orders and all rounds).
3. **Rounds.** Gold annotations are submitted through the API (``annotations.create``) up to 25, 50,
   100, 200 articles: PolNeAR's sources, PTC's loaded terms and a framing-risk rating from PTC's
   propaganda-density percentile (its band). After each round the project is pulled
   (``annotator.studio.pull``, the export API) and the model retrained with
   ``annotator.training.retrain`` on the pulled tables (the ML backend calls the same function; it is
   called directly here). Pulled articles keep their corpus name, so a PolNeAR article's annotation
   counts for the source labels only, a PTC article's for loaded terms (each corpus's gold marks
   only those).
4. **Figures.** Per round and order: span F1 per label (partial-overlap credit) on the evaluation
   articles whose corpus marks the label, Spearman and MAE of the risk against PTC's density
   percentile on the PTC evaluation articles, the retrain's seconds; the base model's on the first line.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator import studio as S  # noqa: E402
from annotator.corpora import load_corpora  # noqa: E402
from annotator.model.calibration import band_of  # noqa: E402
from annotator.model.files import load_model, save_skops  # noqa: E402
from annotator.model.framing import FramingModel  # noqa: E402
from annotator.spans import span_prf  # noqa: E402
from annotator.studio.queue import refresh_queue, unlabelled_tasks  # noqa: E402
from annotator.taxonomy import load_taxonomy  # noqa: E402
from annotator.training.retrain import retrain  # noqa: E402
from annotator.training.targets import training_frame  # noqa: E402

LABELS = {"polnear": ("named_source", "anonymous_source"), "ptc": ("loaded_term",)}


def held_out(frame, n_polnear, n_ptc, seed=0):
    """The held-out rows: ``n_polnear`` PolNeAR and ``n_ptc`` PTC articles, at random."""
    rng = np.random.RandomState(seed)
    parts = [frame[frame["corpus"] == c].iloc[np.sort(rng.permutation(int((frame["corpus"] == c).sum()))[:n])]
             for c, n in (("polnear", n_polnear), ("ptc", n_ptc))]
    return pd.concat(parts, ignore_index=True)


def base_model(frame, held, path: Path, say):
    """The base model without the held-out articles (built once, cached at ``path``)."""
    if path.exists():
        say(f"base model: {path} (cached)")
        return load_model(path)
    rest = frame[~frame["article_id"].isin(set(held["article_id"]))].reset_index(drop=True)
    say(f"base model: fitting on {len(rest)} corpus articles (the held-out {len(held)} left out) ...")
    t0 = time.perf_counter()
    params = load_model().get_params(deep=False)
    model = FramingModel(**params).fit(rest, rest["target"].to_numpy())
    path.parent.mkdir(parents=True, exist_ok=True)
    save_skops(model, path)
    say(f"base model: {model.model_version} in {time.perf_counter() - t0:.0f} s, saved to {path}")
    return model


def gold_annotation(row, taxonomy):
    """The Label Studio result of one held-out article's gold: its corpus's spans, and PTC's rating."""
    spans = [{"label": lab, "start": s, "end": e, "score": 1.0} for lab, s, e in row.spans]
    band = band_of(100 * row.target) if np.isfinite(row.target) else None
    return S.build_prediction(row.text, spans, "gold", taxonomy, band=None if band is None else str(band))["result"]


def evaluate(model, ev) -> dict:
    """Span F1 per label and the document figures on the evaluation rows."""
    scored = model.score(pd.DataFrame({"id": ev["article_id"], "text": ev["text"]}), evidence=0)
    out = {}
    for corpus, labels in LABELS.items():
        rows = np.flatnonzero((ev["corpus"] == corpus).to_numpy())
        for lab in labels:
            gold = [[(s, e) for l_, s, e in ev["spans"].iloc[i] if l_ == lab] for i in rows]
            pred = [[(d["start"], d["end"]) for d in scored["spans"].iloc[i] if d["label"] == lab] for i in rows]
            out[lab] = span_prf(gold, pred)["f1"]
    doc = np.isfinite(ev["target"].to_numpy(float))
    risk, target = scored["risk"].to_numpy()[doc], 100 * ev["target"].to_numpy(float)[doc]
    out["spearman"] = float(spearmanr(risk, target)[0])
    out["mae"] = float(np.abs(risk - target).mean())
    return out


def run_order(order, client, pool, ev, base, rounds, args, say, base_frame) -> list:
    """Annotate in ``order`` ("import" or "queue") round by round; the figures after each."""
    taxonomy = load_taxonomy()
    project = f"learning-curve-{order}"
    articles = pd.concat([pool, ev], ignore_index=True)
    S.push(pd.DataFrame({"id": articles["article_id"], "text": articles["text"]}), project,
           tagger=base, studio=client, progress=False)
    proj = client.get_project(project)
    tasks = unlabelled_tasks(client, proj.id, taxonomy.text_field).set_index("article_id")["task_id"]
    eval_tasks = set(tasks[ev["article_id"]].tolist())
    by_id = pool.set_index("article_id")
    model, done, lines = base, [], []
    for n in rounds:
        if order == "queue":
            queue = refresh_queue(client, proj.id, model)
            nxt = [a for a, t in zip(queue["article_id"], queue["task_id"]) if t not in eval_tasks and a not in done]
        else:
            nxt = [a for a in pool["article_id"] if a not in done]
        for aid in nxt[:n - len(done)]:
            client.call("annotate", client.sdk.annotations.create, id=int(tasks[aid]),
                        result=gold_annotation(by_id.loc[aid].rename(aid), taxonomy), lead_time=1.0, retry=False)
            done.append(aid)
        with tempfile.TemporaryDirectory() as tmp:
            ds = S.pull(project, Path(tmp) / "ds", studio=client)
        # each pulled article counts for the labels its corpus's gold marks (see the module docstring)
        ds.articles["corpus"] = ds.articles["article_id"].str.split("/").str[0]
        t0 = time.perf_counter()
        out = retrain(base, ds, holdout=0.0, base_frame=base_frame)
        secs = time.perf_counter() - t0
        model = out.model
        figs = evaluate(model, ev)
        lines.append({"order": order, "annotated": len(done), "retrain_s": round(secs, 1),
                      "weight": out.counts["team_weight"], **figs})
        say(_line(lines[-1]))
    return lines


def _line(r) -> str:
    return (f"{r['order']:<7} {r['annotated']:>4}  named {r['named_source']:.3f}  anonymous {r['anonymous_source']:.3f}"
            f"  loaded {r['loaded_term']:.3f}  | risk Spearman {r['spearman']:.3f}  MAE {r['mae']:5.1f}"
            + (f"  | retrain {r['retrain_s']:.0f} s (team weight {r['weight']:g})" if r.get("retrain_s") is not None else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", default="25,50,100,200")
    ap.add_argument("--polnear", type=int, default=200)
    ap.add_argument("--ptc", type=int, default=120)
    ap.add_argument("--eval", type=int, default=100, help="Held-out articles never annotated (the figures' set).")
    ap.add_argument("--orders", default="import,queue")
    ap.add_argument("--base", type=Path, default=None,
                    help="Base model file (built when missing; default /tmp/learning-curve/base-P-T.skops).")
    ap.add_argument("--base-only", action="store_true", help="Build the base model and stop.")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    rounds = [int(x) for x in args.rounds.split(",")]
    t_start = time.perf_counter()

    def say(msg):
        print(f"[{time.perf_counter() - t_start:6.0f} s] {msg}", flush=True)

    frame = training_frame(load_corpora(data_dir=args.data_dir))
    held = held_out(frame, args.polnear, args.ptc)
    path = args.base or Path(tempfile.gettempdir()) / "learning-curve" / f"base-{args.polnear}-{args.ptc}.skops"
    base = base_model(frame, held, path, say)
    if args.base_only:
        return
    base_frame = frame[~frame["article_id"].isin(set(held["article_id"]))].reset_index(drop=True)
    rng = np.random.RandomState(1)
    is_eval = np.zeros(len(held), bool)
    is_eval[rng.permutation(len(held))[:args.eval]] = True
    pool, ev = held[~is_eval].reset_index(drop=True), held[is_eval].reset_index(drop=True)
    say(f"project: {len(pool)} articles to annotate + {len(ev)} never annotated (figures); "
        f"{dict(ev['corpus'].value_counts())} in the evaluation set")
    say("retraining: annotator.training.retrain called directly on the pulled tables (same data path as the backend)")
    say(_line({"order": "base", "annotated": 0, **evaluate(base, ev)}))
    root = Path(tempfile.mkdtemp(prefix="learning-curve-"))
    with S.TemplateServer(S.template_cache_dir(), root, progress=False) as srv:
        client = S.Studio(S.Connection(srv.url, srv.credentials["api_key"], "bench"), timeout=120)
        results = []
        for order in args.orders.split(","):
            results += run_order(order, client, pool, ev, base, rounds, args, say, base_frame)
    print("\n".join(_line(r) for r in results))


if __name__ == "__main__":
    main()
