"""A throwaway build of a domain's dbt files over its landed files, to learn real column types.

`mesh import dbt` drafts public ports' contracts from it before the first `mesh up`, which would
otherwise refuse a public port without a contract. The project, profile and sources rendered here
are minimal stand-ins for the platform's prepared project; nothing outside a temporary folder is
touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import yaml

from mesh_platform.contracts.infer import READERS, Column, describe_table
from mesh_platform.dbt.packages import QUIET_ENV, ensure_packages
from mesh_platform.dbt.render import imported_config
from mesh_platform.descriptors.errors import SpecError, SpecErrors

INGESTED = "raw"  # the schema (and default dbt source) of landed rows


def _render(project: Path, domain: str, warehouse: Path) -> None:
    """dbt_project.yml (with the imported project's config) and a profile on ``warehouse``."""
    rendered: dict[str, Any] = {"name": domain, "version": "1.0.0", "config-version": 2,
                                "profile": "scratch"}  # fmt: skip
    rendered |= imported_config(project, domain)
    (project / "dbt_project.yml").write_text(yaml.safe_dump(rendered, sort_keys=False))
    output = {"type": "duckdb", "path": str(warehouse), "threads": 1}
    profile = {"scratch": {"target": "scratch", "outputs": {"scratch": output}}}
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))


def _land(project: Path, warehouse: Path, landing: Path, inputs: list[dict[str, Any]]) -> None:
    """Landed files as tables of schema raw, and the dbt sources reading them."""
    sources: dict[str, dict[str, dict[str, str]]] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {INGESTED}")
        for port in inputs:
            files = sorted(str(p) for p in landing.glob(port["location"]) if p.is_file())
            tables = sources.setdefault(port.get("dbt_source") or INGESTED, {})
            if not files or port["name"] in tables:
                continue
            tables[port["name"]] = {"name": port["name"]}
            reader = READERS.get(Path(files[0]).suffix.lower(), "read_csv_auto")
            con.execute(
                f"CREATE TABLE {INGESTED}.{port['name']} AS SELECT * FROM {reader}(?)", [files]
            )
    generated = [
        {"name": name, "schema": INGESTED, "tables": list(tables.values())}
        for name, tables in sources.items()
    ]
    path = project / "models" / "_scratch__sources.yml"
    path.write_text(yaml.safe_dump({"version": 2, "sources": generated}, sort_keys=False))


def scratch_columns(
    dbt_dir: Path, domain: str, landing: Path, inputs: list[dict[str, Any]], models: list[str]
) -> dict[str, list[Column]]:
    """Build ``models`` (and what they read) in a temporary DuckDB file; their real columns.

    Args:
        dbt_dir: the domain's dbt files (models, macros, packages.yml, project_config.yml).
        domain: the domain's name (the rendered project's name).
        landing: the landing zone holding the domain's files.
        inputs: the domain's landing input ports as written (name, location, dbt_source).
        models: the models to build and describe.

    Raises:
        SpecErrors: a package cannot be installed or dbt fails (dbt's last lines).
    """
    with tempfile.TemporaryDirectory(prefix="mesh-scratch-") as tmp:
        project, warehouse = Path(tmp) / "project", Path(tmp) / "scratch.duckdb"
        shutil.copytree(dbt_dir, project, ignore=shutil.ignore_patterns("target", "logs"))
        _render(project, domain, warehouse)
        _land(project, warehouse, landing, inputs)
        ensure_packages(project)
        select = " ".join(f"+{m}" for m in models)
        dbt = Path(sys.executable).with_name("dbt")
        args = ["run", "--select", select, "--project-dir", str(project), "--profiles-dir"]
        proc = subprocess.run(
            [str(dbt), *args, str(project)], capture_output=True, text=True, cwd=project,
            env={**os.environ, **QUIET_ENV},
        )  # fmt: skip
        if proc.returncode != 0:
            tail = " | ".join(ln.strip() for ln in proc.stdout.splitlines()[-6:] if ln.strip())
            raise SpecErrors([SpecError(dbt_dir, "", f"scratch dbt run failed: {tail}")])
        return {m: describe_table(warehouse, m) for m in models}
