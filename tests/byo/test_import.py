"""`mesh import dbt` and `mesh new product --from-landing`: what they write, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mesh_platform.cli import app
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.descriptors.models import DomainSpec, InputPort, ProductSpec
from mesh_platform.scaffold.mesh import init_mesh
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def mesh(tmp_path: Path, monkeypatch) -> Path:
    """An empty mesh root (as `mesh init` makes it), with its MESH_HOME beside it."""
    root = tmp_path / "repo"
    init_mesh(root)
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(root))
    monkeypatch.setenv("MESH_HOME", str(tmp_path / "home"))
    return root


def _import(project: Path, domain: str, *public: str):
    args = ["import", "dbt", str(project), "--domain", domain, "--no-build"]
    return runner.invoke(app, [*args, *(a for m in public for a in ("--public", m))])


def _descriptor(path: Path) -> dict:
    """A product descriptor, checked by the platform's model (dbt_source only if it knows it)."""
    data = yaml.safe_load(path.read_text())
    known = "dbt_source" in InputPort.model_fields
    checked = {
        **data,
        "input_ports": [
            {k: v for k, v in p.items() if known or k != "dbt_source"} for p in data["input_ports"]
        ],
    }
    ProductSpec.model_validate(checked)
    return data


def test_shop_a_becomes_a_domain(mesh: Path, projects: Path):
    result = _import(projects / "shop_a", "shop", "customers", "orders")
    assert result.exit_code == 0, result.output
    home = mesh / "domains" / "shop"
    domain = DomainSpec.model_validate(yaml.safe_load((home / "domain.yaml").read_text()))
    assert domain.team.startswith("TODO(decide)") and domain.owners == ["team:todo"]
    customers = _descriptor(home / "products" / "customers.yaml")
    assert customers["description"] == "One row per customer with their completed orders."
    assert customers["input_ports"] == [
        {"name": n, "kind": "landing", "location": f"shop/{n}.csv", "dbt_source": "ecom"}
        for n in ("raw_customers", "raw_orders")
    ]
    assert _descriptor(home / "products" / "orders.yaml")["input_ports"][0]["name"] == "raw_orders"
    assert not (home / "products" / "shop.yaml").exists()  # every feed is read by a public model
    src = projects / "shop_a"
    carried = ("models/marts/marts.yml", "models/staging/stg_orders.sql",
               "macros/is_completed.sql", "tests/assert_spend_not_negative.sql")  # fmt: skip
    for rel in carried:
        assert (home / "dbt" / rel).read_text() == (src / rel).read_text(), rel  # unchanged
    assert not (home / "dbt" / "models" / "staging" / "__sources.yml").exists()  # now generated
    packages = yaml.safe_load((home / "dbt" / "packages.yml").read_text())
    assert packages == {"packages": [{"local": "packages/shop_macros"}]}
    assert (home / "dbt" / "packages" / "shop_macros" / "macros" / "cents_to_dollars.sql").exists()
    config = yaml.safe_load((home / "dbt" / "project_config.yml").read_text())
    assert config["models"]["marts"] == {"+materialized": "table"}
    contract = load_contract(mesh / "contracts" / "shop" / "sources" / "raw_orders.odcs.yaml")
    assert contract.model.servers[0].path == "landing/shop/raw_orders.csv"
    assert (mesh.parent / "home" / "landing" / "shop" / "raw_orders.csv").exists()
    assert "`mesh contracts init shop/customers`" in result.output


def test_hub_packages_are_carried_and_noted(mesh: Path, projects: Path):
    hub = "  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"
    (projects / "shop_a" / "packages.yml").write_text(
        f"packages:\n{hub}  - local: ../shop_macros\n"
    )
    result = _import(projects / "shop_a", "shop", "customers")
    assert result.exit_code == 0, result.output
    carried = yaml.safe_load((mesh / "domains" / "shop" / "dbt" / "packages.yml").read_text())
    assert carried["packages"][0] == {"package": "dbt-labs/dbt_utils", "version": "1.3.0"}
    assert "packages.yml: packages[0] is fetched by the first build" in result.output


def test_shop_b_data_file_snapshot_and_rest_product(mesh: Path, projects: Path):
    result = _import(projects / "shop_b", "stores", "daily_store_sales")
    assert result.exit_code == 0, result.output
    home = mesh / "domains" / "stores"
    ports = _descriptor(home / "products" / "daily_store_sales.yaml")["input_ports"]
    footfall = next(p for p in ports if p["name"] == "footfall")
    assert footfall == {"name": "footfall", "kind": "landing",
                        "location": "stores/footfall.jsonl", "dbt_source": "pos"}  # fmt: skip
    assert (home / "dbt" / "snapshots" / "stores_snapshot.yml").exists()
    assert (home / "dbt" / "analyses" / "top_stores.sql").exists()
    assert (home / "dbt" / "dependencies.yml").exists()
    assert load_contract(mesh / "contracts" / "stores" / "sources" / "footfall.odcs.yaml")
    # A seed read with ref() becomes a model of its name over its feed: the SQL stays as it is.
    seed_model = (home / "dbt" / "models" / "seeds" / "store_regions.sql").read_text()
    assert "from {{ source('raw', 'store_regions') }}" in seed_model
    rest = _descriptor(home / "products" / "stores.yaml")
    assert rest["input_ports"] == [
        {"name": "store_regions", "kind": "landing", "location": "stores/store_regions.csv"}
    ]
    assert "store_directory" in [p["model"] for p in rest["output_ports"]]


def test_a_json_file_that_is_no_data_is_left_out(mesh: Path, projects: Path):
    (projects / "shop_a" / "models" / "settings.json").write_text('{"broken": ')
    (projects / "shop_a" / ".vscode").mkdir()
    (projects / "shop_a" / ".vscode" / "tasks.json").write_text("{}")
    result = _import(projects / "shop_a", "shop", "customers")
    assert result.exit_code == 0, result.output
    assert "not imported as a feed:" in result.output and "settings.json" in result.output
    assert not list((mesh / "contracts" / "shop" / "sources").glob("settings*"))
    assert not list((mesh / "contracts" / "shop" / "sources").glob("tasks*"))


def test_models_of_no_public_port_get_a_private_product(mesh: Path, projects: Path):
    assert _import(projects / "shop_a", "shop", "orders").exit_code == 0
    rest = _descriptor(mesh / "domains" / "shop" / "products" / "shop.yaml")
    assert [p["name"] for p in rest["input_ports"]] == ["raw_customers"]
    assert {p["model"]: p["visibility"] for p in rest["output_ports"]} == {
        "customers": "private", "metricflow_time_spine": "private"}  # fmt: skip


@pytest.mark.parametrize(
    ("breaks", "public", "message"),
    [
        (lambda p: (p / "dbt_project.yml").unlink(), [],
         "{p}/dbt_project.yml: not found: {p} is not a dbt project"),
        (lambda p: None, ["nope"], "{p}: --public: no model 'nope' (models: customers, "),
        (lambda p: (p / "seeds" / "raw_orders.csv").write_text("a,b\n1,2,3,4\n"), [],
         "{p}/seeds/raw_orders.csv: header: "),
        (lambda p: (p / "models" / "marts" / "marts.yml").write_text("models: [\n"), [],
         "{p}/models/marts/marts.yml: file: cannot read:"),
        (lambda p: (p / "packages.yml").write_text("packages:\n  - local: ../gone\n"), [],
         "{p}/packages.yml: packages[0].local: '../gone' does not exist"),
    ],
)  # fmt: skip
def test_malformed_input_is_one_line(mesh: Path, projects: Path, breaks, public, message):
    project = projects / "shop_a"
    breaks(project)
    result = _import(project, "shop", *public)
    assert result.exit_code == 2
    assert result.stderr.startswith("error " + message.format(p=project))
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (mesh / "domains" / "shop").exists()  # nothing written


def test_new_product_from_landing(mesh: Path, projects: Path):
    assert _import(projects / "shop_a", "shop", "customers").exit_code == 0
    args = ["new", "product", "shop", "orders_landed", "--from-landing", "raw_orders"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    models = mesh / "domains" / "shop" / "dbt" / "models"
    staging = (models / "staging" / "stg_ecom__raw_orders.sql").read_text()
    assert "cast(ordered_at as DATE) as ordered_at" in staging
    assert "from {{ source('ecom', 'raw_orders') }}" in staging  # the feed's own source name
    assert "ref('stg_ecom__raw_orders')" in (models / "marts" / "orders_landed.sql").read_text()
    spec = _descriptor(mesh / "domains" / "shop" / "products" / "orders_landed.yaml")
    assert spec["output_ports"][0]["visibility"] == "private"
    unknown = runner.invoke(app, [*args[:-1], "nope"])
    assert unknown.exit_code == 2 and "mesh contracts infer" in unknown.stderr
