# Two commands from a fresh clone: `make demo` and `make test` (both install first).
# The install is idempotent: a second run installs nothing.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.genomicdl-installed
CORES ?= 2

.PHONY: install system-deps demo demo-identical resume report test lint format clean-results bench-check

install: $(STAMP) system-deps

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# PyTorch first, pinned: the CPU wheel here, the CUDA build on a GPU machine.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[test]'
	touch $@

# bedtools (for pybedtools) and chromium (to check the HTML report) from apt when
# missing and we are root; else say what to do.
APT_DEPS := bedtools:bedtools chromium:chromium

system-deps:
	@missing=""; for dep in $(APT_DEPS); do command -v $${dep%%:*} >/dev/null || missing="$$missing $${dep##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing with apt-get:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing:$$missing -- install with apt-get install$$missing (bedtools also: conda install -c bioconda bedtools)"; \
	    case "$$missing" in *bedtools*) exit 1;; esac; \
	  fi; \
	fi

demo: install
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores $(CORES) --report results/report.html

# The demo's outputs at BASE and at HEAD, byte for byte (tables without timing columns,
# predicted bigWigs): a refactoring must change none. make demo-identical BASE=<commit>
demo-identical: install
	$(BIN)/python bench/demo_identical.py --base $(BASE) --cores $(CORES)

# After a crash or kill -9: one command. Refuses while a Snakemake still runs here, removes
# the lock a killed run left (snakemake --unlock), then reruns with --rerun-incomplete.
# ARGS: the killed run's own arguments (e.g. ARGS="--configfile config/benchmarks/X.yaml").
resume:
	@test -x $(BIN)/python || { echo "no $(BIN): run make demo (or make install) first"; exit 1; }
	$(BIN)/python -m genomicdl.core.resume --cores $(CORES) $(ARGS)

report: install
	$(BIN)/snakemake --report results/report.html

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check workflow/Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt workflow/Snakefile workflow/rules

clean-results:
	rm -rf resources data models results logs benchmarks

# Before you stop, when you touched a measured path (preprocess, store, genome preparation):
# the preprocess bench at 10^6 windows (appended to bench/history/preprocess.jsonl), then its
# ratios to the common path against the earlier records of this machine; a drop beyond the
# run-to-run noise (docs/performance.md) fails. Not a test: it takes a few minutes.
bench-check:
	@test -x $(BIN)/python || { echo "no $(BIN): run make install first"; exit 1; }
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python bench/preprocess.py --sizes 1000000 --repeats 3
	$(BIN)/python bench/history.py check preprocess
