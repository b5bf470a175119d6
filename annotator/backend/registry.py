"""The backend's data dir: per-project model files and a registry JSON of their versions, written atomically.

Layout under the data dir (``~/.local/share/annotator/backend``, ``ANNOTATOR_BACKEND_DIR`` or ``--data-dir``)::

    projects/<project id>/registry.json        versions, the one served, the last training result
    projects/<project id>/models/<version>.skops
    server.json                                 the running server (pid, url), mode 0600
    backend.log

A model file is written by the training job through :func:`annotator.io.atomic_output` (a temporary
``.<name>.*.tmp`` beside it, renamed when complete) and only then listed in the registry (also
written atomically). :func:`Registry.sweep` removes what a killed job can leave: temporary files,
and model files that no registry entry names.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError
from ..io import write_json_atomic
from ..studio.files import read_json, utc_now

__all__ = ["default_data_dir", "Registry", "VersionEntry", "version_name"]


def default_data_dir() -> Path:
    """``ANNOTATOR_BACKEND_DIR``, else ``$XDG_DATA_HOME/annotator/backend`` (``~/.local/share/...``)."""
    if os.environ.get("ANNOTATOR_BACKEND_DIR"):
        return Path(os.environ["ANNOTATOR_BACKEND_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "annotator" / "backend"


def version_name(project_id: int, n: int) -> str:
    """The version (and Label Studio backend title) of a project's ``n``-th retrained model."""
    return f"annotator-p{int(project_id)}-v{int(n)}"


@dataclass(frozen=True)
class VersionEntry:
    """One trained model of a project, as the registry lists it."""

    version: str
    file: str
    created_at: str
    #: articles, team articles, team spans... (what the job reports)
    counts: dict
    #: held-out and out-of-fold figures of the fit
    figures: dict
    seconds: float


class Registry:
    """The registry of one project: ``registry.json`` and its ``models/`` folder.

    ``current`` is the served version (``None``: the base model); ``last_training`` the last
    job's outcome (``ok``, ``failed``, ``unreachable``...), shown by ``annotator backend status``.
    """

    def __init__(self, data_dir, project_id: int):
        self.project_id = int(project_id)
        self.root = Path(data_dir) / "projects" / str(self.project_id)
        self.path = self.root / "registry.json"
        self.models_dir = self.root / "models"

    # reading
    def read(self) -> dict:
        data = read_json(self.path) if self.path.is_file() else None
        return data or {"project_id": self.project_id, "current": None, "versions": [], "last_training": None}

    def versions(self) -> list[VersionEntry]:
        return [VersionEntry(**v) for v in self.read()["versions"]]

    def current(self) -> VersionEntry | None:
        """The served entry, ``None`` for the base model."""
        data = self.read()
        return next((VersionEntry(**v) for v in data["versions"] if v["version"] == data["current"]), None)

    def model_path(self, version: str) -> Path:
        return self.models_dir / f"{version}.skops"

    def next_version(self) -> str:
        """The version name the next trained model gets (never reused, also after a rollback)."""
        taken = [int(m.group(1)) for v in self.read()["versions"]
                 if (m := re.search(r"-v(\d+)$", v["version"]))]
        return version_name(self.project_id, max(taken, default=0) + 1)

    # writing
    def add(self, entry: VersionEntry, *, serve: bool = True) -> None:
        """List a model whose file is complete; serve it unless ``serve`` is false."""
        if not (self.root / entry.file).is_file():
            raise AnnotatorError(f"{self.root / entry.file}: model file missing, not registered")
        data = self.read()
        data["versions"] = [v for v in data["versions"] if v["version"] != entry.version] + [entry.__dict__]
        if serve:
            data["current"] = entry.version
        write_json_atomic(self.path, data)

    def set_current(self, version: str | None) -> None:
        """Serve ``version`` (``None``: the base model); :class:`AnnotatorError` when unknown."""
        data = self.read()
        if version is not None and version not in {v["version"] for v in data["versions"]}:
            known = ", ".join(v["version"] for v in data["versions"]) or "none yet"
            raise AnnotatorError(f"project {self.project_id} has no model version {version!r} (versions: {known})")
        data["current"] = version
        write_json_atomic(self.path, data)

    def record_training(self, outcome: dict) -> None:
        """Keep the last job's outcome (``status``, ``message``, ``finished_at``...)."""
        data = self.read()
        data["last_training"] = {**outcome, "finished_at": outcome.get("finished_at") or utc_now()}
        write_json_atomic(self.path, data)

    def sweep(self) -> list[Path]:
        """Remove temporary files and unregistered model files (what a killed job leaves); the removed paths."""
        removed = []
        known = {v["file"] for v in self.read()["versions"]}
        for folder in (self.root, self.models_dir):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                stale = p.name.startswith(".") and p.name.endswith(".tmp")
                orphan = folder == self.models_dir and p.suffix == ".skops" and \
                    f"models/{p.name}" not in known
                if p.is_file() and (stale or orphan):
                    p.unlink(missing_ok=True)
                    removed.append(p)
        return removed


def project_ids(data_dir) -> list[int]:
    """Projects that have a registry under ``data_dir``."""
    root = Path(data_dir) / "projects"
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "registry.json").is_file())
