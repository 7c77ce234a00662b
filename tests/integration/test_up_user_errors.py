"""`mesh up` on a user error: a one-line reason naming what to fix, never a Python traceback."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support import MESH, REPO, env_with

pytestmark = pytest.mark.slow

SOURCES = "version: 2\nsources:\n  - name: erp\n    tables:\n      - name: returns\n"


def test_source_that_is_no_input_fails_without_a_traceback(tmp_path):
    root, home = tmp_path / "repo", tmp_path / "mesh"
    for folder in ("domains", "contracts", "dagster_project"):
        ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb", ".user.yml")
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)
    staging = root / "domains/sales/dbt/models/staging"
    (staging / "_erp__sources.yml").write_text(SOURCES)
    (staging / "stg_erp__returns.sql").write_text("select * from {{ source('erp', 'returns') }}\n")
    (home / "landing/sales").mkdir(parents=True)  # data is there: nothing to generate
    (home / "landing/sales/orders_0.parquet").write_bytes(b"")
    proc = subprocess.run(
        [*MESH, "up", "--domain", "sales"], capture_output=True, text=True, timeout=600,
        env=env_with(MESH_HOME=str(home), MESH_PROJECT_ROOT=str(root), MESH_ML="off",
                     COLUMNS="200"), cwd=root,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out and "dagster._core" not in out, out
    line = next(line for line in out.splitlines() if line.startswith("sales: "))
    assert "dbt source erp.returns" in line and "raw" in line, out
    env = env_with(MESH_HOME=str(home), MESH_PROJECT_ROOT=str(root))
    validate = subprocess.run(
        [*MESH, "validate"], capture_output=True, text=True, cwd=root, env=env
    )
    where = "stg_erp__returns.sql: line 1: source('erp', 'returns')"
    assert validate.returncode == 2 and where in validate.stdout + validate.stderr
