"""Build hook: the label config, the shipped model and the seeds become package data.

People edit them in the checkout's top-level folders (``label_config/``, ``models/``, ``seeds/``);
a wheel or a non-editable ``pip install .`` copies them into ``annotator/_data/``, where
:mod:`annotator.paths` finds them when there is no checkout.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("label_config", "models", "seeds")


class BuildWithData(build_py):
    def run(self):
        super().run()
        root = Path(__file__).resolve().parent
        for name in DATA_FOLDERS:
            target = Path(self.build_lib) / "annotator" / "_data" / name
            shutil.copytree(root / name, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))


setup(cmdclass={"build_py": BuildWithData})
