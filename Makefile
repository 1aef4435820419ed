# Taizhang: `make run` to start on SQLite, `make test` to run every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# A Python >= 3.12: PYTHON=... overrides; otherwise the first that answers, then pyenv's.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 /root/.pyenv/versions/3.13.*/bin/python3 /root/.pyenv/versions/3.12.*/bin/python3 $$HOME/.pyenv/versions/3.1[23].*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: run serve test install migrate bench lint messages clean-static prerequisites

# What the system must provide (Python, npm, msgfmt; chromium for the browser tests), checked
# before anything is installed: one message naming what is missing and the apt-get line.
PREREQUISITES ?= run
test: PREREQUISITES = $(if $(findstring not browser,$(PYTEST_ARGS)),run,test)
prerequisites:
	@bin/prerequisites $(PREREQUISITES) "$(PYTHON)"

$(BIN)/python: | prerequisites
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found; set PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(BIN)/python | prerequisites
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $@

node_modules/.installed: package.json package-lock.json | prerequisites
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: prerequisites $(VENV)/.installed node_modules/.installed taizhang/locale/zh_Hans/LC_MESSAGES/django.mo

taizhang/locale/zh_Hans/LC_MESSAGES/django.mo: taizhang/locale/zh_Hans/LC_MESSAGES/django.po | prerequisites
	msgfmt --check -o $@ $<

migrate: install
	@mkdir -p "$${TAIZHANG_DATA_DIR:-var}"
	$(BIN)/python manage.py migrate --no-input -v 0
	@# Exit 3: the demo set-up refused this database (not one it made, or production);
	@# `make run` then serves the database as it is. Any other failure stops here.
	$(BIN)/python manage.py setup_demo || [ $$? -eq 3 ]
	$(BIN)/python manage.py refresh_projection -v 0

# The web server and the background worker (sweeps, e-mails, webhooks) together; Ctrl-C stops both.
run: migrate
	bin/run $(PORT)

# Production: gunicorn with TAIZHANG_DEBUG=0 (a secret key required), static files collected
# for WhiteNoise, the schema migrated; address and processes from TAIZHANG_BIND,
# TAIZHANG_WORKERS (gunicorn.conf.py). No demo data, ever. See docs/deploy.md.
serve: export TAIZHANG_DEBUG = 0
serve: install
	@mkdir -p "$${TAIZHANG_DATA_DIR:-var}"
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/python manage.py migrate --no-input -v 0
	exec $(BIN)/gunicorn -c gunicorn.conf.py

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/workflow.py
	$(BIN)/python bench/demo_story.py
	$(BIN)/python bench/command.py
	$(BIN)/python bench/contention.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Rebuild the translation catalog after changing strings (then translate the new ones).
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=node_modules --ignore=.venv --ignore=var
