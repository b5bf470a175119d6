"""Which data a training run uses: the team's pulled datasets, the corpora under them, and the id rule.

A source is a dataset folder written by ``annotator pull`` (or a :class:`~annotator.dataset.Dataset`):
the *team's* data; or a corpus name (a key of :data:`annotator.corpora.LOADERS`, ``corpora`` for
the three public ones). When no corpus is named, ``base_corpora`` form the base (in
:func:`~annotator.training.train`: the public corpora). An article id in the team's data wins over
the same id in a corpus (the demo project's tasks are the seeds), and team articles nobody has
annotated yet are left out (they would teach the tagger that they hold no cue).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..corpora import LOADERS, PUBLIC_CORPORA
from ..dataset import Dataset, concat, read_dataset
from ..errors import AnnotatorError

__all__ = ["TrainingData", "gather", "load_training_data"]


@dataclass
class TrainingData:
    """What a training run learns from.

    Attributes
    ----------
    dataset : Dataset
        Corpora and team data stacked, each article once (team ids win).
    team_ids : frozenset
        Ids of the team's articles in ``dataset`` (annotated ones only).
    team_names : list of str
        The team's datasets (folder names, or the corpus column of a Dataset given directly).
    corpora : tuple of str
        Corpus names loaded.
    notes : list of str
        One-line explanations of what was done with the data (replaced ids, skipped articles).
    """

    dataset: Dataset
    team_ids: frozenset = frozenset()
    team_names: list = field(default_factory=list)
    corpora: tuple = ()
    notes: list = field(default_factory=list)

    @property
    def team(self) -> Dataset:
        """The team's part of ``dataset``."""
        return self.dataset.subset(self.team_ids)

    @property
    def corpus_part(self) -> Dataset:
        """The corpora's part of ``dataset``."""
        return self.dataset.subset(set(self.dataset.articles["article_id"]) - self.team_ids)


def _split(sources, base_corpora) -> tuple[list, tuple]:
    """(team datasets as (name, Dataset), corpus names), the base added when no corpus is named."""
    team, corpora = [], []
    for src in sources:
        if isinstance(src, Dataset):
            name = ", ".join(sorted(set(src.articles["corpus"].dropna()))) or "dataset"
            team.append((name, src))
        elif src == "corpora":
            corpora += list(PUBLIC_CORPORA)
        elif src in LOADERS:
            corpora.append(src)
        elif Path(src).is_dir():
            team.append((Path(src).name, read_dataset(src)))
        else:
            raise AnnotatorError(f"{src}: not a dataset folder nor a corpus name ({', '.join(LOADERS)}, corpora)")
    if not corpora and team:
        corpora = list(base_corpora)
    return team, tuple(dict.fromkeys(corpora))


#: Per-article tables a corpus keeps in its ``meta`` (technique spans, document labels).
_META_TABLES = ("technique_spans", "document_labels")


def _stack(parts) -> Dataset:
    """Datasets stacked (ids must not collide), PTC's technique spans and document labels kept."""
    out = parts[0] if len(parts) == 1 else concat(parts)
    for key in _META_TABLES:
        tables = [p.meta[key] for p in parts if key in p.meta]
        if tables:
            out.meta[key] = pd.concat(tables, ignore_index=True)
    return out


def _load_corpora(names, data_dir, limit, say) -> list:
    parts = []
    for name in names:
        t0 = time.perf_counter()
        part = LOADERS[name](data_dir, limit)
        say(f"loaded corpus {name}: {len(part):,} articles ({time.perf_counter() - t0:.1f} s)")
        parts.append(part)
    return parts


def _annotated_team(team, notes) -> list:
    """The team's datasets without the articles nobody annotated (no judgement, or only cancelled ones)."""
    out = []
    for name, ds in team:
        docs = ds.documents[~ds.documents["cancelled"]]
        done = set(docs["article_id"]) | set(ds.spans["article_id"])
        waiting = int((~ds.articles["article_id"].isin(done)).sum())
        if waiting:
            notes.append(f"team dataset {name}: {waiting} of {len(ds)} articles have no annotation yet: left out")
            ds = ds.subset(done)
        out.append((name, ds))
    return out


def _team_wins(corpus: Dataset, team_ids: set, notes) -> Dataset:
    """The corpora without the articles whose id the team's data holds (the team's copy is kept)."""
    clash = corpus.articles["article_id"].isin(team_ids)
    if not clash.any():
        return corpus
    per = corpus.articles.loc[clash, "corpus"].value_counts().sort_index()
    notes.append("the team's own copy wins over the same article id in a corpus: "
                 + ", ".join(f"{n} of {c}" for c, n in per.items()) + " replaced")
    keep = corpus.subset(set(corpus.articles["article_id"]) - team_ids)
    for key in _META_TABLES:
        table = corpus.meta.get(key)
        if table is not None:
            keep.meta[key] = table[~table["article_id"].isin(team_ids)].reset_index(drop=True)
    return keep


def gather(sources, *, data_dir=None, limit=None, base_corpora=(), progress=None) -> TrainingData:
    """Load the training data: the team's datasets and the corpora (see the module docstring).

    Parameters
    ----------
    sources : sequence of str, path or Dataset
    data_dir : path of the shared corpora (default ``annotator.paths.DATA_DIR``)
    limit : int, optional
        At most this many articles per corpus.
    base_corpora : sequence of str
        Corpora loaded when ``sources`` names none but holds team data.
    progress : callable(str), optional
    """
    say = progress or (lambda msg: None)
    team, names = _split(sources, base_corpora)
    notes = []
    team = _annotated_team(team, notes)
    if len(team) > 1:
        ids = pd.concat([ds.articles["article_id"] for _, ds in team])
        if ids.duplicated().any():
            raise AnnotatorError(f"the same article ids in two team datasets ({', '.join(n for n, _ in team)}): "
                                 f"{sorted(set(ids[ids.duplicated()]))[:5]}; pull the project once, or train on one")
    team_ids = set().union(*(set(ds.articles["article_id"]) for _, ds in team)) if team else set()
    parts = [_team_wins(_stack(_load_corpora(names, data_dir, limit, say)), team_ids, notes)] if names else []
    parts += [ds for _, ds in team]
    if not parts or not sum(map(len, parts)):
        raise AnnotatorError("no training data given" if not parts else "no annotated article in the training data")
    return TrainingData(_stack([p for p in parts if len(p)] or parts[:1]), frozenset(team_ids), [n for n, _ in team],
                        names, notes)


def load_training_data(sources, data_dir=None, limit=None, *, base_corpora=()) -> Dataset:
    """Datasets by name, stacked: corpus names (``corpora`` for the public ones) and/or dataset folders
    from ``annotator pull`` (see :func:`gather`; no corpus is added unless ``base_corpora`` says so)."""
    return gather(sources, data_dir=data_dir, limit=limit, base_corpora=base_corpora).dataset
