# The two commands of the README: `make run` and `make test`. Everything else is theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := vouchers
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3

.PHONY: run mail test serve worker bench load-test lint install demo lifecycle

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c 'from vouchers.i18n import compile_catalogues; compile_catalogues()'
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate the SQLite database, load the demo if empty, serve; the mail
## sender runs alongside (into files under instance/mail/ unless MAIL_SERVER is set) and
## stops with the server.
## Production runs `flask send-reminders` from cron (README); a developer has no cron, so
## without it no deadline reminder or daily digest would ever be queued. A plain shell loop
## runs it now and every 10 minutes: nothing to install beyond Python. The server's trap
## stops it with the sender (and its `sleep`, which the loop's own trap kills).
run: export BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	@$(BIN)/flask send-mail --loop & sender=$$!; \
	( trap 'kill $$nap 2>/dev/null; exit 0' TERM; \
	  while :; do nap=; $(BIN)/flask send-reminders; sleep 600 & nap=$$!; wait $$nap; \
	  done ) & reminders=$$!; \
	trap 'kill $$sender $$reminders 2>/dev/null; wait $$sender $$reminders' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## make mail: the mail sender alone, until Ctrl-C (`make run` starts one of its own).
mail: $(STAMP)
	$(BIN)/flask send-mail --loop

## make test: install and run the whole suite (in parallel on the machine's cores).
## Chromium and LibreOffice are installed first when missing and this machine allows it
## (root, apt-get); otherwise their tests skip and the run's last line says so.
test: $(STAMP)
	$(BIN)/ruff check .
	@sh scripts/ensure-test-tools.sh || true
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

## make serve: production (README "Running in production"): migrations applied, then
## gunicorn with WORKERS workers on HOST:PORT against DATABASE_URL (vouchers/gunicorn_conf.py:
## JSON logs), and alongside it the job worker when REDIS_URL is set, which also sends the
## mail; without Redis jobs run in the web process and the mail sender runs instead, as in
## `make run`. APP_ENV=production refuses the development secret and SQLite
## (vouchers/config.py). Both run in the background so that a TERM to this shell (make
## passes on a service manager's), not only Ctrl-C, stops them: its trap sends each one
## TERM, and each stops gracefully (gunicorn finishes its requests, the worker its job).
## The worker runs in a session of its own (setsid): Ctrl-C's INT would reach it too, and
## RQ takes a second signal as "kill the job now".
serve: export APP_ENV ?= production
serve: $(STAMP)
	$(BIN)/flask db upgrade
	@if [ -n "$$REDIS_URL" ]; then setsid $(BIN)/flask worker & alongside=$$!; \
	else setsid $(BIN)/flask send-mail --loop & alongside=$$!; fi; \
	$(BIN)/gunicorn -c vouchers/gunicorn_conf.py --workers $(WORKERS) \
	  --bind $(HOST):$(PORT) & server=$$!; \
	trap 'kill $$server $$alongside 2>/dev/null; wait $$server $$alongside' EXIT; \
	trap 'exit 130' INT TERM; \
	wait $$server

## make worker: the job worker alone (RQ on REDIS_URL), until Ctrl-C.
worker: $(STAMP)
	$(BIN)/flask worker

## make bench: every benchmark under bench/, each ending with one line of figures; the
## lines are printed together at the end (bench/run_all.py), one per benchmark with its
## ratio and target. A missed target prints MISSED and the others still run; only a crash
## fails the target, after the summary.
bench: $(STAMP)
	@$(BIN)/python bench/run_all.py

## make load-test: the deadline rush (bench/load_deadline_rush.py): 200 applicants and 5
## managers for 60 s against gunicorn, PostgreSQL (127.0.0.1:5432) and the job worker
## (Redis); about three minutes. ARGS="--seconds 15 --users 20" for a quick run.
load-test: $(STAMP)
	$(BIN)/python bench/load_deadline_rush.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

lifecycle: $(STAMP)
	@$(BIN)/flask lifecycle
