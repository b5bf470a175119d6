"""The models the server holds: the base model loaded once, each project's served model, swapped under a lock.

A request takes a :class:`Served` record (model and version) under the lock and predicts outside
it, so a swap after retraining (one reference assignment under the lock) never blocks or mixes a
prediction: a request in flight finishes with the model it took.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

from ..model.files import load_model
from .registry import Registry

__all__ = ["Served", "ModelHolder"]


class Served(NamedTuple):
    """A model and the version the backend reports for it (the Label Studio backend title)."""

    model: object
    version: str


class ModelHolder:
    """The base model (``base_path``, loaded once at start) and each project's served model.

    Parameters
    ----------
    data_dir : path
        The backend data dir (:mod:`annotator.backend.registry`).
    base_path : path or None
        The base model file (default: the shipped model).
    """

    def __init__(self, data_dir, base_path=None):
        self.data_dir = Path(data_dir)
        self.base_path = base_path
        self._lock = threading.Lock()
        self._base: Served | None = None
        self._projects: dict[int, Served] = {}

    @property
    def loaded(self) -> bool:
        """Whether the base model is loaded."""
        return self._base is not None

    def load_base(self) -> Served:
        """Load the base model (once)."""
        with self._lock:
            if self._base is None:
                model = load_model(self.base_path)
                self._base = Served(model, str(model.model_version))
            return self._base

    def base(self) -> Served:
        return self._base if self._base is not None else self.load_base()

    def get(self, project_id: int | None) -> Served:
        """The model serving ``project_id``: its registry's current version, else the base model."""
        if project_id is None:
            return self.base()
        with self._lock:
            served = self._projects.get(project_id)
        if served is not None:
            return served
        entry = Registry(self.data_dir, project_id).current()
        if entry is None:
            served = self.base()
        else:
            served = Served(load_model(Registry(self.data_dir, project_id).root / entry.file), entry.version)
        with self._lock:
            return self._projects.setdefault(project_id, served)

    def version(self, project_id: int | None) -> str:
        """The version ``project_id`` is served (cheap: no model load once served)."""
        if project_id is not None:
            with self._lock:
                served = self._projects.get(project_id)
            if served is not None:
                return served.version
            entry = Registry(self.data_dir, project_id).current()
            if entry is not None:
                return entry.version
        return self.base().version

    def swap(self, project_id: int, version: str | None) -> Served:
        """Load ``version`` of the project (``None``: the base model) and serve it from now on."""
        reg = Registry(self.data_dir, project_id)
        if version is None:
            served = self.base()
        else:
            entry = next(v for v in reg.versions() if v.version == version)
            served = Served(load_model(reg.root / entry.file), entry.version)
        with self._lock:
            self._projects[project_id] = served
        return served
