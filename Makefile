# Cairn: `make run` serves the demo community; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
FLASK := $(BIN)/flask --app wsgi
export FLASK_APP := wsgi

.PHONY: run test venv db lint bench chromium clean

run: db ## Create .venv, install, migrate, load demo data once, serve http://127.0.0.1:5000
	$(FLASK) run --host 127.0.0.1 --port 5000

test: db chromium node_modules/axe-core ## Same bootstrap, then ruff and the whole pytest suite
	$(BIN)/ruff check .
	$(BIN)/pytest

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

db: venv ## Apply migrations; load the fictional demo community into an empty database
	$(FLASK) db upgrade
	$(FLASK) forum demo-data --if-empty

lint: venv
	$(BIN)/ruff check .

bench: db ## Search, then load benchmarks on a synthetic forum (POSTS=N; see bench/README.md)
	$(BIN)/python bench/search_bench.py --posts $${POSTS:-100000}
	$(BIN)/python bench/load_bench.py --posts $${POSTS:-100000} $(LOAD_BENCH_ARGS)

# Browser tests drive Debian's Chromium. Installed here when missing and we are root;
# otherwise the browser tests skip with a message saying how to install it.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium not found and not root: browser tests will be skipped (apt-get install chromium)"; fi

# axe-core (package.json) for the accessibility checks in the browser tests. Without npm
# those tests skip with a message.
node_modules/axe-core: ## only when missing (npm ci-like, pinned in package.json)
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund; \
	else echo "npm not found: the axe-core accessibility checks will be skipped"; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
