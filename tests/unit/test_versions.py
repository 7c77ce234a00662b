"""Two majors of a port published side by side: descriptors, contracts, consumers, retirement."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from mesh_platform import ports
from mesh_platform.contracts.checks import load_port_contract, port_contract_path
from mesh_platform.contracts.conformance import check_mesh_drift
from mesh_platform.contracts.diff import diff_contracts, verdict
from mesh_platform.contracts.odcs import Contract, load_contract
from mesh_platform.descriptors.crosscheck import check_mesh
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import load_mesh

from tests.support import copy_mesh, edit_yaml

DEPRECATION = date(2027, 3, 31)
V2_MODEL = """select * exclude (line_revenue), line_revenue as revenue_eur
from {{ ref('order_lines') }}
"""


def _add_v2_model(marts: Path) -> None:
    (marts / "order_lines_v2.sql").write_text(V2_MODEL)
    props = yaml.safe_load((marts / "order_lines.yml").read_text())
    model = props["models"][0] | {"name": "order_lines_v2"}
    model["columns"] = [c | {"name": "revenue_eur"} if c["name"] == "line_revenue" else c
                        for c in model["columns"]]  # fmt: skip
    (marts / "order_lines_v2.yml").write_text(yaml.safe_dump({"version": 2, "models": [model]}))


def _v2_contract(data: dict) -> None:
    data["version"] = "2.0.0"
    data["customProperties"] = [{"property": "portVersion", "value": 2}]
    for prop in data["schema"][0]["properties"]:
        if prop["name"] == "line_revenue":
            prop["name"] = "revenue_eur"
    for rule in data["schema"][0]["quality"]:
        if "query" in rule:
            rule["query"] = rule["query"].replace("line_revenue", "revenue_eur")


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of domains/ and contracts/ where sales/order_lines publishes v1 and v2."""
    root = copy_mesh(tmp_path / "repo")
    _add_v2_model(root / "domains" / "sales" / "dbt" / "models" / "marts")
    set_v1_deprecation(root, DEPRECATION)
    edit_yaml(root / "domains" / "sales" / "products" / "order_lines.yaml",
               lambda d: d["output_ports"].append(
                   {"name": "order_lines", "model": "order_lines_v2", "version": 2}))  # fmt: skip
    contracts = root / "contracts" / "sales"
    shutil.move(contracts / "order_lines.odcs.yaml", contracts / "order_lines.v1.odcs.yaml")
    shutil.copy(contracts / "order_lines.v1.odcs.yaml", contracts / "order_lines.odcs.yaml")
    edit_yaml(contracts / "order_lines.odcs.yaml", _v2_contract)
    return root


def set_v1_deprecation(root: Path, when: date | None) -> None:
    edit_yaml(root / "domains" / "sales" / "products" / "order_lines.yaml",
               lambda d: d["output_ports"][0].update(deprecation_date=when))  # fmt: skip


def read_version(root: Path, version: int) -> Path:
    """Make personalization's descriptor read ``version`` of sales/order_lines."""
    path = root / "domains" / "personalization" / "products" / "customer_features.yaml"

    def edit(d):
        next(p for p in d["input_ports"] if p["name"] == "order_lines")["version"] = version

    edit_yaml(path, edit)
    return path


def errors_of(root: Path) -> list[str]:
    domains, errors = load_mesh(root / "domains")
    return [str(e) for e in errors + check_mesh_drift(root, domains)]


def test_two_majors_validate(repo):
    assert errors_of(repo) == []
    domains, _ = load_mesh(repo / "domains")
    declared = domains["sales"].products["order_lines"].output_ports
    assert [(p.version, p.model, p.deprecation_date) for p in declared] == [
        (1, "order_lines", DEPRECATION), (2, "order_lines_v2", None)]  # fmt: skip


def test_older_major_needs_a_deprecation_date(repo):
    set_v1_deprecation(repo, None)
    errors = errors_of(repo)
    assert any(
        "order_lines.yaml: output_ports[0].deprecation_date: 'order_lines' v1 needs a "
        "deprecation_date: v2 is published beside it" in e
        for e in errors
    ), errors


def test_duplicate_major_is_an_error(repo):
    edit_yaml(repo / "domains" / "sales" / "products" / "order_lines.yaml",
               lambda d: d["output_ports"][1].update(version=1))  # fmt: skip
    errors = errors_of(repo)
    assert any("output_ports[1].version: 'order_lines' v1 is already declared" in e
               for e in errors), errors  # fmt: skip


def test_missing_older_contract_is_reported(repo):
    (repo / "contracts" / "sales" / "order_lines.v1.odcs.yaml").unlink()
    errors = [str(e) for e in check_mesh_drift(repo)]
    assert any("order_lines.yaml: output_ports[0]: public output port has no contract "
               "contracts/sales/order_lines.v1.odcs.yaml" in e for e in errors), errors  # fmt: skip


def test_older_major_file_must_hold_that_major(repo):
    path = repo / "contracts" / "sales" / "order_lines.v1.odcs.yaml"
    edit_yaml(path, lambda d: d.update(version="2.0.0"))
    errors = [str(e) for e in check_mesh_drift(repo)]
    assert any("order_lines.v1.odcs.yaml: version: must be 1.x.y" in e for e in errors), errors


def test_diff_v1_to_v2_is_breaking_and_ok_only_with_the_major_bump(repo):
    contracts = repo / "contracts" / "sales"
    old = load_contract(contracts / "order_lines.v1.odcs.yaml", check_path=False)
    new = load_contract(contracts / "order_lines.odcs.yaml", check_path=False)
    assert old.id == new.id == "urn:datacontract:sales:order_lines"
    changes = diff_contracts(old, new)
    assert any(c.breaking and c.kind == "renamed" and c.column == "line_revenue" for c in changes)
    assert verdict(changes, old, new).ok
    unbumped = new.model.model_copy(update={"version": "1.1.0"})
    assert not verdict(changes, old, Contract(new.path, unbumped)).ok


def test_consumer_reads_any_declared_major(repo):
    read_version(repo, 2)
    assert errors_of(repo) == []


def test_consumer_reading_an_undeclared_major_fails(repo):
    path = read_version(repo, 3)
    _, errors = load_mesh(repo / "domains")
    assert [(e.file, e.field) for e in errors] == [(path, "input_ports[2].version")]
    assert "reads v3 but 'sales/order_lines' publishes v1, v2" in errors[0].message


def test_consumer_reading_a_retired_major_fails(repo):
    set_v1_deprecation(repo, date(2020, 1, 31))
    path = read_version(repo, 1)
    domains, errors = load_mesh(repo / "domains")
    found = {(e.file, e.field): e.message for e in errors}
    message = found[(path, "input_ports[2].version")]
    assert "retired after 2020-01-31" in message and "move to v2" in message
    # Before the date the same read is fine.
    assert check_mesh(domains, today=date(2020, 1, 31)) == []


def test_retired_around_the_deprecation_date(repo):
    domains, _ = load_mesh(repo / "domains")
    v1, v2 = domains["sales"].products["order_lines"].output_ports
    assert not ports.retired(v1, today=DEPRECATION)
    assert ports.retired(v1, today=date(2027, 4, 1))
    assert not ports.retired(v2, today=date(2099, 1, 1))


def test_load_port_contract_per_major(repo):
    contracts = repo / "contracts"
    v1 = load_port_contract(contracts, "sales", "order_lines", 1)
    v2 = load_port_contract(contracts, "sales", "order_lines", 2)
    assert v1 and v2 and (v1.version, v2.version) == ("1.0.0", "2.0.0")
    assert v1.path.name == "order_lines.v1.odcs.yaml" and v2.path.name == "order_lines.odcs.yaml"
    assert port_contract_path(contracts, "sales", "order_lines", 1, 2) == v1.path
    assert port_contract_path(contracts, "sales", "order_lines", 2, 2) == v2.path
    # Without a v1 file the unversioned v2 contract must not be used to audit v1.
    v1.path.unlink()
    with pytest.raises(SpecErrors, match="holds v2, not v1"):
        load_port_contract(contracts, "sales", "order_lines", 1)


def test_consumer_source_maps_to_the_model_of_the_major_read(repo):
    from mesh_platform.dbt.translator import MeshTranslator

    domains, _ = load_mesh(repo / "domains")
    translator = MeshTranslator(domains["personalization"])
    source = {"resource_type": "source", "source_name": "sales", "name": "order_lines",
              "meta": {"mesh_port": "sales/order_lines"}}  # fmt: skip
    assert translator.get_asset_key(source).path == ["sales", "order_lines"]
    source["meta"] = {**source["meta"], "mesh_port_version": 2}
    assert translator.get_asset_key(source).path == ["sales", "order_lines_v2"]
