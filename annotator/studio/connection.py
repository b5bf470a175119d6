"""Which Label Studio to talk to and with which key: :class:`Connection` and :func:`resolve_connection`.

Any Label Studio, found in this order (the first that names a URL wins):

1. the ``url=`` / ``api_key=`` arguments (CLI: ``--url``; the key has no CLI
   option so that it never lands in shell history or ``ps``);
2. the environment: ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``;
3. a config file: ``$ANNOTATOR_STUDIO_CONFIG``, else
   ``$XDG_CONFIG_HOME/annotator/studio.json`` (``~/.config/...``), a JSON
   object ``{"url": ..., "api_key": ...}`` (keep it mode 0600);
4. the local server started by ``annotator studio up`` (its ``state.json``
   and ``credentials.json``; ``--data-dir`` / ``ANNOTATOR_STUDIO_DIR``).

When the source that gave the URL has no key, ``LABEL_STUDIO_API_KEY`` is
used. The key is a personal access token (a JWT refresh token; the SDK
exchanges it for short-lived access tokens) or a legacy token. It is never
printed, logged or written into outputs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .errors import StudioError
from .files import read_json
from .local import LocalStudio

__all__ = ["Connection", "config_file", "resolve_connection"]


@dataclass(frozen=True)
class Connection:
    """Where a Label Studio is and how to authenticate (the key never shows in ``repr``)."""

    url: str
    api_key: str = field(repr=False)
    source: str = ""


class _Candidate(NamedTuple):
    url: str | None
    api_key: str | None
    source: str


def config_file() -> Path:
    """``$ANNOTATOR_STUDIO_CONFIG``, else ``$XDG_CONFIG_HOME/annotator/studio.json``."""
    if os.environ.get("ANNOTATOR_STUDIO_CONFIG"):
        return Path(os.environ["ANNOTATOR_STUDIO_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "annotator" / "studio.json"


def _candidates(url, api_key, data_dir, env_key) -> list[_Candidate]:
    out = []
    if url or api_key:
        out.append(_Candidate(url, api_key, "arguments"))
    if os.environ.get("LABEL_STUDIO_URL"):
        out.append(_Candidate(os.environ["LABEL_STUDIO_URL"], env_key, "LABEL_STUDIO_URL"))
    cfg_path = config_file()
    cfg = read_json(cfg_path) if cfg_path.is_file() else None
    if cfg:
        out.append(_Candidate(cfg.get("url"), cfg.get("api_key"), str(cfg_path)))
    local = LocalStudio(data_dir)
    st = local.state()
    if st and st.get("url"):
        creds = local.credentials() or {}
        out.append(_Candidate(st["url"], creds.get("api_key"), f"local server ({local.data_dir})"))
    return out


def resolve_connection(url: str | None = None, api_key: str | None = None,
                       data_dir: str | os.PathLike | None = None) -> Connection:
    """Find the Label Studio to talk to (order in the module docstring)."""
    env_key = os.environ.get("LABEL_STUDIO_API_KEY") or None
    for u, k, src in _candidates(url, api_key, data_dir, env_key):
        if not u:
            continue
        k = k or env_key
        if not k:
            raise StudioError(f"no API key for Label Studio at {u} (from {src}): set LABEL_STUDIO_API_KEY to a "
                              "personal access token (Account & Settings) or a legacy token")
        if not re.match(r"^https?://", u):
            raise StudioError(f"Label Studio URL {u!r} (from {src}) must start with http:// or https://")
        return Connection(u.rstrip("/"), k, src)
    raise StudioError("no Label Studio configured: run 'annotator studio up', or set LABEL_STUDIO_URL and "
                      "LABEL_STUDIO_API_KEY")
