# The two commands of the README: `make run` and `make test`. Everything else is theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := vouchers
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3

.PHONY: run mail test serve bench lint install demo lifecycle

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

## make serve: gunicorn against DATABASE_URL (migrations applied first).
serve: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) 'vouchers:create_app()'

## make bench: every benchmark under bench/, each ending with one line of figures.
## A missed target prints MISSED and the others still run; only a crash fails the target.
bench: $(STAMP)
	@crashed=""; for b in bench/bench_*.py; do echo "== $$b"; \
		$(BIN)/python $$b || crashed="$$crashed $$b"; done; \
	if [ -n "$$crashed" ]; then echo "crashed:$$crashed"; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check .

lifecycle: $(STAMP)
	@$(BIN)/flask lifecycle
