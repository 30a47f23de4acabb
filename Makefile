# Every target creates .venv itself when needed; only Python 3.11+ is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/reconstructed_cohort.csv
PARAMS ?= analysis.toml

.DEFAULT_GOAL := help
.PHONY: help setup run test test-fast lint format lab notebooks validate template reconstruct benchmark benchmark-loop benchmark-batch batch git-filter lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -c requirements.lock -e '.[dev]'
	@# Byte-compiled as pip would (a file that does not compile is skipped, as pip skips it), but
	@# without the packages' own test suites: a fifth of the files, and nothing here imports them.
	$(BIN)/python -c 'import compileall, os, re, sysconfig; [compileall.compile_dir(d, quiet=2, rx=re.compile(r"[/\\]tests?[/\\]")) for d in {os.path.realpath(sysconfig.get_path(k)) for k in ("purelib", "platlib")}]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv with the pinned packages

run: $(STAMP) ## Run every notebook with analysis.toml (PARAMS=file for another, DATA=file for other data)
	@# --data only when DATA is given: otherwise the data_path of the parameter file
	$(BIN)/python -m pipeline run --params $(PARAMS) $(if $(filter command line environment,$(origin DATA)),--data $(DATA)) --force

test: $(STAMP) lint ## Run every test: style checks, unit tests, pipeline tests and nbval on the notebooks, on two workers
	@# One session: the notebooks checked by nbval are one xdist group, run in order on one
	@# worker (notebook 06 reads what 01-05 wrote); tests/conftest.py groups the rest.
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-current-env -n 2 --dist loadgroup

test-fast: $(STAMP) ## Unit tests only (no notebooks, no pipeline runs)
	$(BIN)/python -m pytest tests -m "not slow" -n 2

lint: $(STAMP) ## Check style: ruff lint on code and notebooks, ruff format on code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Fix what ruff can: import order, then layout of helpers/, pipeline/, tests/
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: $(STAMP) ## Open the notebooks in JupyterLab, in the project's environment
	cd notebooks && ../$(BIN)/jupyter lab

notebooks: $(STAMP) ## Re-execute the notebooks in place to refresh their stored outputs
	$(BIN)/python -m pipeline refresh-notebooks

validate: $(STAMP) ## Check a cohort file against the data contract (DATA=file)
	$(BIN)/python -m pipeline validate $(DATA)

template: $(STAMP) ## Write the empty cohort template data/template.csv and data/template.xlsx from the contract
	$(BIN)/python -m pipeline validate --template data

reconstruct: $(STAMP) ## Regenerate data/reconstructed_cohort.csv from the published figures
	$(BIN)/python -m pipeline reconstruct

benchmark: $(STAMP) ## Time the pipeline at several cohort sizes and print ratios
	$(BIN)/python -m benchmarks

benchmark-loop: $(STAMP) ## Time `make run` against a plain papermill + nbconvert loop, side by side
	$(BIN)/python -m benchmarks.against_plain_loop --data $(DATA)

batch: $(STAMP) ## Run the analysis for each centre of DATA (centres under MIN patients pooled) into outputs/batch
	$(BIN)/python -m pipeline batch $(DATA) --by center --min-patients $(or $(MIN),10) --out outputs/batch

benchmark-batch: $(STAMP) ## Time a batch of centre-level runs against the same runs one after another
	$(BIN)/python -m benchmarks.batch

git-filter: $(STAMP) ## Set up the git filter that strips outputs of notebooks run on other data before a commit
	git config filter.shipped-outputs-only.clean '$(abspath $(BIN))/python -m pipeline.notebook_guard'
	git config filter.shipped-outputs-only.smudge cat
	@echo "notebooks/*.ipynb are now committed with outputs only when those come from the shipped cohort"

lock: ## Re-resolve requirements.lock from pyproject.toml (needs network)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	( echo '# Exact versions of every package in the environment (pip constraints file).'; \
	  echo '# Regenerate with `make lock` after changing pyproject.toml.'; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | sort -f ) > requirements.lock
	rm -rf .lock-venv

clean: ## Remove .venv and run outputs
	rm -rf $(VENV) outputs/*/ .pytest_cache
