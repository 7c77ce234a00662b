"""`mesh new domain|product`: the scaffold loads, validates and says what a human must fill in."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import yaml
from mesh_platform.contracts.conformance import check_mesh_drift
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.scaffold import ScaffoldError, new_domain, new_product

from tests.support import env_with, port_files, run_mesh


def scaffold(root):
    new_domain(root, "finance", owners=["finance-data@retail.example"])
    return new_product(
        root, "finance", "revenue_by_channel", "sales/order_lines", public=True,
        columns=["order_date", "channel", "line_revenue"],
    )  # fmt: skip


def test_new_domain_and_public_product_are_valid(mesh_copy):
    written = {str(p) for p in scaffold(mesh_copy)}
    assert {
        "domains/finance/products/revenue_by_channel.yaml",
        "domains/finance/dbt/models/marts/revenue_by_channel.sql",
        "domains/finance/dbt/models/marts/revenue_by_channel.yml",
        "domains/finance/dbt/models/staging/stg_sales__order_lines.sql",
        "contracts/finance/revenue_by_channel.odcs.yaml",
    } <= written
    domains, errors = load_mesh(mesh_copy / "domains")
    errors += check_mesh_drift(mesh_copy, domains)  # the contract agrees with the dbt model
    assert errors == []
    product = domains["finance"].products["revenue_by_channel"]
    assert product.input_ports[0].product == "sales/order_lines"
    assert "TODO:" in product.description and "TODO:" in domains["finance"].spec.team
    contract = load_contract(mesh_copy / "contracts/finance/revenue_by_channel.odcs.yaml")
    upstream = load_contract(mesh_copy / "contracts/sales/order_lines.odcs.yaml")
    old = {c.name: c for c in upstream.columns}
    assert [c.name for c in contract.columns] == ["order_date", "channel", "line_revenue"]
    for col in contract.columns:  # types and classification carried from the port it reads
        assert (col.physicalType, col.classification) == (
            old[col.name].physicalType, old[col.name].classification)  # fmt: skip
    assert contract.primary_key == []  # order_lines' key (order_id, line_number) was not kept


def test_workspace_entry_appended_and_comments_kept(mesh_copy):
    workspace = mesh_copy / "dagster_project/workspace.yaml"
    before = workspace.read_text()
    new_domain(mesh_copy, "finance")
    after = workspace.read_text()
    assert after.startswith(before)  # nothing above was rewritten: comments stay
    entries = yaml.safe_load(after)["load_from"]  # the domains + the platform's module
    locations = [next(iter(e.values()))["location_name"] for e in entries]
    assert locations[-1] == "finance" and len(locations) == len(set(locations))
    entry = yaml.safe_load(after)["load_from"][-1]["python_module"]
    assert entry["module_name"] == "mesh_platform.orchestration.domain_location"
    assert entry["attribute"] == "finance"
    assert not (mesh_copy / "domains/finance/definitions.py").exists()  # no boilerplate
    assert not (mesh_copy / "domains/finance/dbt/dbt_project.yml").exists()
    assert (mesh_copy / "domains/finance/defs.yaml").exists()


def test_refuses_existing_and_bad_input_before_writing(mesh_copy):
    workspace = (mesh_copy / "dagster_project/workspace.yaml").read_text()
    with pytest.raises(ScaffoldError, match="exists already"):
        new_domain(mesh_copy, "sales")
    with pytest.raises(ScaffoldError, match="lower snake case"):
        new_domain(mesh_copy, "Finance")
    with pytest.raises(ScaffoldError, match="e-mail"):
        new_domain(mesh_copy, "finance2", owners=["nobody"])
    assert (mesh_copy / "dagster_project/workspace.yaml").read_text() == workspace
    new_domain(mesh_copy, "finance")
    with pytest.raises(ScaffoldError, match="no output port 'nope'"):
        new_product(mesh_copy, "finance", "x", "sales/nope")
    with pytest.raises(ScaffoldError, match="not in sales/order_lines"):
        new_product(mesh_copy, "finance", "x", "sales/order_lines", columns=["order_dte"])
    with pytest.raises(ScaffoldError, match="exists already"):
        new_product(mesh_copy, "sales", "daily_revenue", "sales/order_lines")
    assert not (mesh_copy / "domains/finance/products").exists()  # nothing half-written
    with pytest.raises(ScaffoldError, match="model 'stg_erp__orders' exists already"):
        new_product(mesh_copy, "sales", "stg_erp__orders", "sales/order_lines")
    (mesh_copy / "contracts/finance").mkdir(parents=True)
    (mesh_copy / "contracts/finance/revenue.odcs.yaml").write_text("kept\n")
    with pytest.raises(ScaffoldError, match="already exists: contracts/finance/revenue.odcs"):
        new_product(mesh_copy, "finance", "revenue", "sales/order_lines", public=True)
    assert not (mesh_copy / "domains/finance/products/revenue.yaml").exists()


def test_same_domain_product_reads_the_model_and_private_has_no_contract(mesh_copy):
    written = new_product(mesh_copy, "sales", "big_orders", "sales/order_lines")
    assert not any(str(p).startswith("contracts/") for p in written)
    sql = (mesh_copy / "domains/sales/dbt/models/marts/big_orders.sql").read_text()
    assert "ref('order_lines')" in sql  # its own domain's model, no port source
    domains, errors = load_mesh(mesh_copy / "domains")
    assert errors == [] and domains["sales"].products["big_orders"].output_ports[0].visibility == (
        "private")  # fmt: skip


def test_cli_scaffold_validates_and_definitions_load(mesh_copy, tmp_path):
    home = tmp_path / "home"
    proc = run_mesh(home, "new", "domain", "finance", root=mesh_copy)
    assert proc.returncode == 0, proc.stderr
    assert "domains/finance/domain.yaml" in proc.stdout
    again = run_mesh(home, "new", "domain", "finance", root=mesh_copy)
    assert again.returncode == 2 and "exists already" in again.stderr
    proc = run_mesh(home, "new", "product", "finance", "channel_revenue", "--from",
                    "sales/order_lines", "--public", "--columns", "channel,line_revenue",
                    root=mesh_copy)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert run_mesh(home, "validate", root=mesh_copy).returncode == 0
    code = (
        "from mesh_platform.orchestration.factory import build_domain_definitions as b\n"
        "d = b('domains/finance')\n"
        "print(sorted(k.to_user_string() for k in d.resolve_asset_graph().get_all_asset_keys()))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=mesh_copy, capture_output=True, text=True,
        env=env_with(MESH_PROJECT_ROOT=str(mesh_copy), MESH_HOME=str(home)),
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    keys = ast.literal_eval(loaded.stdout.strip().splitlines()[-1])
    assert "finance/channel_revenue" in keys and "sales/order_lines" in keys  # the port edge


def test_governance_flags_every_todo(mesh_copy):
    from mesh_platform.governance.engine import run_governance

    scaffold(mesh_copy)
    result = run_governance(mesh_copy, domain="finance")
    todo = [f for f in result.findings if "TODO" in f.message or "placeholder" in f.message]
    fields = {(f.file.split("/")[-1], f.field) for f in todo}
    assert ("domain.yaml", "description") in fields
    assert ("revenue_by_channel.yaml", "description") in fields
    assert any(f.endswith(".odcs.yaml") for f, _ in fields)  # the contract's TODOs too
    assert result.exit_code != 0 and all(f.severity.name == "error" for f in todo)


@pytest.mark.slow
def test_scaffolded_product_builds_publishes_and_governance_flags_todos(mesh_copy, tmp_path):
    home = tmp_path / "home"
    scaffold(mesh_copy)  # TODOs left as they are
    proc = run_mesh(home, "up", "--scale", "0.05", "-d", "catalog", "-d", "sales",
                    "-d", "finance", root=mesh_copy)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "finance: dbt_build ok" in proc.stdout  # progress lines (no terminal here)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("│ finance"))
    assert "revenue_by_channel" in row and "1 passed" in row  # published through its contract
    assert port_files(home, "finance/revenue_by_channel")  # its table has a current snapshot
    governed = run_mesh(home, "govern", "--domain", "finance", root=mesh_copy)
    assert governed.returncode == 1
    assert governed.stdout.count("TODO placeholder") >= 3, governed.stdout
