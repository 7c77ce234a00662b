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
from mesh_platform.scaffold.mesh import init_mesh
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
    init_mesh(root)  # a mesh: import lists the domain in its workspace
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(home))
    args = ["import", "dbt", str(projects / project), "--domain", domain, "--no-build"]
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


@pytest.mark.slow
def test_import_drafts_public_contracts_from_a_scratch_build(
    tmp_path: Path, monkeypatch, projects: Path
):
    root, home = tmp_path / "repo", tmp_path / "home"
    init_mesh(root)  # a mesh: import lists the domain in its workspace
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(home))
    args = ["import", "dbt", str(projects / "shop_b"), "--domain", "stores"]
    result = runner.invoke(
        app, [*args, "--public", "daily_store_sales", "--public", "store_directory"]
    )
    assert result.exit_code == 0, result.output
    assert "contracts init" not in result.output and "not drafted" not in result.output
    draft = yaml.safe_load(
        (root / "contracts" / "stores" / "daily_store_sales.odcs.yaml").read_text()
    )
    types = {p["name"]: p["physicalType"] for p in draft["schema"][0]["properties"]}
    assert types == {"store_id": "BIGINT", "sold_on": "DATE", "city": "VARCHAR", "units": "HUGEINT",
                     "revenue": "DECIMAL(38,2)", "visitors": "BIGINT"}  # fmt: skip
    regions = yaml.safe_load(
        (root / "contracts" / "stores" / "store_directory.odcs.yaml").read_text()
    )
    assert regions["schema"][0]["properties"][2]["description"].startswith("Sales region")
    assert not list(root.rglob("dbt_packages")) and not list(root.rglob("target"))  # scratch only


@pytest.mark.slow
def test_a_failing_scratch_build_leaves_the_import_and_says_why(
    tmp_path: Path, monkeypatch, projects: Path
):
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(tmp_path / "repo"))
    monkeypatch.setenv("MESH_HOME", str(tmp_path / "home"))
    init_mesh(tmp_path / "repo")
    sql = projects / "shop_a" / "models" / "marts" / "orders.sql"
    sql.write_text("select no_such_column from {{ ref('stg_orders') }}")
    args = ["import", "dbt", str(projects / "shop_a"), "--domain", "shop", "--public", "orders"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "contracts not drafted:" in result.output and "scratch dbt run failed" in result.output
    assert "mesh contracts init shop/orders" in result.output
