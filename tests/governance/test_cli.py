"""`mesh govern`: exit codes (0 pass, 1 error finding, 2 broken descriptor) and JSON output."""

from __future__ import annotations

import json

import pytest
from mesh_platform.cli import app

from tests.support import REPO, MeshCopy, invoke, run_mesh

DR = "domains/sales/products/daily_revenue.yaml"


@pytest.fixture
def cli(mesh: MeshCopy, monkeypatch):
    """Invoke `mesh` in-process against the mesh copy."""
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(mesh.root))
    monkeypatch.setenv("MESH_HOME", str(mesh.home))
    monkeypatch.setenv("DAGSTER_HOME", str(mesh.home / "dagster"))
    return lambda *args: invoke(app, "govern", *args)


def test_passing_mesh_exits_0_with_json(cli):
    run = cli("--format", "json")
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["exit_code"] == 0 and set(data["scorecard"]) >= {"sales", "web"}
    assert {f["severity"] for f in data["findings"]} == {"info"}


def test_error_finding_exits_1_and_text_names_the_fix(cli, mesh: MeshCopy):
    mesh.edit(DR, lambda d: d.update(description="TODO: describe"))
    run = cli()
    assert run.exit_code == 1
    assert "documentation" in run.stdout and "FAIL" in run.stdout
    data = json.loads(cli("--format", "json", "--domain", "sales").stdout)
    [finding] = [f for f in data["findings"] if f["severity"] == "error"]
    assert finding["file"] == DR and finding["field"] == "description"
    assert finding["fix"]
    assert set(data["scorecard"]) == {"sales"}


def test_broken_descriptor_exits_2(cli, mesh: MeshCopy):
    (mesh.root / DR).write_text("name: daily_revenue\nkind: [unclosed\n")
    run = cli()
    assert run.exit_code == 2
    assert "not valid YAML" in run.stderr


def test_unknown_domain_exits_2(cli):
    run = cli("--domain", "nosuch")
    assert run.exit_code == 2 and "no domain 'nosuch'" in run.stderr


def test_output_file(cli, mesh: MeshCopy):
    out = mesh.root / "gov.json"
    assert cli("--format", "json", "--output", str(out)).exit_code == 0
    assert json.loads(out.read_text())["exit_code"] == 0


@pytest.mark.slow
def test_the_installed_command_runs_on_the_repo(tmp_path):
    """The console script CI calls, on this repository (a fresh MESH_HOME: only notes)."""
    run = run_mesh(tmp_path, "govern", root=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout
