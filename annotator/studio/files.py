"""The files the studio package reads and writes: file names, JSON state/credentials/config, CSV outputs.

Writes go through :mod:`annotator.io` (atomic; credentials with mode 0600).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import pandas as pd

from ..io import atomic_output
from .errors import StudioError

__all__ = ["STATE_FILE", "CREDENTIALS_FILE", "ANNOTATORS_FILE", "LOG_FILE", "read_json", "write_csv", "utc_now"]

STATE_FILE = "state.json"
CREDENTIALS_FILE = "credentials.json"
#: generated passwords of the annotators added to the local server (mode 0600)
ANNOTATORS_FILE = "annotators.json"
LOG_FILE = "server.log"


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``; ``None`` when it is missing, :class:`StudioError` when unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StudioError(f"{path}: unreadable ({exc.__class__.__name__}): remove it and retry") from None


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to CSV atomically."""
    with atomic_output(path, "w") as f:
        frame.to_csv(f, index=False)


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (stamped into state files, exports and dataset meta)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
