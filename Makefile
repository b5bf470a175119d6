# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test model bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[studio,dask,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/annotator demo

test: $(STAMP)
	$(BIN)/python -m pytest

# Rebuild the shipped model(s) from ../shared/data with fixed seeds.
model: $(STAMP)
	$(BIN)/python scripts/build_models.py

bench: $(STAMP)
	$(BIN)/python bench/cues_eval.py

clean:
	rm -rf $(VENV) build *.egg-info
