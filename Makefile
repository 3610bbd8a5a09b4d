# Two commands on a fresh machine:
#   make demo   - create .venv, install the core and [report] from uv.lock, assess the bundled
#                 example dataset, print a summary, write the HTML report
#   make test   - create .venv, install every extra from uv.lock, run the whole test suite
# and for maintainers:
#   make lock     - bring uv.lock in line with pyproject.toml (keeps the locked versions)
#   make upgrade  - move uv.lock to the newest versions pyproject.toml allows, then run the suite
#
# Installs come from uv.lock only (`uv sync --locked` fails when pyproject.toml changed and
# the lock was not refreshed).  uv itself is bootstrapped into .venv with pip, pinned.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.10
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# --inexact: a later `make demo` keeps what `make test` installed (and the bootstrapped uv)
SYNC := $(UV) sync --locked --inexact --python $(BIN)/python
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install lock upgrade example-data clean

$(UV):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"

# what the demo uses: assess (core) and report ([report])
$(DEMO_STAMP): pyproject.toml uv.lock | $(UV)
	$(SYNC) --extra report
	touch $@

# everything the suite exercises
$(TEST_STAMP): pyproject.toml uv.lock | $(UV)
	$(SYNC) --all-extras
	touch $@

install: $(TEST_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/remission assess src/remission/data/example --out out/demo
	$(BIN)/remission report src/remission/data/example --out out/demo/report.html

# fast unit tests first (two workers), then the slower groups (service on PostgreSQL, browser,
# Spark, the core-only virtualenv) one at a time; every group always runs, none is skipped
# silently in CI.
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not postgres and not browser and not spark and not core_env"
	$(BIN)/python -m pytest -q -m "postgres or browser or spark or core_env"; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

lock: | $(UV)
	$(UV) lock

upgrade: | $(UV)
	$(UV) lock --upgrade
	$(SYNC) --all-extras
	touch $(TEST_STAMP)
	$(MAKE) test

example-data: $(DEMO_STAMP)
	$(BIN)/python scripts/make_example_data.py src/remission/data/example

clean:
	rm -rf $(VENV) out .pytest_cache
