# Two commands on a fresh machine:
#   make demo   - create .venv, install, assess the bundled example dataset, print a summary
#   make test   - create .venv, install, run the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install example-data clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,spark]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/remission assess src/remission/data/example --out out/demo
	$(BIN)/remission report src/remission/data/example --out out/demo/report.html

# fast unit tests first (two workers), then the slower groups (service on PostgreSQL, browser,
# Spark) one at a time; every group always runs, none is skipped silently in CI.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not postgres and not browser and not spark"
	$(BIN)/python -m pytest -q -m "postgres or browser or spark"; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

example-data: $(STAMP)
	$(BIN)/python scripts/make_example_data.py src/remission/data/example

clean:
	rm -rf $(VENV) out .pytest_cache
