"""Learning curve: does the team's annotation in Label Studio steer the model, and does the queue help?

    python bench/learning_curve.py [--rounds 25,50,100,200] [--eval 100] [--base FILE] [--base-only]
                                   [--via backend|direct] [--orders import,queue] [--seeds 0,1]

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
   propaganda-density percentile (its band). Each task's data names its corpus (``corpus``), which
   a pull keeps, so a PolNeAR article's annotation counts for the source labels only, a PTC
   article's for loaded terms (each corpus's gold marks only those).

   ``--via backend`` (the default): ``annotator backend serve`` runs as a process (its own data dir,
   the bench's base model), connected to the project through the API; Label Studio's annotation
   webhooks make it retrain (debounced), the bench polls the backend's registry until the model it
   serves was trained on every submitted annotation, and evaluates that model file (the one
   ``/versions`` says is current). ``--via direct``: the project is pulled after each round and
   ``annotator.training.retrain`` called on the pulled tables in this process (the same function the
   backend's job calls). The queue order reads the tab "Most informative first" as Label Studio
   lists it (before the first retrain: the scores the base model's predictions carry; after each:
   those the backend's refresh wrote). ``--seeds``: runs per order (seed 0 is the import order
   itself; other seeds shuffle the import order, and pick the queue's top among ties the same way).
4. **Figures.** Per round and order: span F1 per label (partial-overlap credit) on the evaluation
   articles whose corpus marks the label, Spearman and MAE of the risk against PTC's density
   percentile on the PTC evaluation articles, the retrain's seconds; the base model's on the first line.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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
from annotator.backend.link import connect_project  # noqa: E402
from annotator.backend.registry import Registry  # noqa: E402
from annotator.studio.projects import ensure_project  # noqa: E402
from annotator.studio.tasks import import_tasks  # noqa: E402
from annotator.studio.queue import TAB_TITLE, queue_view, refresh_queue, unlabelled_tasks  # noqa: E402
from annotator.studio.server import free_port  # noqa: E402
from annotator.studio.task_data import task_data  # noqa: E402
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


class BackendProcess:
    """``annotator backend serve`` as a process of its own (data dir, port), stopped by its pid."""

    def __init__(self, data_dir: Path, studio_url: str, api_key: str, model: Path, debounce: float, budget=None):
        self.data_dir, self.port = data_dir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "annotator", "backend", "serve", "--port", str(self.port), "--data-dir",
               str(data_dir), "--studio-url", studio_url, "--model", str(model), "--debounce", str(debounce)]
        cmd += ["--train-budget", str(budget)] if budget else []
        env = dict(os.environ, LABEL_STUDIO_API_KEY=api_key,
                   PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "backend.out"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"backend exited: {self.log.read_text(errors='replace')[-1500:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"backend did not answer /health in 300 s (log {self.log})")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)

    def served_model(self, pid: int, n_done: int, timeout: float, say):
        """Wait until the model served to ``pid`` was trained on ``n_done`` annotated articles and no job
        is queued or running; return its registry entry and its file."""
        t0, last = time.monotonic(), None
        while time.monotonic() - t0 < timeout:
            reg = Registry(self.data_dir, pid)
            cur, training = reg.current(), reg.read().get("last_training") or {}
            st = httpx.get(self.url + "/status", timeout=30).json().get("training") or {}
            busy = st.get("running") or any(q["project_id"] == pid for q in st.get("queue", []))
            served = httpx.get(self.url + "/versions", params={"project": pid}, timeout=30).json().get("current")
            if cur and not busy and served == cur.version and cur.counts.get("annotated_articles") == n_done:
                return cur, reg.root / cur.file
            if training.get("status") not in (None, "ok") and not busy:
                raise SystemExit(f"the backend's retrain failed: {training}")
            state = f"{'training' if st.get('running') else 'queued' if busy else 'idle'}, serving {served}"
            if state != last:
                say(f"  backend: {state}")
                last = state
            time.sleep(3)
        raise SystemExit(f"no retrain on {n_done} articles within {timeout:.0f} s (log {self.log})")


def _import_project(client, title, articles, taxonomy) -> tuple[int, dict]:
    """A project of the articles, each task's data naming its corpus (what a pull keeps); no predictions."""
    proj, _created = ensure_project(client, title, taxonomy)
    rows = pd.DataFrame({"article_id": articles["article_id"], "text": articles["text"], "title": None, "date": None,
                         "outlet": None, "url": None})
    tasks = [{"data": {**task_data(r, taxonomy.text_field), "corpus": c}}
             for r, c in zip(rows.itertuples(index=False), articles["corpus"])]
    ids = import_tasks(client, proj.id, tasks)
    return int(proj.id), {str(a): int(t) for a, t in ids.items()}


def _tab_order(client, project_id) -> list:
    """Task ids as the saved tab "Most informative first" lists them (what "Label Tasks As Displayed" serves)."""
    views = [v for v in client.sdk.views.list(project=project_id) if (v.data or {}).get("title") == TAB_TITLE]
    tasks = client.sdk.tasks.list(project=project_id, view=views[0].id, fields="task_only", page_size=1000)
    return [int(t.id) for t in tasks]


def run_order_backend(order, client, srv, pool, ev, base_path, rounds, args, say) -> list:
    """Annotate in ``order`` round by round through Label Studio and a backend process; figures after each."""
    taxonomy = load_taxonomy()
    backend = BackendProcess(Path(tempfile.mkdtemp(prefix=f"lc-backend-{order}-")), srv.url,
                             srv.credentials["api_key"], base_path, args.debounce, args.train_budget)
    try:
        pid, tasks = _import_project(client, f"learning-curve-{order}-s{args.seed}",
                                     pd.concat([pool, ev], ignore_index=True), taxonomy)
        link = connect_project(client, pid, backend.url)
        say(f"{order}: project {pid}, backend {backend.url} connected as {link['title']}")
        if order == "queue":  # the base model's predictions, with the score the queue orders by
            refresh_queue(client, pid, load_model(base_path), model_version=link["title"])
        eval_tasks = {tasks[a] for a in ev["article_id"]}
        by_id, by_task = pool.set_index("article_id"), {t: a for a, t in tasks.items()}
        done, lines = [], []
        for n in rounds:
            if order == "queue":
                nxt = [by_task[t] for t in _tab_order(client, pid) if t not in eval_tasks and by_task[t] not in done]
            else:
                nxt = [a for a in pool["article_id"] if a not in done]
            for aid in nxt[:n - len(done)]:
                client.call("annotate", client.sdk.annotations.create, id=tasks[aid],
                            result=gold_annotation(by_id.loc[aid].rename(aid), taxonomy), lead_time=1.0, retry=False)
                done.append(aid)
            say(f"{order}: {len(done)} annotations submitted; waiting for the backend's retrain")
            entry, path = backend.served_model(pid, len(done), args.timeout, say)
            model = load_model(path)
            lines.append({"order": order, "annotated": len(done), "retrain_s": entry.seconds,
                          "weight": entry.counts.get("team_weight", float("nan")), "version": entry.version,
                          **evaluate(model, ev)})
            say(_line(lines[-1]))
        return lines
    finally:
        backend.stop()


def run_order(order, client, pool, ev, base, rounds, args, say, base_frame) -> list:
    """Annotate in ``order`` ("import" or "queue") round by round; the figures after each."""
    taxonomy = load_taxonomy()
    project = f"learning-curve-{order}-direct-s{getattr(args, 'seed', 0)}"
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
    ap.add_argument("--via", choices=("backend", "direct"), default="backend",
                    help="Retrain through a backend process (webhooks) or by calling retrain here.")
    ap.add_argument("--seeds", default="0", help="Runs per order: seed 0 is the fixed split; others draw another "
                                                  "evaluation set and shuffle the import order.")
    ap.add_argument("--debounce", type=float, default=20.0, help="The backend's --debounce (seconds).")
    ap.add_argument("--train-budget", type=int, default=None, help="The backend's --train-budget (dev runs: small).")
    ap.add_argument("--timeout", type=float, default=3600.0, help="Seconds to wait for one round's retrain.")
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
    results = []
    for seed in [int(x) for x in args.seeds.split(",")]:
        args.seed = seed
        rng = np.random.RandomState(1 + seed)
        is_eval = np.zeros(len(held), bool)
        is_eval[rng.permutation(len(held))[:args.eval]] = True
        pool, ev = held[~is_eval].reset_index(drop=True), held[is_eval].reset_index(drop=True)
        if seed:
            pool = pool.iloc[rng.permutation(len(pool))].reset_index(drop=True)
        say(f"seed {seed}: {len(pool)} articles to annotate + {len(ev)} never annotated (figures); "
            f"{dict(ev['corpus'].value_counts())} in the evaluation set")
        say(f"retraining via {args.via}")
        results.append({"order": "base", "annotated": 0, **evaluate(base, ev)})
        say(_line(results[-1]))
        root = Path(tempfile.mkdtemp(prefix="learning-curve-"))
        with S.TemplateServer(S.template_cache_dir(), root, progress=False) as srv:
            client = S.Studio(S.Connection(srv.url, srv.credentials["api_key"], "bench"), timeout=120)
            for order in args.orders.split(","):
                if args.via == "backend":
                    results += run_order_backend(order, client, srv, pool, ev, path, rounds, args, say)
                else:
                    results += run_order(order, client, pool, ev, base, rounds, args, say, base_frame)
    print("\n".join(_line(r) for r in results))


if __name__ == "__main__":
    main()
