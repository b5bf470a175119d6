# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test model bench clean chromium screenshots

# pip prints each package it collects and installs (no progress bars, which a log shows as noise):
# a first run downloads about 200 packages, several minutes with nothing else to show for it.
$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing annotator and its dependencies into $(VENV) (several minutes on a first run)"
	$(BIN)/python -m pip install --progress-bar off --disable-pip-version-check -e '.[studio,dask,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/annotator demo

# The tests, then the check that models/framing.skops is what this commit builds (a rebuild, ~2-7 min).
test: $(STAMP) chromium
	$(BIN)/python -m pytest
	$(BIN)/python scripts/check_model.py

# Debian's headless Chromium for the report tests and screenshots (CI runs as root, no stdin).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; fi

# PNG screenshots of both reports (the seeds' scoring report, the shipped model's training report) and of
# a Label Studio task pre-annotated by the shipped model (out/studio-task.png, out/studio-source-region.png;
# a throwaway server on 127.0.0.1, not your local one); then README's two images of the model in the loop
# (docs/img/studio-live-prediction.png, docs/img/studio-queue-tab.png: the same kind of throwaway server, the ML
# backend started beside it).
screenshots: $(STAMP) chromium
	$(BIN)/annotator score seeds -o out/seeds.jsonl; test $$? -le 1
	$(BIN)/annotator report out/seeds.jsonl --articles seeds -o out/seeds-report.html --screenshot out/seeds-report.png
	$(BIN)/annotator report models/framing.skops -o out/training-report.html --screenshot out/training-report.png
	$(BIN)/python scripts/studio_screenshots.py --out out
	$(BIN)/python scripts/backend_screenshots.py --out docs/img

# Rebuild the shipped model(s) from ../shared/data with fixed seeds.
model: $(STAMP)
	$(BIN)/python scripts/build_models.py

# The benchmarks behind README's figures: cue-tagger cross-validation, then batch scoring.
bench: $(STAMP)
	$(BIN)/annotator evaluate
	$(BIN)/python bench/score.py

clean:
	rm -rf $(VENV) build *.egg-info
