# Kaohe: the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
VENDOR := kaohe/static/vendor
# Two factors are offered, not forced, so the demo can be looked at without an
# authenticator app; `check --deploy` warns about this setting anywhere else.
DEMO_ENV := KAOHE_DEBUG=true KAOHE_TODAY=$${KAOHE_TODAY-2017-12-20} KAOHE_TWO_FACTOR=optional

.PHONY: run test setup system-packages test-packages assets venv migrate demo lint scan e2e bench messages clean

run: setup
	$(DEMO_ENV) $(BIN)/kaohe migrate --noinput
	$(DEMO_ENV) $(BIN)/kaohe collectstatic --noinput -v0
	$(DEMO_ENV) $(BIN)/kaohe demo
	# The task worker (documents, bulk exports) runs beside the web server and stops with it.
	$(DEMO_ENV) $(BIN)/kaohe worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/kaohe runserver 127.0.0.1:$(PORT)

# One pytest worker per core (pytest-xdist); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
test: setup test-packages
	$(BIN)/pytest -n $(TEST_WORKERS)

# The document tests also lay the Word files out in LibreOffice and render pages with pdftoppm;
# installed for the tests only (where they are missing they are skipped, except under CI=true).
test-packages:
	@missing=""; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-writer-nogui"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	  else echo "warning: install these Debian packages for the document tests:$$missing"; fi; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Static security checks (security.md 23): bandit on the code (config: [tool.bandit] in
# pyproject.toml) and pip-audit on the locked dependencies, with the waivers of
# .ci/pip-audit-waivers.txt ("--ignore-vuln ID  # reason" per line). pip-audit asks PyPI's
# JSON API about each pinned version; where that cannot be reached the audit fails, unless
# SCAN_OFFLINE=warn, which prints that the dependencies were NOT audited and goes on.
PIP_AUDIT_WAIVERS = $(shell sed -e 's/\#.*//' .ci/pip-audit-waivers.txt)
SCAN_OFFLINE ?= fail
scan: setup
	$(BIN)/bandit -q -c pyproject.toml -r kaohe
	@probe="https://pypi.org/pypi/django/$$(sed -n 's/^django==\([^ ]*\).*/\1/Ip' requirements.lock)/json"; \
	if ! $(BIN)/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30)" "$$probe" 2>/dev/null; then \
	  echo "pip-audit: PyPI's vulnerability data ($$probe) cannot be reached from here:" \
	       "the locked dependencies were NOT audited." >&2; \
	  test "$(SCAN_OFFLINE)" = warn; exit $$?; \
	fi; \
	echo "$(BIN)/pip-audit --strict --disable-pip -r requirements.lock $(PIP_AUDIT_WAIVERS)"; \
	$(BIN)/pip-audit --strict --disable-pip -r requirements.lock $(PIP_AUDIT_WAIVERS)

setup: $(VENV)/.installed assets system-packages

# PDF documents need Pango and HarfBuzz's subsetter (WeasyPrint) and a CJK font (no tofu); install them from Debian's
# packages when they are missing and we may (root), else say what is missing. The faces of the official styles
# (仿宋, 楷体, 黑体, 宋体) are the Fandol fonts of texlive-lang-chinese unless KAOHE_FONT_DIR names the office's own.
FANDOL := /usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/FandolFang-Regular.otf
system-packages:
	@missing=""; \
	ldconfig -p | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	ldconfig -p | grep -q 'libharfbuzz-subset.so' || missing="$$missing libharfbuzz-subset0"; \
	fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing="$$missing fonts-noto-cjk fontconfig"; \
	test -f $(FANDOL) || missing="$$missing texlive-lang-chinese"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	  else echo "warning: install these Debian packages for PDF documents:$$missing"; fi; \
	fi

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
# They take about two hours on a quiet 2-core machine: P2 builds the demo at 3,100 units and
# crawls every role's pages at two stages, P6 runs the rush at the realistic rate (10
# minutes) on the PostgreSQL of BENCH_POSTGRES_URL. Short trials: BENCH_P2_SCALES=40,80,
# BENCH_P2_ONLY="home|reviews:category" (P2 on some pages), BENCH_P1_UNITS=40,
# BENCH_P3_MIB=64, BENCH_P5_UNITS=40, BENCH_RUSH_UNITS=20 (bench/*.py).
# `python bench/run.py bench/report P1,P2` runs only those.
bench: setup
	$(BIN)/python bench/run.py bench/report

# Regenerate the translations after changing user-facing strings (needs GNU gettext).
messages: setup
	cd kaohe && KAOHE_DEBUG=true ../$(BIN)/kaohe makemessages -l en --no-obsolete && KAOHE_DEBUG=true ../$(BIN)/kaohe compilemessages

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
