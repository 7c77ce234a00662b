"""An imported project builds with plain dbt once its sources come from the descriptors.

The platform's prepared dbt project (rendered dbt_project.yml and profile, generated sources) is
imitated here in a few lines, so the import's output is proven buildable on its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from mesh_platform.cli import app
from mesh_platform.contracts.infer import READERS
from mesh_platform.dbt.packages import ensure_packages
from typer.testing import CliRunner

runner = CliRunner()
CASES = [("shop_a", "shop", ["customers", "orders"]), ("shop_b", "stores", ["daily_store_sales"])]


def _prepare(root: Path, home: Path, domain: str) -> Path:
    """What the platform renders: project, profile, sources (schema raw) and the landed rows."""
    dbt = root / "domains" / domain / "dbt"
    config = yaml.safe_load((dbt / "project_config.yml").read_text())
    project = {"name": domain, "version": "1.0.0", "config-version": 2, "profile": domain,
               "models": {domain: config.get("models", {})}}  # fmt: skip
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(project))
    warehouse = home / "warehouse" / f"{domain}.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    profile = {domain: {"target": "dev", "outputs": {"dev": {"type": "duckdb",
               "path": str(warehouse), "threads": 1}}}}  # fmt: skip
    (dbt / "profiles.yml").write_text(yaml.safe_dump(profile))
    sources: dict[str, dict[str, dict]] = {}  # a feed two products read is one table
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for spec in (root / "domains" / domain / "products").glob("*.yaml"):
            for port in yaml.safe_load(spec.read_text())["input_ports"]:
                tables = sources.setdefault(port.get("dbt_source", "raw"), {})
                tables[port["name"]] = {"name": port["name"]}
                file = home / "landing" / port["location"]
                reader = READERS[file.suffix]
                con.execute(f"CREATE OR REPLACE TABLE raw.{port['name']} AS "
                            f"SELECT * FROM {reader}('{file}')")  # fmt: skip
    generated = [
        {"name": n, "schema": "raw", "tables": list(t.values())} for n, t in sources.items()
    ]
    (dbt / "models" / "_mesh__sources.yml").write_text(yaml.safe_dump({"sources": generated}))
    return dbt


@pytest.mark.slow
@pytest.mark.parametrize(("project", "domain", "public"), CASES)
def test_imported_project_builds_and_drafts_contracts(
    tmp_path: Path, monkeypatch, projects: Path, project: str, domain: str, public: list[str]
):
    root, home = tmp_path / "repo", tmp_path / "home"
    (root / "domains").mkdir(parents=True)
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(home))
    args = ["import", "dbt", str(projects / project), "--domain", domain]
    result = runner.invoke(app, [*args, *(a for m in public for a in ("--public", m))])
    assert result.exit_code == 0, result.output
    dbt = _prepare(root, home, domain)
    assert ensure_packages(dbt) is True  # the local package, copied beside it, offline
    build = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(dbt),
         "--profiles-dir", str(dbt)], capture_output=True, text=True, cwd=dbt,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:]
    assert "unit_test" in build.stdout or "unit test" in build.stdout
    for model in public:
        made = runner.invoke(app, ["contracts", "init", f"{domain}/{model}"])
        assert made.exit_code == 0, made.output
    contract = (root / "contracts" / domain / f"{public[0]}.odcs.yaml").read_text()
    assert "HUGEINT" in contract and "cast it to BIGINT" in contract  # sum(int), as it is
