# The commands a newcomer needs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WORKSPACE ?= workspace/demo

.PHONY: demo test check bench bench-large install sample models assets notebook bench-plot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Ingest the sample exercise into a fresh demo workspace, run every standard job with its
## shipped model, publish the runs into the case store, create one demo user per role
## (passwords printed) and serve the review app on http://127.0.0.1:$(PORT)/.
PORT ?= 8000
demo: $(STAMP)
	rm -rf $(WORKSPACE)
	$(VENV)/bin/matching --workspace $(WORKSPACE) ingest-dir sample_data
	$(VENV)/bin/matching --workspace $(WORKSPACE) run --all
	scripts/demo-casework $(WORKSPACE) $(PORT)

## ruff and mypy.
check: $(STAMP)
	$(VENV)/bin/ruff check matching tests benchmarks
	$(VENV)/bin/mypy matching

## The whole suite: lint, types, tests; then the case store and web suites again on a
## throwaway PostgreSQL server (scripts/with-postgres; .ci/run installs it when missing).
test: check
	$(VENV)/bin/pytest -n 2 -q
	if scripts/with-postgres --check >/dev/null; then \
	  scripts/with-postgres $(VENV)/bin/pytest -q -p no:xdist tests/casework tests/web; \
	else \
	  echo "warning: no PostgreSQL server binaries (apt-get install postgresql): casework and web suites ran on SQLite only" >&2; \
	fi

## Benchmarks: print figures and ratios, write benchmarks/results/ (JSON and SUMMARY.md).
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	BENCH_SIZES=100000,1000000 $(PY) -m benchmarks

## The ten-million scale runs: too long for every benchmark run.
bench-large: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	BENCH_SYNTH_PEOPLE=10000000 BENCH_SIZES=10000000 BENCH_STANDARD_JOBS=hb-to-deceased BENCH_MEMORY_LIMIT=14GB BENCH_PREDICT_CHUNKS=3,3 $(PY) -m benchmarks synth linkage standard

## Redraw the cost-against-size plot from benchmarks/results/ into docs/bench/ (the README's).
bench-plot: $(STAMP)
	$(PY) -m benchmarks plot --readme

## Regenerate sample_data/ (byte-for-byte reproducible).
sample: $(STAMP)
	rm -rf sample_data
	$(VENV)/bin/matching synth --people 5000 --seed 20261129 --out sample_data --format csv

## Retrain every shipped model (configs/models/) on a synthetic exercise of its own seed.
MODEL_PEOPLE ?= 50000
MODEL_SEED   ?= 31337
models: $(STAMP)
	rm -rf workspace/model-training
	$(VENV)/bin/matching synth --people $(MODEL_PEOPLE) --seed $(MODEL_SEED) --out workspace/model-training/exercise --format parquet
	$(VENV)/bin/matching --workspace workspace/model-training ingest-dir workspace/model-training/exercise
	for job in $$($(VENV)/bin/matching jobs --names); do \
	  $(VENV)/bin/matching --workspace workspace/model-training train $$job --ship || exit 1; \
	done

## Install the notebook extra and start JupyterLab on this machine only
## (MATCHING_WORKSPACE=… to analyse a workspace; by default the notebooks ingest the sample).
notebook: $(STAMP)
	$(PY) -m pip install --quiet -e '.[notebook]'
	cd notebooks && ../$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser

## Refresh the committed GOV.UK Frontend CSS and JS (matching/web/static/govuk) from npm.
assets:
	bash scripts/build-assets.sh

clean:
	rm -rf $(VENV) workspace .pytest_cache .ruff_cache .mypy_cache .hypothesis
