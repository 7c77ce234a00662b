"""`mesh lineage verify` and the other sub-commands, through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from mesh_platform.cli.lineage import register
from mesh_platform.lineage.log import EVENTS

from tests.support import invoke


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command keeps `lineage` a sub-command, as in `mesh`
    def noop() -> None: ...

    return app


def mesh_cli(app, *args: str):
    return invoke(app, "lineage", *args)


def test_verify_a_clean_log(app, paths, mesh):
    result = mesh_cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert f"{len(mesh.events)} events" in result.output


def test_verify_names_the_edited_event(app, paths, mesh):
    log = paths.lineage / EVENTS
    lines = log.read_text().splitlines()
    lines[5] = lines[5].replace("COMPLETE", "FAIL")
    log.write_text("\n".join(lines) + "\n")
    result = mesh_cli(app, "verify")
    assert result.exit_code == 1
    assert "seq 5" in result.output and "edited" in result.output


def test_verify_reports_a_deleted_event(app, paths, mesh):
    log = paths.lineage / EVENTS
    lines = log.read_text().splitlines()
    del lines[3]
    log.write_text("\n".join(lines) + "\n")
    result = mesh_cli(app, "verify")
    assert result.exit_code == 1
    assert "seq 3" in result.output and "deleted" in result.output


def test_upstream_by_alias_as_json(app, paths, mesh):
    result = mesh_cli(app, "upstream", "personalization/customer_features", "--column",
                      "monetary", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    assert f"{mesh.ds['sales.landing']}#amount" in {n["id"] for n in graph["nodes"]}


def test_table_runs_graph_and_sync(app, paths, mesh):
    result = mesh_cli(app, "downstream", "sales/order_lines", "--depth", "1")
    assert result.exit_code == 0, result.output
    assert "stg_sales__order_lines" in result.output
    result = mesh_cli(app, "runs", "sales/order_lines", "--format", "json")
    assert [r["parent_run_id"] for r in json.loads(result.output)] == ["dr-p1", "dr-s1"]
    result = mesh_cli(app, "graph", "sales/order_lines", "--format", "mermaid")
    assert result.output.startswith("flowchart LR")
    out = paths.home / "g.dot"
    result = mesh_cli(app, "graph", "personalization.main.customer_features", "-o", str(out))
    assert result.exit_code == 0 and out.read_text().startswith("digraph")
    assert "0 new event(s)" in mesh_cli(app, "sync").output
    assert f"{len(mesh.events)} new event(s)" in mesh_cli(app, "sync", "--rebuild").output


def test_unknown_dataset_exits_2(app, paths, mesh):
    result = mesh_cli(app, "upstream", "nope/nothing")
    assert result.exit_code == 2
    assert "no lineage recorded" in result.output
