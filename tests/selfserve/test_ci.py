"""`mesh ci`: contract semver against the base, and dbt state selection of what changed."""

from __future__ import annotations

import json

import pytest
import yaml
from mesh_platform.ci.pipeline import run_ci
from mesh_platform.ci.state import build_changed

from tests.support import git, run_mesh

CONTRACT = "contracts/sales/daily_revenue.odcs.yaml"


def drop_column(root, column: str, version: str) -> None:
    path = root / CONTRACT
    data = yaml.safe_load(path.read_text())
    props = data["schema"][0]["properties"]
    data["schema"][0]["properties"] = [p for p in props if p["name"] != column]
    data["version"] = version
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_breaking_contract_change_without_major_bump_fails(git_mesh, tmp_path):
    drop_column(git_mesh, "customers", "1.1.0")  # a removed column is breaking
    home = tmp_path / "home"
    proc = run_mesh(home, "ci", "--skip", "dbt", "--skip", "governance", root=git_mesh)
    assert proc.returncode == 1, proc.stdout
    assert "contracts" in proc.stdout and "FAIL" in proc.stdout
    assert "daily_revenue" in proc.stdout and "ci failed" in proc.stdout


def test_compatible_change_passes_and_no_base_is_said(git_mesh):
    path = git_mesh / CONTRACT
    data = yaml.safe_load(path.read_text())
    data["description"]["usage"] = "Dashboards, finance and the board pack."
    data["version"] = "1.0.1"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    steps = {s.name: s for s in run_ci(git_mesh, "main", skip=("dbt", "governance"))}
    assert steps["contracts"].status == "pass"
    assert "1 changed contract" in steps["contracts"].detail
    steps = {s.name: s for s in run_ci(git_mesh, "no-such-branch", skip=("governance",))}
    assert steps["contracts"].status == "skip" and "no base" in steps["contracts"].detail
    assert steps["dbt"].status == "skip"


def test_unchanged_main_passes_with_nothing_to_build(git_mesh):
    steps = {s.name: s for s in run_ci(git_mesh, "main", skip=("governance",))}
    assert [s.status for s in steps.values()] == ["pass", "skip", "skip", "skip"]
    assert "current commit" in steps["dbt"].detail


@pytest.mark.slow
def test_changed_model_builds_only_its_domain_and_modified_nodes(git_mesh, tmp_path):
    sql = git_mesh / "domains/sales/dbt/models/marts/daily_revenue.sql"
    sql.write_text(sql.read_text().replace("as customers", "as customers -- reviewed"))
    git(git_mesh, "checkout", "-q", "-b", "change")
    git(git_mesh, "commit", "-qam", "change daily_revenue")

    steps = {s.name: s for s in run_ci(git_mesh, "main", skip=("governance",))}
    assert steps["dbt"].status == "pass", steps["dbt"].detail
    assert steps["dbt"].detail.startswith("sales: ") and ";" not in steps["dbt"].detail

    build = build_changed(git_mesh, "sales", "main", tmp_path / "work")
    assert build.ok, build.message
    results = json.loads((tmp_path / "work/target/sales/run_results.json").read_text())
    built = {r["unique_id"] for r in results["results"]}
    assert built == set(build.nodes)
    assert "model.sales.daily_revenue" in built
    # The modified model, what is built on it and their tests: not its unmodified parents.
    assert "model.sales.units_forecast_features" in built  # downstream of daily_revenue
    assert not any("order_lines" in node or ".stg_" in node for node in built), built


def test_a_malformed_descriptor_fails_the_lint_step_naming_file_and_field(git_mesh):
    path = git_mesh / "domains/sales/products/daily_revenue.yaml"
    data = yaml.safe_load(path.read_text())
    data.setdefault("slos", {})["freshness_hours"] = -1
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    steps = {s.name: s for s in run_ci(git_mesh, "main", skip=("dbt", "governance"))}
    assert steps["lint"].status == "fail"
    assert "daily_revenue.yaml" in steps["lint"].detail
    assert "slos.freshness_hours" in steps["lint"].detail
