"""`mesh validate` finds, with file and field, every declaration `mesh up` would refuse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mesh_platform.cli import app
from mesh_platform.contracts.conformance import validate_mesh
from typer.testing import CliRunner

from tests.support import REPO


@pytest.fixture
def root(tmp_path) -> Path:
    """A copy of the demo's domains/ and contracts/."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb", ".user.yml")
    shutil.copytree(REPO / "domains", root / "domains", ignore=ignore)
    shutil.copytree(REPO / "contracts", root / "contracts")
    return root


def errors(root: Path) -> list[tuple[str, str, str]]:
    """(file relative to the root, field, message) of every validate error."""
    _, found = validate_mesh(root)
    return [(e.file.resolve().relative_to(root.resolve()).as_posix(), e.field, e.message)
            for e in found]  # fmt: skip


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def set_type(root: Path, column: str, physical: str) -> int:
    """Give a column of sales/daily_revenue's contract another physicalType; its index."""
    path = root / "contracts/sales/daily_revenue.odcs.yaml"
    doc = yaml.safe_load(path.read_text())
    props = doc["schema"][0]["properties"]
    i = next(i for i, p in enumerate(props) if p["name"] == column)
    props[i]["physicalType"] = physical
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return i


def test_demo_mesh_is_valid(root):
    assert errors(root) == []


def test_source_neither_landing_nor_input_port(root):
    sql = "domains/sales/dbt/models/staging/stg_erp__returns.sql"
    write(root, sql, "select *\nfrom {{ source('erp', 'returns') }}\n")
    found = errors(root)
    assert [(f, field) for f, field, _ in found] == [(sql, "line 2: source('erp', 'returns')")]
    assert "neither a landing input" in found[0][2] and "input_ports" in found[0][2]


def test_raw_table_that_is_no_landing_input(root):
    sql = "domains/sales/dbt/models/staging/stg_erp__returns.sql"
    write(root, sql, "select * from {{ source('raw', 'erp_returns') }}\n")
    assert [f for f, *_ in errors(root)] == [sql]


def test_private_and_undeclared_port_reads(root):
    path = root / "domains/customers/products/customer_profiles.yaml"
    product = yaml.safe_load(path.read_text())
    private = {"name": "customer_master", "model": "customer_master", "visibility": "private"}
    path.write_text(
        yaml.safe_dump({**product, "output_ports": [*product["output_ports"], private]})
    )
    yml = "domains/personalization/dbt/models/staging/_more__sources.yml"
    write(root, yml, yaml.safe_dump({"version": 2, "sources": [
        {"name": "customers_private", "tables": [
            {"name": "customer_master", "meta": {"mesh_port": "customers/customer_master"}}]},
        {"name": "sales", "tables": [
            {"name": "daily_revenue", "meta": {"mesh_port": "sales/daily_revenue"}}]},
    ]}))  # fmt: skip
    found = {field: msg for f, field, msg in errors(root) if f == yml}
    private = found["source customers_private.customer_master"]
    assert "customers/customer_master" in private and "private" in private
    assert "not an input port" in found["source sales.daily_revenue"]


def test_public_port_without_a_contract(root):
    (root / "contracts/sales/daily_revenue.odcs.yaml").unlink()
    found = errors(root)
    assert [(f, field) for f, field, _ in found] == [
        ("domains/sales/products/daily_revenue.yaml", "output_ports[0]")
    ]
    assert "no contract" in found[0][2]


@pytest.mark.parametrize(("physical", "why"), [("HUGEINT", "cannot be held by a port"),
                                               ("MONEY", "not a DuckDB type")])  # fmt: skip
def test_contract_type_the_platform_cannot_hold(root, physical, why):
    i = set_type(root, "revenue", physical)
    found = [(f, field, m) for f, field, m in errors(root) if why in m]
    assert [(f, field) for f, field, _ in found] == [
        ("contracts/sales/daily_revenue.odcs.yaml", f"schema[0].properties[{i}].physicalType")
    ]


def test_mesh_validate_names_file_and_field(root, monkeypatch):
    set_type(root, "revenue", "HUGEINT")
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(root.parent / "home"))
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 2
    assert "daily_revenue.odcs.yaml: schema[0].properties[" in result.output
    assert "HUGEINT cannot be held by a port" in result.output
