# mediamon: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
MM := $(VENV)/bin/mediamon
PYTEST_ARGS ?=

.PHONY: venv demo test lint bench airflow stack stack-stop es-start es-stop clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "make: installing mediamon and its dependencies into $(VENV) (quiet; the first time takes a few minutes)"
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,airflow]'
	@touch $@
	@echo "make: $(VENV) ready; \`source $(VENV)/bin/activate\` puts mediamon on PATH"

venv: $(VENV)/.installed

es-start: venv
	$(MM) es start

es-stop: venv
	$(MM) es stop

demo: venv
	$(MM) demo

# pytest exits 5 when no test ran: that is a failure here too.
test: es-start
	@$(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc = 5 ]; then echo "make test: no tests ran" >&2; exit 1; fi; exit $$rc

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: es-start
	$(PY) -m bench.run

airflow: es-start
	bash scripts/airflow-standalone.sh

# The production topology on this machine (3-node TLS cluster, PostgreSQL, Redis, Airflow on Celery);
# needs Debian's postgresql and redis-server. As root, keep MEDIAMON_STACK_DIR under a world-searchable path.
stack: venv
	@command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } || \
	  { echo "make stack: Redis is needed: apt-get install redis-server" >&2; exit 1; }
	$(MM) stack start

stack-stop: venv
	$(MM) stack stop

clean: es-stop
	rm -rf .mediamon
