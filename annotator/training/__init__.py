"""Training the framing model from a team's pulled datasets and/or the shared corpora.

Modules: :mod:`~annotator.training.sources` (which data: the team's datasets, the corpora under
them, the id rule), :mod:`~annotator.training.targets` (document targets; whether the team's
ratings are used), :mod:`~annotator.training.run` (:func:`train`: weights, fitting, figures),
:mod:`~annotator.training.metrics` (the figures and their text), :mod:`~annotator.training.retrain`
(:func:`retrain`: the fast path the annotation loop takes, on a sample of the corpora) and
:mod:`~annotator.training.progress` (a line per stage with the elapsed seconds).
"""
from __future__ import annotations

from .metrics import describe_metrics
from .retrain import Retrained, retrain
from .run import TEAM_WEIGHT, train
from .sources import TrainingData, gather, load_training_data
from .targets import MIN_TEAM_RATINGS, propaganda_density, training_frame

__all__ = ["load_training_data", "gather", "TrainingData", "training_frame", "train", "propaganda_density",
           "describe_metrics", "TEAM_WEIGHT", "MIN_TEAM_RATINGS", "retrain", "Retrained"]
