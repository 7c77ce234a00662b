"""Conformance: dbt .yml columns beyond the contract; ports and contracts cover each other."""

from __future__ import annotations

import pytest
import typer
import yaml
from mesh_platform.cli.contracts import register
from mesh_platform.contracts.conformance import check_dbt_columns, check_mesh_drift
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.contracts.types import normalize_type

from tests.contracts import REFERENCE, prop, write_contract
from tests.support import REPO, copy_mesh, invoke

MARTS = REPO / "domains" / "sales" / "dbt" / "models" / "marts"


def _yml(tmp_path, edit=None):
    """A copy of order_lines.yml with ``edit`` applied to its columns (keyed by name)."""
    data = yaml.safe_load((MARTS / "order_lines.yml").read_text())
    if edit:
        edit(data["models"][0]["columns"])
    path = tmp_path / "order_lines.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _column(columns, name):
    return next(c for c in columns if c["name"] == name)


def test_order_lines_yml_holds_no_column_beyond_the_contract():
    assert (
        check_dbt_columns(load_contract(REFERENCE), MARTS / "order_lines.yml", "order_lines") == []
    )


def test_repo_has_no_contract_drift():
    assert [str(e) for e in check_mesh_drift(REPO)] == []


def test_extra_dbt_column_names_both_files(tmp_path):
    extra = {"name": "coupon", "description": "x"}
    yml = _yml(tmp_path, lambda cols: cols.append(extra))
    [error] = check_dbt_columns(load_contract(REFERENCE), yml, "order_lines")
    assert (error.file, error.field) == (yml, "models[0].columns[4]")
    assert "coupon" in error.message and str(REFERENCE) in error.message


def test_types_and_missing_columns_are_the_contracts_to_say(tmp_path):
    """The .yml holds no types and may leave columns out: the platform injects them."""
    yml = _yml(tmp_path, lambda cols: cols.pop())
    assert check_dbt_columns(load_contract(REFERENCE), yml, "order_lines") == []
    assert check_dbt_columns(load_contract(REFERENCE), yml, "orders") == []  # declared elsewhere


@pytest.mark.parametrize(
    ("text", "normal"),
    [("decimal(10, 2)", "DECIMAL(10,2)"), ("numeric", "DECIMAL(18,3)"), ("int4", "INTEGER"),
     ("bool", "BOOLEAN"), ("timestamp with time zone", "TIMESTAMPTZ"), ("int[]", "INTEGER[]"),
     ("Varchar(20)", "VARCHAR(20)"), ("float8", "DOUBLE")],
)  # fmt: skip
def test_normalize_type(text, normal):
    assert normalize_type(text) == normal


@pytest.fixture
def repo(tmp_path):
    """A copy of the repo's domains and contracts."""
    return copy_mesh(tmp_path / "repo")


def test_mesh_drift_ports_and_contracts_cover_each_other(repo):
    (repo / "contracts" / "sales" / "daily_revenue.odcs.yaml").unlink()
    write_contract(repo, lambda d: d.update(id="urn:datacontract:sales:refunds"),
                   rel="sales/refunds.odcs.yaml")  # fmt: skip
    text = "\n".join(str(e) for e in check_mesh_drift(repo))
    assert "daily_revenue.yaml: output_ports[0]: public output port has no contract" in text
    assert "refunds.odcs.yaml: id: no output port 'sales/refunds'" in text


def test_mesh_drift_port_version_freshness_and_dbt(repo):
    def edit(d):
        d["customProperties"] = [{"property": "portVersion", "value": 2}]
        d["slaProperties"][0]["value"] = 12
        d["schema"][0]["properties"] = [p for p in d["schema"][0]["properties"]
                                        if p["name"] != "channel"]  # fmt: skip

    write_contract(repo, edit)
    descriptor = repo / "domains/sales/products/order_lines.yaml"
    data = yaml.safe_load(descriptor.read_text())
    data["slos"]["freshness_hours"] = 24  # written twice, and the two differ
    descriptor.write_text(yaml.safe_dump(data))
    text = "\n".join(str(e) for e in check_mesh_drift(repo))
    assert "order_lines.odcs.yaml: customProperties.portVersion: port version 2" in text
    assert "order_lines.odcs.yaml: slaProperties.freshness: 12 h" in text
    assert "order_lines.yml: models[0].columns[3]: column 'channel' is not in contract" in text


def test_invalid_contract_is_reported_once(repo):
    write_contract(repo, lambda d: d.update(version="one"))
    errors = check_mesh_drift(repo)
    assert [(e.file.name, e.field) for e in errors] == [("order_lines.odcs.yaml", "version")]


@pytest.fixture
def lint(repo, mesh_home, monkeypatch):
    """Run `mesh contracts lint` on the repo copy (env changes are undone by monkeypatch)."""
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(repo))
    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)
    return lambda *args: invoke(app, "contracts", "lint", *args)


def test_cli_lint_exits_2_naming_file_and_field(repo, lint):
    write_contract(repo, lambda d: prop(d, "status").update(logicalType="text"))
    result = lint()
    assert result.exit_code == 2
    assert "order_lines.odcs.yaml: schema[0].properties[7].logicalType: must be one of" in (
        result.output
    )
    assert "Traceback" not in result.output
    result = lint(str(repo / "contracts" / "sales" / "daily_revenue.odcs.yaml"))
    assert result.exit_code == 0, result.output


def test_cli_lint_given_file_reports_its_dbt_drift(repo, lint):
    def drop_channel(d):
        d["schema"][0]["properties"] = [p for p in d["schema"][0]["properties"]
                                        if p["name"] != "channel"]  # fmt: skip

    path = write_contract(repo, drop_channel)
    result = lint(str(path))
    assert result.exit_code == 2
    assert "column 'channel' is not in contract" in result.output


def test_cli_lint_given_files_and_whole_repo(repo, lint):
    result = lint(str(repo / "contracts" / "sales"))
    assert result.exit_code == 0, result.output
    result = lint()
    assert result.exit_code == 0 and "valid" in result.output, result.output
