"""Importers: the public corpora in ``../shared/data`` as :class:`~annotator.dataset.Dataset`.

Each importer gives the same table shape a Label Studio pull produces, so training
has one input shape. The corpus → taxonomy mapping is data
(``label_config/corpora.toml``); see README "Corpus mapping" for its known gaps.

* PTC (SemEval-2020 Task 11): technique spans; ``Loaded_Language`` and
  ``Name_Calling,Labeling`` → ``loaded_term``. All technique spans are kept in
  ``meta["technique_spans"]`` (article-level propaganda-density target).
* PolNeAR: BRAT ``Source`` spans → ``named_source`` or ``anonymous_source`` (by the
  anonymous-head lexicon), except a source made only of pronouns (``pronoun_lexicon``), which
  names no one; cues of source-less attributions matching the report-cue
  lexicon → ``unverified_claim``. One annotator per article (the first ``.ann``).
* Szeged WikiWeasel: doxastic cues → ``unverified_claim``. One Wikipedia document per
  article, one sentence per line (so sentence-level scoring can split on ``\\n``).
* Hyperpartisan (SemEval-2019 Task 4, by-article development part): no spans; each article's
  label (hyperpartisan or not) and site are kept in ``meta["document_labels"]``, a document
  target of the framing score only (grouped by site when cross-validated).
"""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from .articles import read_articles
from .corpus_mapping import corpus_mapping
from .cues.lexicons import is_anonymous, lexicon_regex, read_lexicon
from .dataset import Dataset, concat
from .errors import AnnotatorError
from .paths import DATA_DIR, SEEDS_DIR, seed_texts
from .taxonomy import load_taxonomy

__all__ = ["load_ptc", "load_polnear", "polnear_annotations", "load_szeged", "load_hyperpartisan", "load_seeds", "load_corpora", "LOADERS", "PUBLIC_CORPORA"]


def _require(path: Path) -> Path:
    if not path.exists():
        raise AnnotatorError(f"{path}: corpus not found (set ANNOTATOR_DATA_DIR to the folder holding ptc-semeval2020/, polnear/, szeged-wiki/)")
    return path


def load_ptc(data_dir: str | os.PathLike | None = None, limit: int | None = None) -> Dataset:
    """PTC SemEval-2020 Task 11 train split as a Dataset."""
    root = _require(Path(data_dir or DATA_DIR) / "ptc-semeval2020")
    techniques = corpus_mapping()["ptc"]["techniques"]
    files = sorted((root / "train-articles").glob("article*.txt"))[:limit]
    arts, docs, spans, all_spans = [], [], [], []
    for f in files:
        num = f.stem[len("article"):]
        aid = f"ptc/{num}"
        with open(f, encoding="utf-8", newline="") as fh:
            text = fh.read()
        title = text.split("\n", 1)[0]
        arts.append((aid, text, title, "ptc"))
        docs.append((aid, "ptc"))
        lab = root / "train-labels-task2-technique-classification" / f"article{num}.task2-TC.labels"
        if lab.exists():
            for line in lab.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) != 4:
                    continue
                tech, s, e = parts[1], int(parts[2]), int(parts[3])
                all_spans.append((aid, tech, s, e))
                if tech in techniques:
                    spans.append((aid, "ptc", techniques[tech], s, e, text[s:e]))
    ds = Dataset(
        pd.DataFrame(arts, columns=["article_id", "text", "title", "corpus"]),
        pd.DataFrame(docs, columns=["article_id", "annotator"]),
        pd.DataFrame(spans, columns=["article_id", "annotator", "label", "start", "end", "text"]),
        {"corpus": "ptc", "path": str(root)},
    )
    ds.meta["technique_spans"] = pd.DataFrame(all_spans, columns=["article_id", "technique", "start", "end"])
    return ds


_BRAT_T = re.compile(r"^(T\d+)\t(\S+) ([\d; ]+)\t(.*)$")
#: A word, as the span vetting sees it (annotator.cues.vetting).
_WORD = re.compile(r"\w+(?:['’.-]\w+)*")


def polnear_annotations(root: Path) -> dict:
    """PolNeAR article name -> its first annotator's attribution file (``<name>_<annotator>.ann``)."""
    anns = {}
    for f in sorted((root / "attributions").glob("*.ann")):
        anns.setdefault(f.stem.rsplit("_", 1)[0], f)
    return anns


def _only_words(text: str, words: frozenset) -> bool:
    """Whether ``text`` has words and every one is in ``words`` (lower-case)."""
    found = _WORD.findall(text)
    return bool(words) and bool(found) and all(w.lower() in words for w in found)


def load_polnear(data_dir: str | os.PathLike | None = None, limit: int | None = None) -> Dataset:
    """PolNeAR v1.0 train split as a Dataset (first annotator of each article)."""
    root = _require(Path(data_dir or DATA_DIR) / "polnear" / "train")
    cfg = corpus_mapping()["polnear"]
    heads = lexicon_regex(cfg["anonymous_lexicon"])
    report = lexicon_regex(cfg["unsourced_cue_lexicon"])
    pronouns = frozenset(read_lexicon(cfg["pronoun_lexicon"])) if cfg.get("pronoun_lexicon") else frozenset()
    meta = pd.read_csv(root / "metadata.tsv", sep="\t", dtype=str)
    meta = meta.set_index("filename")
    anns = polnear_annotations(root)
    arts, docs, spans = [], [], []
    names = sorted(p.stem for p in (root / "text").glob("*.txt"))[:limit]
    for name in names:
        aid = f"polnear/{name}"
        with open(root / "text" / f"{name}.txt", encoding="utf-8", newline="") as fh:
            text = fh.read()
        m = meta.loc[name] if name in meta.index else None
        arts.append((aid, text, None if m is None else m["title"], None if m is None else m["publication_date"],
                     None if m is None else m["publisher"], "polnear"))
        if name not in anns:
            continue
        annotator = "polnear:" + anns[name].stem.rsplit("_", 1)[1]
        docs.append((aid, annotator))
        tspans, events = {}, []
        for line in anns[name].read_text(encoding="utf-8").splitlines():
            mt = _BRAT_T.match(line)
            if mt:
                frags = [tuple(map(int, fr.split())) for fr in mt.group(3).split(";")]
                tspans[mt.group(1)] = (mt.group(2), frags)
            elif line.startswith("E"):
                events.append(dict(x.split(":", 1) for x in line.split("\t", 1)[1].split()))
        for tid, (role, frags) in tspans.items():
            if role != "Source":
                continue
            for s, e in frags:
                surface = text[s:e]
                if _only_words(surface, pronouns):
                    continue  # a pronoun names no one (corpora.toml, pronoun_lexicon)
                label = cfg["anonymous_label"] if is_anonymous(surface, heads) else cfg["source_label"]
                spans.append((aid, annotator, label, s, e, surface))
        for ev in events:
            if "Attribution-no-source" in ev and ev.get("Cue") in tspans:
                for s, e in tspans[ev["Cue"]][1]:
                    if report.search(text[s:e]):
                        spans.append((aid, annotator, cfg["unsourced_cue_label"], s, e, text[s:e]))
    return Dataset(
        pd.DataFrame(arts, columns=["article_id", "text", "title", "date", "outlet", "corpus"]),
        pd.DataFrame(docs, columns=["article_id", "annotator"]),
        pd.DataFrame(spans, columns=["article_id", "annotator", "label", "start", "end", "text"]),
        {"corpus": "polnear", "path": str(root)},
    )


def load_szeged(data_dir: str | os.PathLike | None = None, limit: int | None = None) -> Dataset:
    """Szeged WikiWeasel (train part) as a Dataset: one sentence per line per document."""
    path = _require(Path(data_dir or DATA_DIR) / "szeged-wiki" / "wiki-train.xml")
    cue_types = corpus_mapping()["szeged"]["cue_types"]
    arts, docs, spans = [], [], []
    root = ET.parse(path).getroot()
    for n, doc in enumerate(root.iter("Document")):
        if limit is not None and n >= limit:
            break
        aid = f"szeged/{(doc.findtext('DocID') or str(n)).strip()}"
        pieces, pos, title = [], 0, None
        for part in doc.iter("DocumentPart"):
            for sent in part.iter("Sentence"):
                chunks = [sent.text or ""]
                for child in sent:
                    ctext = "".join(child.itertext())
                    start = pos + sum(map(len, chunks))
                    ctype = (child.get("type") or "").strip()
                    if child.tag == "ccue":
                        for prefix, label in cue_types.items():
                            if ctype.startswith(prefix):
                                spans.append((aid, "szeged", label, start, start + len(ctext), ctext))
                    chunks.append(ctext)
                    chunks.append(child.tail or "")
                stext = "".join(chunks).replace("\n", " ")
                if part.get("type") == "Title" and title is None:
                    title = stext
                pieces.append(stext)
                pos += len(stext) + 1
        text = "\n".join(pieces)
        arts.append((aid, text, title, "szeged"))
        docs.append((aid, "szeged"))
    return Dataset(
        pd.DataFrame(arts, columns=["article_id", "text", "title", "corpus"]),
        pd.DataFrame(docs, columns=["article_id", "annotator"]),
        pd.DataFrame(spans, columns=["article_id", "annotator", "label", "start", "end", "text"]),
        {"corpus": "szeged", "path": str(path)},
    )


def load_hyperpartisan(data_dir: str | os.PathLike | None = None, limit: int | None = None) -> Dataset:
    """The hyperpartisan development set as a Dataset: articles, no spans, labels in ``meta["document_labels"]``
    (``article_id``, ``rating``: the framing-risk rating a label stands for, per corpora.toml, and ``site``)."""
    path = _require(Path(data_dir or DATA_DIR) / "hyperpartisan-semeval2019-dev" / "articles.jsonl")
    ratings = {int(k): v for k, v in corpus_mapping()["hyperpartisan"]["label_ratings"].items()}
    for rating in ratings.values():
        if rating not in load_taxonomy().rating_choices:
            raise AnnotatorError(f"corpora.toml: hyperpartisan rating {rating!r} is not a framing_risk choice")
    arts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if limit is not None and len(arts) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                aid = f"hyperpartisan/{row['id']}"
                arts.append((aid, row["text"], row.get("title"), row.get("date"), row["site"], "hyperpartisan"))
                labels.append((aid, ratings[int(row["label"])], row["site"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise AnnotatorError(f"{path}:{n}: bad article row ({exc})") from None
    ds = Dataset(
        pd.DataFrame(arts, columns=["article_id", "text", "title", "date", "outlet", "corpus"]),
        pd.DataFrame({"article_id": [a[0] for a in arts], "annotator": "hyperpartisan"}),
        pd.DataFrame(columns=["article_id", "annotator", "label", "start", "end", "text"]),
        {"corpus": "hyperpartisan", "path": str(path)},
    )
    ds.meta["document_labels"] = pd.DataFrame(labels, columns=["article_id", "rating", "site"])
    return ds


def load_seeds(data_dir=None, limit: int | None = None) -> Dataset:
    """The five seed articles with their annotations (ratings, example spans and reliability).

    ``data_dir`` is accepted for a uniform loader signature and ignored: the seeds live in the
    repository. The spans are the guidelines' examples, not an exhaustive annotation (see
    ``annotates`` in corpora.toml); the ratings are document targets.
    """
    arts = read_articles(seed_texts(), errors="raise")[:limit]
    rows = [json.loads(line) for line in (SEEDS_DIR / "annotations.jsonl").read_text(encoding="utf-8").splitlines() if line]
    keep = set(arts["id"])
    docs = [(r["article_id"], r["annotator"], r["framing_risk"]) for r in rows if r["article_id"] in keep]
    spans = [(r["article_id"], r["annotator"], s["label"], s["start"], s["end"], s["text"], s.get("reliability"))
             for r in rows if r["article_id"] in keep for s in r["spans"]]
    for sp_ in spans:
        load_taxonomy().check_label(sp_[2])
    return Dataset(
        pd.DataFrame({"article_id": arts["id"], "text": arts["text"], "title": arts["title"], "date": arts["date"],
                      "corpus": "seeds"}),
        pd.DataFrame(docs, columns=["article_id", "annotator", "framing_risk"]),
        pd.DataFrame(spans, columns=["article_id", "annotator", "label", "start", "end", "text", "reliability"]),
        {"corpus": "seeds", "path": str(SEEDS_DIR)},
    )


LOADERS = {"ptc": load_ptc, "polnear": load_polnear, "szeged": load_szeged, "hyperpartisan": load_hyperpartisan,
           "seeds": load_seeds}
#: The public corpora under the data folder (every loader but the seeds): the default everywhere.
PUBLIC_CORPORA = tuple(name for name in LOADERS if name != "seeds")


def load_corpora(names=PUBLIC_CORPORA, data_dir=None, limit=None) -> Dataset:
    """Several corpora stacked into one Dataset (an unknown name is an error listing the known ones)."""
    unknown = set(names) - set(LOADERS)
    if unknown:
        raise AnnotatorError(f"unknown corpus {sorted(unknown)}; known: {', '.join(LOADERS)}")
    parts = [LOADERS[n](data_dir, limit) for n in names]
    out = concat(parts)
    for key in ("technique_spans", "document_labels"):
        tables = [p.meta[key] for p in parts if key in p.meta]
        if tables:
            out.meta[key] = pd.concat(tables, ignore_index=True)
    return out
