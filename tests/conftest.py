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
    """Keep a developer's own Label Studio settings, local server and backend out of the tests."""
    for var in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANNOTATOR_STUDIO_CONFIG", str(tmp_path / "no-studio-config.json"))
    monkeypatch.setenv("ANNOTATOR_STUDIO_DIR", str(tmp_path / "no-local-studio"))
    monkeypatch.setenv("ANNOTATOR_BACKEND_DIR", str(tmp_path / "no-local-backend"))
    for var in ("ANNOTATOR_BACKEND_USER", "ANNOTATOR_BACKEND_PASSWORD"):
        monkeypatch.delenv(var, raising=False)


# --- The shared corpora (ANNOTATOR_DATA_DIR or ../shared/data): skip, naming what is missing ------------
#
# A test that reads a corpus says so with the marker, e.g. ``@pytest.mark.corpora("ptc")`` (all three
# corpora when none is named; ``pytestmark = pytest.mark.corpora()`` for a whole module). A fixture that
# loads every corpus (a model trained on ``("corpora",)``) takes the session fixture ``corpora``; one that
# reads some takes ``require_corpora`` and calls it, e.g. ``require_corpora("ptc") / "ptc-semeval2020"``.
# Without the data these tests are skipped with a message naming the missing folder, not errors.

#: What each corpus loader in annotator.corpora reads, relative to the data folder.
CORPUS_PATHS = {"ptc": "ptc-semeval2020", "polnear": "polnear/train", "szeged": "szeged-wiki/wiki-train.xml"}


def missing_corpora(names=()) -> list:
    """Paths of the named corpora (all when none is named) that the data folder does not hold."""
    from annotator.paths import DATA_DIR

    unknown = set(names) - set(CORPUS_PATHS)
    if unknown:
        raise ValueError(f"unknown corpus {sorted(unknown)}; known: {', '.join(CORPUS_PATHS)}")
    return [DATA_DIR / CORPUS_PATHS[n] for n in names or CORPUS_PATHS if not (DATA_DIR / CORPUS_PATHS[n]).exists()]


def _missing_message(missing) -> str:
    return f"{', '.join(map(str, missing))} not found: set ANNOTATOR_DATA_DIR"


def _skip_without(*names) -> Path:
    """The data folder if it holds the named corpora (all when none is named), else skip the test."""
    from annotator.paths import DATA_DIR

    missing = missing_corpora(names)
    if missing:
        pytest.skip(_missing_message(missing))
    return DATA_DIR


def pytest_collection_modifyitems(config, items):
    """A test marked ``corpora(...)`` whose corpora are missing is skipped before its fixtures are built."""
    for item in items:
        missing = [path for mark in item.iter_markers("corpora") for path in missing_corpora(mark.args)]
        if missing:
            item.add_marker(pytest.mark.skip(reason=_missing_message(dict.fromkeys(missing))))


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The shared data folder, holding all three corpora (else the test is skipped)."""
    return _skip_without()


@pytest.fixture(scope="session")
def require_corpora():
    """``require_corpora("ptc", ...)``: the data folder if it holds those corpora, else skip the test."""
    return _skip_without
