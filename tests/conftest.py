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

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Test-only credentials baked into the cached template (a throwaway loopback server).
STUDIO_EMAIL = "admin@annotator.test"
STUDIO_PASSWORD = "annotator-test-password"
STUDIO_TOKEN = "annotator-test-legacy-token-0123456789"


@dataclass
class StudioServer:
    url: str
    email: str
    password: str
    token: str = field(repr=False)
    data_dir: Path = None
    pid: int = 0
    template: Path = None


def studio_template_dir() -> Path:
    from annotator.studio import LS_VERSION

    if os.environ.get("ANNOTATOR_LS_TEMPLATE"):
        return Path(os.environ["ANNOTATOR_LS_TEMPLATE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "annotator" / f"ls-template-{LS_VERSION}"


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """A real Label Studio on 127.0.0.1 for the whole test session."""
    from annotator import studio as S

    if shutil.which("label-studio") is None and not (Path(sys.executable).parent / "label-studio").exists():
        pytest.skip("label-studio is not installed (pip install -e '.[studio]')")
    template = S.ensure_template(studio_template_dir(), email=STUDIO_EMAIL, password=STUDIO_PASSWORD,
                                 token=STUDIO_TOKEN)
    root = tmp_path_factory.mktemp("studio")
    ls_dir = root / "ls"
    shutil.copytree(template, ls_dir, symlinks=True)
    env = S.server_env(ls_dir)
    proc = None
    try:
        for _ in range(3):
            port = S.free_port()
            proc = S.start_server(ls_dir, port, root / "server.log", env)
            url = f"http://127.0.0.1:{port}"
            try:
                S.wait_healthy(url, proc=proc, pid=proc.pid, port=port, log_path=root / "server.log", timeout=180,
                               progress=False)
                break
            except S._PortTaken:
                S.stop_server(proc.pid, proc)
                proc = None
        else:
            pytest.fail("could not start Label Studio on a free port")
        yield StudioServer(url, STUDIO_EMAIL, STUDIO_PASSWORD, STUDIO_TOKEN, root, proc.pid, template)
    finally:
        if proc is not None:
            S.stop_server(proc.pid, proc)


@pytest.fixture(autouse=True)
def _no_ambient_studio(monkeypatch, tmp_path):
    """Keep a developer's own Label Studio settings and local server out of the tests."""
    for var in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "ANNOTATOR_STUDIO_CONFIG", "ANNOTATOR_STUDIO_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANNOTATOR_STUDIO_CONFIG", str(tmp_path / "no-studio-config.json"))
    monkeypatch.setenv("ANNOTATOR_STUDIO_DIR", str(tmp_path / "no-local-studio"))
