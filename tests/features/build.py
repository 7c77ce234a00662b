"""Build the personalization domain's feature models with dbt, outside Dagster (tests, timing).

    MESH_HOME=<home with the upstream ports published> uv run python -m tests.features.build

renders the domain's dbt project under MESH_HOME, runs ``dbt build`` on the feature models and
their parents (staging), and prints the seconds and each table's row count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
from mesh_platform.dbt.port_views import pin_port_views
from mesh_platform.dbt.render import render_project
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.settings import MeshPaths

from tests.support import REPO

DOMAIN = "personalization"
SELECT = "+path:models/ml"  # the feature models and what they read
TABLES = ("churn_training", "churn_scoring", "recommender_training", "recommender_candidates")
DBT = Path(sys.executable).with_name("dbt")


def build_features(
    home: Path, root: Path = REPO, dbt_vars: dict[str, Any] | None = None, command: str = "build"
) -> Path:
    """``dbt <command>`` of the feature models into ``home``'s personalization warehouse.

    Args:
        home: a MESH_HOME whose lake holds the ports the domain reads.
        root: the mesh (its domains/ and contracts/).
        dbt_vars: dbt ``--vars`` (e.g. fewer snapshots).
        command: ``build`` (models and their data tests) or ``run`` (models only).

    Returns:
        The warehouse file.
    """
    paths = MeshPaths(root=Path(root), home=Path(home))
    paths.warehouse.mkdir(parents=True, exist_ok=True)  # DuckDB won't create the folder
    domain = load_domain(paths.domains / DOMAIN)
    project = render_project(domain, paths.contracts, paths.home)
    # what the dbt asset does before its build: point the port views at the current snapshots
    pin_port_views(domain, paths, paths.warehouse_file(DOMAIN), f"features-{uuid.uuid4().hex}")
    args = [str(DBT), command, "--quiet", "--project-dir", str(project), "--profiles-dir",
            str(project), "--select", SELECT, "--vars", json.dumps(dbt_vars or {})]  # fmt: skip
    env = {**os.environ, "MESH_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("MESH_DUCKDB_ALLOWED", None)  # not sandboxed: a plain dbt build by hand
    proc = subprocess.run(args, capture_output=True, text=True, cwd=project, env=env)
    assert proc.returncode == 0, f"dbt {command} failed:\n{proc.stdout}\n{proc.stderr}"
    return paths.warehouse_file(DOMAIN)


def row_counts(warehouse: Path) -> dict[str, int]:
    """Rows of each feature table."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in TABLES}


def node_seconds(home: Path) -> dict[str, float]:
    """Execution seconds of each node of the last dbt invocation (its run_results.json)."""
    results = Path(home) / "dbt" / DOMAIN / "target" / "run_results.json"
    runs = json.loads(results.read_text(encoding="utf-8"))["results"]
    return {r["unique_id"].split(".", 1)[1]: round(r["execution_time"], 1) for r in runs}


if __name__ == "__main__":
    home = Path(os.environ["MESH_HOME"])
    for command in ("run", "build"):
        started = time.perf_counter()
        file = build_features(home, command=command)
        print(f"dbt {command} --select {SELECT}: {time.perf_counter() - started:.1f} s")
        slow = {k: v for k, v in node_seconds(home).items() if v >= 0.5}
        print(json.dumps(slow, indent=1))
    print(json.dumps(row_counts(file), indent=1))
