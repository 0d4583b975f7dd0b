# Two commands: `make run` serves the dashboard, `make test` runs every check.
# Both create ./.venv from the pinned requirements on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint demo bench screenshots clean

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

run: $(VENV)/.runtime
	@echo "Dashboard: http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	@$(PY) scripts/open_browser.py http://127.0.0.1:$(PORT) &
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

test: $(VENV)/.test
	@bash scripts/ensure_chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: $(VENV)/.runtime
	$(PY) data/make_demo.py

bench: $(VENV)/.test
	@bash scripts/ensure_chromium.sh
	$(PY) scripts/benchmark_loader.py
	$(PY) scripts/benchmark_analysis.py
	$(PY) scripts/benchmark_first_paint.py
	$(PY) scripts/benchmark_windows.py
	$(PY) scripts/benchmark_interaction.py

screenshots: $(VENV)/.test
	@bash scripts/ensure_chromium.sh
	$(PY) scripts/screenshots.py docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
