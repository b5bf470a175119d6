"""The scope check measured: how often it rules English prose out, and what it costs next to scoring.

1. False out-of-scope rate: :func:`annotator.articles.scope.check_scope` on every article of the
   English corpora (PTC, PolNeAR, the hyperpartisan development set, Szeged Wikipedia), with the
   reasons and the first texts ruled out (the hyperpartisan set holds a few pages that are not
   English: those are right to go).
2. Cost: on ``--articles`` PTC articles (whole texts, about 5.4 KB each), in one process, the scope
   check of a chunk and the shipped model's ``score`` of the same chunk, interleaved chunk by
   chunk (``--rounds`` passes; the machine may be busy, so only the ratio in the same run is
   meaningful), plus the detector alone on the texts the English fast path does not settle.

    python bench/scope.py
    python bench/scope.py --articles 500 --rounds 5 --skip-corpora
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ANNOTATOR_DATA_DIR", ROOT.parent / "shared" / "data"))


def corpora() -> dict:
    from annotator.corpora import load_polnear, load_ptc, load_szeged

    out = {"PTC": load_ptc(DATA).articles["text"].tolist(), "PolNeAR": load_polnear(DATA).articles["text"].tolist()}
    hyp = DATA / "hyperpartisan-semeval2019-dev" / "articles.jsonl"
    if hyp.is_file():
        out["hyperpartisan"] = [json.loads(ln)["text"] for ln in hyp.open(encoding="utf-8") if ln.strip()]
    out["Szeged Wikipedia"] = load_szeged(DATA).articles["text"].tolist()
    return out


def false_out_of_scope() -> None:
    from annotator.articles.scope import scope_reasons

    print("| corpus | texts | out of scope | rate | reasons |")
    print("|---|---|---|---|---|")
    shown = []
    for name, texts in corpora().items():
        reasons = scope_reasons(texts)
        out = [(r, t) for r, t in zip(reasons, texts) if r is not None]
        kinds = Counter(r if r.startswith("language") else r.split(":")[0] for r, _ in out)
        print(f"| {name} | {len(texts):,} | {len(out)} | {len(out) / len(texts):.2%} "
              f"| {', '.join(f'{k} {v}' for k, v in kinds.most_common()) or '-'} |")
        shown += [(name, r, t) for r, t in out[:5]]
    for name, r, t in shown:
        print(f"    {name}: {r}: {' '.join(t.split())[:110]!r}")


def cost(n: int, rounds: int, chunksize: int = 128) -> None:
    import pandas as pd

    from annotator.articles import scope
    from annotator.model import load_model

    files = sorted((DATA / "ptc-semeval2020" / "train-articles").glob("*.txt"))
    texts = [files[i % len(files)].read_text(encoding="utf-8") for i in range(n)]
    chunks = [texts[i:i + chunksize] for i in range(0, n, chunksize)]
    model = load_model()
    scope.scope_reasons(texts[:10])  # load the detector
    model.score(pd.DataFrame({"id": ["w"], "text": [texts[0]]}))
    check_s, score_s = [], []
    for _ in range(rounds):
        c = s = 0.0
        for chunk in chunks:
            t0 = time.perf_counter()
            scope.scope_reasons(chunk)
            t1 = time.perf_counter()
            model.score(pd.DataFrame({"id": [str(i) for i in range(len(chunk))], "text": chunk}))
            t2 = time.perf_counter()
            c += t1 - t0
            s += t2 - t1
        check_s.append(c)
        score_s.append(s)
    t0 = time.perf_counter()
    for t in texts:
        scope.detect_language(t)
    detect_s = time.perf_counter() - t0
    ratios = [c / s for c, s in zip(check_s, score_s)]
    print(f"\n{n:,} PTC articles ({sum(map(len, texts)) / n:,.0f} characters each), chunks of {chunksize}, "
          f"{rounds} interleaved rounds, one process:")
    print(f"  scope check {statistics.median(check_s) / n * 1000:.3f} ms/article, model.score "
          f"{statistics.median(score_s) / n * 1000:.3f} ms/article; scope / score "
          f"{statistics.median(ratios):.3f} (median; runs {', '.join(f'{r:.3f}' for r in ratios)})")
    print(f"  the detector alone on every article's first {scope.SAMPLE_CHARS:,} characters (what the English "
          f"fast path saves): {detect_s / n * 1000:.3f} ms/article")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-corpora", action="store_true", help="only the cost")
    args = ap.parse_args(argv)
    if not args.skip_corpora:
        false_out_of_scope()
    cost(args.articles, args.rounds)


if __name__ == "__main__":
    main()
