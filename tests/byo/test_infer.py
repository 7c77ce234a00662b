"""`mesh contracts infer` and `mesh contracts init`: contracts from what DuckDB sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from mesh_platform.cli import app
from mesh_platform.contracts.infer import describe_file, logical_type
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.contracts.port_init import CLASSIFY, undecided_problems
from typer.testing import CliRunner

from tests.byo.conftest import PROJECTS

runner = CliRunner()
SHOP_A = PROJECTS / "shop_a"


def test_types_and_nulls_of_csv_jsonl_and_parquet(tmp_path: Path):
    csv = describe_file(SHOP_A / "seeds" / "raw_orders.csv")
    assert [(c.name, c.physical_type, c.has_nulls) for c in csv][:3] == [
        ("id", "BIGINT", False), ("customer_id", "BIGINT", False), ("ordered_at", "DATE", False)
    ]  # fmt: skip
    jsonl = describe_file(PROJECTS / "shop_b" / "data" / "footfall.jsonl")
    assert [c.logical_type for c in jsonl] == ["integer", "date", "integer"]
    parquet = tmp_path / "p.parquet"
    duckdb.sql(f"COPY (SELECT 1.5::DECIMAL(6,2) AS x, NULL::VARCHAR AS y) TO '{parquet}'")
    cols = describe_file(parquet)
    assert [(c.physical_type, c.has_nulls) for c in cols] == [("DECIMAL(6,2)", False),
                                                              ("VARCHAR", True)]  # fmt: skip


@pytest.mark.parametrize(
    ("physical", "logical"),
    [("HUGEINT", "integer"), ("decimal(38,2)", "number"), ("TIMESTAMP WITH TIME ZONE", "timestamp"),
     ("INTEGER[]", "array"), ("STRUCT(a INTEGER)", "object"), ("VARCHAR", "string")],
)  # fmt: skip
def test_logical_types(physical: str, logical: str):
    assert logical_type(physical) == logical


def test_inferred_source_contract_lints(tmp_path: Path):
    out = tmp_path / "contracts" / "shop" / "sources" / "raw_orders.odcs.yaml"
    seed = str(SHOP_A / "seeds" / "raw_orders.csv")
    result = runner.invoke(app, ["contracts", "infer", seed, "--domain", "shop", "-o", str(out)])
    assert result.exit_code == 0, result.output
    contract = load_contract(out)  # the house rules hold: loads where it lives
    assert contract.key == "shop/source/raw_orders"
    assert [c.physicalType for c in contract.columns][-2:] == ["BIGINT", "BIGINT"]
    stdout = runner.invoke(app, ["contracts", "infer", seed, "--domain", "shop", "--name", "o"])
    assert yaml.safe_load(stdout.stdout)["id"] == "urn:datacontract:shop:source:o"


def test_unreadable_file_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2,3,4\n5\n")
    result = runner.invoke(app, ["contracts", "infer", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error {bad}: header: DuckDB could not split rows into columns consistently "
        "(header read as ['a,b'])"
    )


@pytest.fixture
def built(tmp_path: Path, monkeypatch) -> Path:
    """A mesh root with domain 'shop' (shop_a's models) and a warehouse as dbt would build it."""
    root, home = tmp_path / "repo", tmp_path / "home"
    (root / "domains" / "shop").mkdir(parents=True)
    (root / "domains" / "shop" / "domain.yaml").write_text(
        "name: shop\nteam: Shop\nowners: [team:shop]\ndescription: The shop.\n"
    )
    shutil.copytree(SHOP_A / "models", root / "domains" / "shop" / "dbt" / "models")
    (home / "warehouse").mkdir(parents=True)
    with duckdb.connect(str(home / "warehouse" / "shop.duckdb")) as con:
        con.execute("CREATE TABLE customers AS SELECT 1 AS customer_id, 'Ada' AS name, "
                    "count(*) AS order_count, sum(2) AS items_bought, "
                    "sum(1.5::DECIMAL(16,2)) AS lifetime_spend")  # fmt: skip
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(home))
    return root


def test_init_drafts_port_contract_from_real_types(built: Path):
    result = runner.invoke(app, ["contracts", "init", "shop/customers"])
    assert result.exit_code == 0, result.output
    assert "TODO(decide)" in result.stderr
    draft = yaml.safe_load((built / "contracts" / "shop" / "customers.odcs.yaml").read_text())
    assert undecided_problems(draft) == []  # all that is left is a person's decision
    props = {p["name"]: p for p in draft["schema"][0]["properties"]}
    assert props["items_bought"]["physicalType"] == "HUGEINT"  # as it really is, and flagged:
    assert "cast it to BIGINT" in props["items_bought"]["customProperties"][0]["value"]
    assert props["lifetime_spend"]["physicalType"] == "DECIMAL(38,2)"
    assert props["name"]["description"] == "Display name."  # the project's column docs
    assert props["customer_id"]["primaryKey"] is True  # unique + not_null in the .yml
    assert {p["classification"] for p in props.values()} == {CLASSIFY}
    again = runner.invoke(app, ["contracts", "init", "shop/customers"])
    assert again.exit_code == 2 and "--force" in again.stderr


def test_init_before_build_says_what_to_do(built: Path):
    result = runner.invoke(app, ["contracts", "init", "shop/orders"])
    assert result.exit_code == 2
    assert "no table 'orders': build the model first" in result.stderr
    assert "Traceback" not in result.output
