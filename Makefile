# Two commands for a new user: `make run` (demo on SQLite) and `make test` (the whole suite).
# Everything else here is what those two need.

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN     = $(VENV)/bin
ARGOS   = argostranslate==1.11.0

.PHONY: run test install install-test catalogs lint bench constraints clean

run: install catalogs
	$(BIN)/feedsvc db upgrade
	$(BIN)/feedsvc demo
	# The demo's news is from Guangzhou: its pages show China Standard Time.
	FEEDSVC_TIMEZONE="$${FEEDSVC_TIMEZONE:-Asia/Shanghai}" $(BIN)/feedsvc serve --host $(HOST) --port $(PORT)

test: install-test catalogs
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The service's own dependencies, then argostranslate without its declared requirements:
# they pull stanza and PyTorch (gigabytes) for modules feedsvc never imports (README: Lean install).
$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(ARGOS)
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test

# Compiled catalogs (.mo) are build output: made from translations/*/LC_MESSAGES/*.po.
catalogs: install
	$(BIN)/pybabel compile -d translations --statistics

lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/import_articles.py

constraints: install-test
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^feedsvc'; } > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
