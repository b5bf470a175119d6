"""A plain install works without the checkout: build the sdist and the wheel, install it, run the CLI.

The wheel is built as ``python -m build`` does (an sdist first, the wheel from the unpacked sdist, so
MANIFEST.in is checked too) with the setuptools of the running environment (no build isolation, no
download) from a copy of the source (the checkout's own ``build/`` is left alone). It is installed
with ``--no-deps`` into a fresh virtual environment that sees the running environment's dependencies
through a ``.pth`` file, and the installed ``annotator`` command runs from a folder outside the
checkout, on a copy of the seeds: it must find the label config, the lexicons and the shipped model
as package data.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("annotator", "label_config", "models", "seeds", "setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in",
          "README.md")
DATA_FOLDERS = ("label_config", "models", "seeds")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
#: Variables that would point the installed package back at the checkout's folders.
CHECKOUT_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "ANNOTATOR_LABEL_CONFIG_DIR",
                      "ANNOTATOR_MODELS_DIR", "ANNOTATOR_SEEDS_DIR")


def _run(args, cwd, env=None, timeout=600) -> subprocess.CompletedProcess:
    __tracebackhide__ = True  # a failure shows the command's output, not the environment passed to it
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{args} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _clean_env() -> dict:
    """The environment without anything that would point the installed package back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in CHECKOUT_VARIABLES}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _data_files() -> set:
    """The files of label_config/, models/ and seeds/ in the checkout, as wheel paths."""
    out = set()
    for name in DATA_FOLDERS:
        for path in (ROOT / name).rglob("*"):
            rel = path.relative_to(ROOT)
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                out.add("annotator/_data/" + rel.as_posix())
    return out


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, src / name)
    _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))",
          tmp / "sdist"], cwd=src)
    (sdist,) = (tmp / "sdist").glob("annotator-*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (unpacked,) = (tmp / "unpacked").iterdir()
    _run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "--progress-bar", "off",
          "-w", tmp / "dist", unpacked], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("annotator-*.whl")
    return wheel


def _venv_with_wheel(tmp: Path, wheel: Path) -> tuple[Path, Path]:
    """A fresh venv holding only the wheel; the running environment's packages are seen via a .pth file."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    _run([*PIP, "--python", python, "install", "--no-deps", "--no-index", "--no-cache-dir", "--progress-bar", "off",
          wheel], cwd=tmp, env=_clean_env())
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp, env=_clean_env()).stdout.strip())
    # written after the install, so pip did not see the running environment's (editable) annotator
    deps = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    deps = [p for p in deps if Path(p).is_dir()]
    (purelib / "zz-project-dependencies.pth").write_text("".join(p + "\n" for p in deps), encoding="utf-8")
    return venv, purelib


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed: pip install -e '.[test]' (builds the wheel without a download)")
    tmp = tmp_path_factory.mktemp("install")
    wheel = _build_wheel(tmp)
    venv, purelib = _venv_with_wheel(tmp, wheel)
    work = tmp / "elsewhere"
    shutil.copytree(ROOT / "seeds", work / "SEEDS")
    return {"wheel": wheel, "venv": venv, "purelib": purelib, "cwd": work}


def annotator(installed, *args) -> subprocess.CompletedProcess:
    __tracebackhide__ = True
    return _run([installed["venv"] / "bin" / "annotator", *args], cwd=installed["cwd"], env=_clean_env())


def test_wheel_holds_the_package_data(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    data = {n for n in names if n.startswith("annotator/_data/")}
    assert data == _data_files()
    for required in ("label_config/framing.xml", "label_config/cues.toml", "label_config/corpora.toml",
                     "label_config/guidelines.md", "label_config/rules_measured.json",
                     "label_config/lexicons/span_edges.toml", "models/framing.skops", "models/framing.md",
                     "seeds/annotations.jsonl"):
        assert "annotator/_data/" + required in names
    assert len([n for n in data if n.startswith("annotator/_data/label_config/lexicons/") and n.endswith(".txt")]) >= 3
    assert len([n for n in data if n.startswith("annotator/_data/seeds/") and n.endswith(".txt")]) == 5
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "annotator").rglob("*.py")}
    assert modules == {n for n in names if n.endswith(".py")}
    assert {p.relative_to(ROOT).as_posix() for p in (ROOT / "annotator" / "templates").glob("*.j2")} <= names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/", "label_config/", "models/"))]


def test_installed_package_finds_its_data_in_the_venv(installed):
    code = ("import json, annotator, annotator.paths as p; print(json.dumps({'file': annotator.__file__, "
            "'checkout': p.CHECKOUT and str(p.CHECKOUT), 'label_config': str(p.LABEL_CONFIG_DIR), "
            "'model': str(p.DEFAULT_MODEL), 'seeds': str(p.SEEDS_DIR)}))")
    found = json.loads(_run([installed["venv"] / "bin" / "python", "-c", code], cwd=installed["cwd"],
                            env=_clean_env()).stdout)
    package = installed["purelib"] / "annotator"
    assert found["checkout"] is None
    assert Path(found["file"]) == package / "__init__.py"
    assert Path(found["label_config"]) == package / "_data" / "label_config"
    assert Path(found["model"]) == package / "_data" / "models" / "framing.skops"
    assert Path(found["seeds"]) == package / "_data" / "seeds"
    assert (Path(found["label_config"]) / "framing.xml").is_file() and Path(found["model"]).is_file()


def test_installed_cli_tags_scores_and_reports_outside_the_checkout(installed):
    cwd = installed["cwd"]
    tagged = annotator(installed, "tag", "SEEDS", "-o", "spans.jsonl")
    assert "tagged 5 articles, 0 out of scope, 0 with errors" in tagged.stderr + tagged.stdout
    spans = [json.loads(line) for line in (cwd / "spans.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(spans) == 5 and all(r["spans"] and r["error"] is None for r in spans)

    annotator(installed, "score", "SEEDS", "-o", "out.jsonl")
    scores = [json.loads(line) for line in (cwd / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in scores] == [r["id"] for r in spans]
    assert all(r["error"] is None and 0 <= r["risk"] <= 100 and r["spans"] for r in scores)

    annotator(installed, "report", "out.jsonl", "--articles", "SEEDS", "-o", "r.html")
    html = (cwd / "r.html").read_text(encoding="utf-8")
    assert all(r["id"] in html for r in scores) and (cwd / "r.json").is_file()

    model = installed["purelib"] / "annotator" / "_data" / "models" / "framing.skops"
    annotator(installed, "report", model, "-o", "training.html")
    assert (cwd / "training.html").stat().st_size > 10_000 and (cwd / "training.json").is_file()

    # the installed package tags exactly as the checkout does
    here = CliRunner().invoke(main, ["tag", str(cwd / "SEEDS"), "-o", str(cwd / "checkout-spans.jsonl")])
    assert here.exit_code == 0, here.output
    assert (cwd / "checkout-spans.jsonl").read_text(encoding="utf-8") == (cwd / "spans.jsonl").read_text(encoding="utf-8")