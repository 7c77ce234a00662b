# Two commands on a fresh machine with Python 3.11 and pip: `make demo` and `make test`.
# Both bootstrap uv and the locked environment (uv.lock) themselves: the demo mesh (this folder,
# mesh.yaml) and the platform it depends on (platform/, a uv workspace member).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
# Use uv from PATH if present, else install the pinned version for this user through pip.
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
SCALE ?= 1
export MESH_HOME ?= $(CURDIR)/.mesh

.PHONY: bootstrap sysdeps demo demo-distributed up ui test test-fast lint fmt bench wheel clean

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set, every dbt/Dagster process would otherwise
	@# recompile its imports (measured: dbt + dagster imports 6.5 s -> 3.7 s).
	@$(UV) sync --frozen --quiet --compile-bytecode
	@# The workspace's own packages are editable installs, which --compile-bytecode leaves out:
	@# their bytecode saves each process that imports the platform ~0.5 s (bench/README.md).
	@$(UV) run --frozen --no-sync python -m compileall -q -j 0 platform/mesh_platform demo/mesh_demo

# Debian packages the tests need: Graphviz renders lineage graphs as PNG; Chromium (headless) checks
# the Dagster UI and the governance report in a real browser; HAProxy balances `mesh serve
# --replicas N`; Redis is the Celery broker of the distributed profile (`mesh stack`). Installed when
# missing and we may (root, as in CI); otherwise say what to install.
# haproxy is in /usr/sbin, which a non-root PATH may lack: looked for there too.
SYSDEPS := graphviz chromium fonts-dejavu-core haproxy redis-server
sysdeps:
	@{ command -v dot && command -v chromium && PATH="$$PATH:/usr/sbin" command -v haproxy && command -v redis-server; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS) >/dev/null; \
	  else echo "please install: $(SYSDEPS) (Debian packages)"; exit 1; fi; }

demo: bootstrap
	$(UV) run mesh validate
	$(UV) run mesh up --scale $(SCALE)
	$(UV) run mesh catalog
	$(UV) run mesh govern --format html --output $(MESH_HOME)/reports/governance.html
	$(UV) run mesh govern
	$(UV) run mesh models list
	@echo "Now: 'make ui' and open http://127.0.0.1:3000 (Dagster) and http://127.0.0.1:5000 (MLflow);"
	@echo "with it running the mesh runs itself, and 'uv run mesh serve' serves recommendations (docs/automation.md)"

# The distributed profile on this machine (docs/scale-out.md): PostgreSQL, Redis, NATS, S3, two
# Celery workers, a code server per domain, the daemon, the webserver and two serving replicas
# behind HAProxy, all on free loopback ports; the demo runs through the run queue at scale 0.2.
# Ctrl-C stops everything; EXIT=1 stops once the mesh is up.
DIST_SCALE ?= 0.2
demo-distributed: bootstrap sysdeps
	$(UV) run mesh stack --scale $(DIST_SCALE) $(if $(EXIT),--exit,)

ui: bootstrap
	$(UV) run mesh ui --mlflow-port 5000

lint: bootstrap
	$(UV) run ruff check platform tests domains bench demo
	$(UV) run ruff format --check platform tests domains bench demo
	$(UV) run pyright
	$(UV) run lint-imports

fmt: bootstrap
	$(UV) run ruff format platform tests domains bench demo
	$(UV) run ruff check --fix platform tests domains bench demo

# Everything CI runs: lint, types, `mesh ci` (descriptors and contracts as `mesh validate` checks
# them, contract diffs against main, governance, dbt build of changed domains), fast and slow
# (integration, browser) tests.
# -n 2: two pytest-xdist workers. The heavy tests (LightGBM fits, end-to-end `mesh up`, which takes
# both cores alone) run one after another on one worker (XDIST_GROUPS in tests/conftest.py) while
# the other runs everything else beside them. On 2 cores shared with other jobs (noisy figures):
# the fast tests took 45 s with -n 2 against 67 s without (no gain with the machine loaded ~8
# deep); all 503 tests took 6 min 52 s with -n 2, `make test` as a whole 7 min 16 s.
test: lint sysdeps
	$(UV) run mesh ci
	$(UV) run pytest -m "slow or not slow" -n 2

# The quick loop while developing: unit tests only.
test-fast: bootstrap
	$(UV) run pytest

bench: bootstrap
	$(UV) run python bench/bench_mesh_up.py --scales 1,10

# The platform's own distribution (platform/, uv workspace member), for meshes outside this repo.
wheel: bootstrap
	$(UV) build --package mesh-platform --wheel -o dist

clean:
	rm -rf .mesh dist domains/*/dbt/target domains/*/dbt/logs
