"""Build hook: the label config, the shipped model and the seeds become package data.

People edit them in the checkout's top-level folders (``label_config/``, ``models/``, ``seeds/``);
a wheel or a non-editable ``pip install .`` copies them into ``annotator/_data/``, where
:mod:`annotator.paths` finds them when there is no checkout. ``MANIFEST.in`` puts the same
folders into the sdist, so a wheel built from the sdist holds them too.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("label_config", "models", "seeds")


class BuildWithData(build_py):
    def run(self):
        package = Path(self.build_lib) / "annotator"
        if not getattr(self, "editable_mode", False):
            # pip builds in the checkout's build/: start from an empty package there, so a module or
            # data file deleted or moved since the last build does not ship in the next wheel.
            shutil.rmtree(package, ignore_errors=True)
        super().run()
        root = Path(__file__).resolve().parent
        for name in DATA_FOLDERS:
            shutil.copytree(root / name, package / "_data" / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))


setup(cmdclass={"build_py": BuildWithData})
