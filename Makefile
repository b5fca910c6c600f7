# Tessera: `make run` starts everything on the embedded default; `make test` runs every test.
# Only Python 3.11+, make and git are needed: the rest is installed into .tools/ and .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV_PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: setup run test test-fast lint fmt bench clean worker beat deploy-checks cluster soak

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: .venv/.synced

run: setup
	$(VENV_PY) scripts/run.py

test: setup
	$(VENV_PY) scripts/test.py

# The SQLite lane only, without the quality gates: for quick local iterations.
test-fast: setup
	$(VENV_PY) -m pytest -q -n 2

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports

fmt: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup
	$(VENV_PY) bench/run.py $(ARGS)

worker: setup
	.venv/bin/celery -A config worker -l INFO

beat: setup
	.venv/bin/celery -A config beat -l INFO

# --- Operations (deploy/, docs/operations/) ---------------------------------------------------
deploy-checks: setup
	$(VENV_PY) scripts/deploy_checks.py

cluster: setup
	$(VENV_PY) scripts/cluster.py $(ARGS)

soak: setup
	$(VENV_PY) scripts/soak.py $(ARGS)

clean:
	rm -rf .venv .tools var
