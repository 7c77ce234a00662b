"""A contract drafted by `mesh contracts init` fails `mesh govern` until a person decides."""

from __future__ import annotations

import yaml
from mesh_platform.contracts.infer import Column
from mesh_platform.contracts.port_init import ModelDocs, port_contract
from mesh_platform.scaffold.import_dbt import import_dbt

from tests.byo.conftest import PROJECTS
from tests.governance.conftest import MeshCopy, failing

DR_CONTRACT = "contracts/sales/daily_revenue.odcs.yaml"
TYPES = {"order_date": "DATE", "category": "VARCHAR", "orders": "BIGINT", "units": "HUGEINT",
         "revenue": "DECIMAL(14,2)", "customers": "BIGINT"}  # fmt: skip
COLUMNS = [Column(name, kind, False) for name, kind in TYPES.items()]


def _draft(mesh: MeshCopy) -> dict:
    draft = port_contract("sales", "daily_revenue", COLUMNS, ModelDocs(columns={"units": "Units."}))
    mesh.write(DR_CONTRACT, yaml.safe_dump(draft, sort_keys=False))
    return draft


def test_undecided_classifications_are_findings(mesh: MeshCopy):
    _draft(mesh)
    found = failing(mesh.govern("sales"), "classification")
    fields = {f.field for f in found if f.file == DR_CONTRACT}
    assert fields == {f"schema[0].properties[{i}].classification" for i in range(6)}


def test_once_classified_descriptions_and_types_remain(mesh: MeshCopy):
    draft = _draft(mesh)
    for prop in draft["schema"][0]["properties"]:
        prop["classification"] = "internal"
    mesh.write(DR_CONTRACT, yaml.safe_dump(draft, sort_keys=False))
    result = mesh.govern("sales")
    docs = {f.field for f in failing(result, "documentation") if f.file == DR_CONTRACT}
    assert "schema[0].properties[0].description" in docs  # no dbt doc: a TODO
    assert "schema[0].properties[3].description" not in docs  # documented in dbt
    assert "description.purpose" in docs
    decided = [f for f in failing(result, "decisions") if f.file == DR_CONTRACT]
    assert [f.field for f in decided] == ["schema[0].properties[3].customProperties[0].value"]
    assert "HUGEINT reaches Parquet as DOUBLE" in decided[0].message


def test_an_imported_domain_fails_govern_until_decided(mesh: MeshCopy):
    import_dbt(mesh.root, mesh.home / "landing", PROJECTS / "shop_a", "shop", ["customers"])
    result = mesh.govern("shop")
    owner = {(f.field, f.message.split(":")[0]) for f in failing(result, "owner")}
    assert owner == {("team", "team is a placeholder"),
                     ("owners[0]", "owner 'team")}  # fmt: skip
    docs = {(f.file, f.field) for f in failing(result, "documentation")}
    assert ("domains/shop/domain.yaml", "description") in docs
