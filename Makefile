# Kaohe: the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
VENDOR := kaohe/static/vendor
DEMO_ENV := KAOHE_DEBUG=true KAOHE_TODAY=$${KAOHE_TODAY-2017-12-20}

.PHONY: run test setup assets venv migrate demo lint e2e bench messages clean

run: setup
	$(DEMO_ENV) $(BIN)/kaohe migrate --noinput
	$(DEMO_ENV) $(BIN)/kaohe collectstatic --noinput -v0
	$(DEMO_ENV) $(BIN)/kaohe demo
	$(DEMO_ENV) $(BIN)/kaohe runserver 127.0.0.1:$(PORT)

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .

setup: $(VENV)/.installed assets

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/tus-js-client/dist/tus.min.js $(VENDOR)/
	touch $@

# Benchmarks (not part of `make test`): writes bench/report/report.md and report.json.
bench: setup
	$(BIN)/python bench/run.py bench/report

# Regenerate the translations after changing user-facing strings (needs GNU gettext).
messages: setup
	cd kaohe && ../$(BIN)/kaohe makemessages -l en --no-obsolete && ../$(BIN)/kaohe compilemessages

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
