"""Shared fixtures.

``studio_server`` (session scope) runs a real Label Studio from the installed
``label-studio`` package on a free 127.0.0.1 port with a temporary data dir.
The data dir is a copy of a migrated template made once with ``label-studio
init`` (about 45 s) and cached in ``$XDG_CACHE_HOME/annotator/ls-template-<version>``
(``~/.cache/...``; override with ``ANNOTATOR_LS_TEMPLATE``); each session then
starts in about 5 s. The server is stopped by its PID at the end of the session,
also when tests fail or the session is interrupted.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class StudioServer:
    url: str
    email: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    data_dir: Path = None
    pid: int = 0
    template: Path = None


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """A real Label Studio on 127.0.0.1 for the whole test session (stopped by PID at the end)."""
    from annotator.studio import TemplateServer, template_cache_dir

    if shutil.which("label-studio") is None and not (Path(sys.executable).parent / "label-studio").exists():
        pytest.skip("label-studio is not installed (pip install -e '.[studio]')")
    root = tmp_path_factory.mktemp("studio")
    with TemplateServer(template_cache_dir(), root, progress=False) as srv:
        c = srv.credentials
        yield StudioServer(srv.url, c["email"], c["password"], c["api_key"], root, srv.proc.pid, srv.template)


@pytest.fixture(autouse=True)
def _no_ambient_studio(monkeypatch, tmp_path):
    """Keep a developer's own Label Studio settings and local server out of the tests."""
    for var in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANNOTATOR_STUDIO_CONFIG", str(tmp_path / "no-studio-config.json"))
    monkeypatch.setenv("ANNOTATOR_STUDIO_DIR", str(tmp_path / "no-local-studio"))
