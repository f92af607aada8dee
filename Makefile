# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv on first use and installs what it needs into it. Another Python in its own venv:
# `make test PYTHON=python3.13 VENV=.venv-3.13` (.ci/run does this for each supported version).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench fuzz requests-suite ecosystem cache-conformance clean

$(STAMP): pyproject.toml setup.py src/brisk/_protocol/_speedups.c
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m brisk.demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench fuzz requests_suite ecosystem
	$(VENV)/bin/ruff format --check src tests bench fuzz requests_suite ecosystem
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# The HTTP cache test suite's scenarios (http-tests/cache-tests) against brisk's cache, next to the
# browsers' published results (README, "HTTP caching"); about 20 s, mostly the scenarios' own pauses.
cache-conformance: $(STAMP)
	$(PY) tests/conformance/cache_tests_runner.py $(CACHE_TESTS_ARGS)

# requests' own test suite run against brisk (README, "Coming from requests"); its own environment.
requests-suite:
	sh requests_suite/run.sh

# Test suites of libraries built on requests (responses, requests-mock, ...), on requests and on brisk
# installed as requests; each in environments of its own (ecosystem/.env). Not part of `make test` or CI.
# `make ecosystem ECOSYSTEM_ARGS="--suite betamax"`; see ecosystem/README.md.
ecosystem:
	$(PYTHON) ecosystem/run.py $(ECOSYSTEM_ARGS)

# Coverage-guided fuzzing (atheris), each target in turn for FUZZ_SECONDS; not part of `make test`.
# `make fuzz FUZZ_SECONDS=300 FUZZ_TARGETS="h2 url"`; see fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	@sh fuzz/install_atheris.sh $(PY)
	$(PY) fuzz/run.py --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
