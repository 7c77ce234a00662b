"""The prepared dbt project: contract columns injected, sources generated, checkout untouched."""

from __future__ import annotations

import json
import shutil

import yaml
from mesh_platform.dbt.project import manifest_is_stale, prepare_manifest
from mesh_platform.dbt.render import prepared_dir, render_project
from mesh_platform.descriptors.loader import load_domain

from tests.support import REPO


def _copy(tmp_path, *names):
    """A mesh with these demo domains and all contracts, to edit freely."""
    for name in names:
        shutil.copytree(REPO / "domains" / name, tmp_path / "domains" / name)
    shutil.copytree(REPO / "contracts", tmp_path / "contracts")
    return tmp_path


def _render(root, name, home):
    return render_project(load_domain(root / "domains" / name), root / "contracts", home)


def _load(path):
    return yaml.safe_load(path.read_text())


def _snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_port_model_gets_contract_columns_keeping_the_teams_tests(tmp_path):
    project = _render(REPO, "sales", tmp_path / "home")
    assert project == prepared_dir(tmp_path / "home", "sales")
    [model] = _load(project / "models/marts/order_lines.yml")["models"]
    assert model["config"]["contract"] == {"enforced": True}
    columns = {c["name"]: c for c in model["columns"]}
    assert list(columns)[:2] == ["order_id", "line_number"]  # the contract's order
    assert columns["unit_price"]["data_type"] == "decimal(10,2)"
    # required is judged by the blocking contract check, which keeps a refused candidate
    assert "constraints" not in columns["order_id"] and "constraints" not in columns["promotion_id"]
    assert columns["order_id"]["data_tests"] == ["not_null"]  # the team's test stays
    assert columns["line_number"]["description"].startswith("Position of the line")


def test_port_model_without_a_yml_is_generated(tmp_path):
    root = _copy(tmp_path / "mesh", "sales")
    (root / "domains/sales/dbt/models/marts/daily_revenue.yml").unlink()
    project = _render(root, "sales", tmp_path / "home")
    [model] = _load(project / "models/_mesh/_mesh__ports.yml")["models"]
    assert model["name"] == "daily_revenue" and model["config"]["contract"]["enforced"]
    assert all(c.get("data_type") for c in model["columns"])


def test_sources_are_generated_from_input_ports(tmp_path):
    project = _render(REPO, "personalization", tmp_path / "home")
    sources = {s["name"]: s for s in _load(project / "models/_mesh/_mesh__sources.yml")["sources"]}
    [table] = [t for t in sources["sales"]["tables"] if t["name"] == "order_lines"]
    assert table["meta"]["mesh_port"] == "sales/order_lines"
    # the view each run points at the snapshot it pinned (dbt/port_views.py)
    location = '(SELECT * FROM mesh_ports."sales__order_lines_v1")'
    assert table["meta"]["external_location"] == location
    macro = (project / "mesh_macros/mesh_port.sql").read_text()
    assert "'sales/order_lines': {1: ['sales', 'order_lines']}" in macro
    project_file = _load(project / "dbt_project.yml")
    assert project_file["profile"] == "personalization"
    assert "mesh_macros" in project_file["macro-paths"]
    profile = _load(project / "profiles.yml")["personalization"]["outputs"]["local"]
    assert profile["path"] == str((tmp_path / "home/warehouse/personalization.duckdb").resolve())
    assert profile["plugins"] == [{"module": "mesh_platform.dbt.sandbox_plugin"}]


def test_landing_source_named_by_the_descriptor_and_declared_by_the_domain(tmp_path):
    """`dbt_source` keeps a project's own source name; its own .yml keeps docs and tests."""
    root = _copy(tmp_path / "mesh", "web")
    product = root / "domains/web/products/product_interactions.yaml"
    data = _load(product)
    data["input_ports"][0]["dbt_source"] = "tracking"
    product.write_text(yaml.safe_dump(data, sort_keys=False))
    entity = data["input_ports"][0]["name"]
    table = {"name": entity, "description": "Kept."}
    own = {
        "version": 2,
        "sources": [{"name": "tracking", "description": "Our tracker.", "tables": [table]}],
    }
    (root / "domains/web/dbt/models/staging/_tracking.yml").write_text(yaml.safe_dump(own))
    project = _render(root, "web", tmp_path / "home")
    [source] = _load(project / "models/staging/_tracking.yml")["sources"]
    assert source["schema"] == "raw" and source["description"] == "Our tracker."
    [table] = source["tables"]
    assert table["description"] == "Kept." and table["meta"] == {"mesh_landing": entity}
    assert not (project / "models/_mesh/_mesh__sources.yml").exists()  # nothing duplicated


def test_declared_port_source_gets_its_location_injected(tmp_path):
    root = _copy(tmp_path / "mesh", "sales")
    own = {"version": 2, "sources": [{"name": "catalog", "tables": [
        {"name": "products", "description": "The catalogue.", "data_tests": []}]}]}  # fmt: skip
    (root / "domains/sales/dbt/models/staging/_catalog.yml").write_text(yaml.safe_dump(own))
    project = _render(root, "sales", tmp_path / "home")
    [table] = _load(project / "models/staging/_catalog.yml")["sources"][0]["tables"]
    assert table["description"] == "The catalogue."
    assert table["meta"]["mesh_port"] == "catalog/products"
    assert 'mesh_ports."catalog__products_v1"' in table["meta"]["external_location"]


def test_rendering_writes_nothing_into_the_checkout_and_only_what_changed(tmp_path):
    root = _copy(tmp_path / "mesh", "sales")
    before = _snapshot(root)
    project = _render(root, "sales", tmp_path / "home")
    assert _snapshot(root) == before
    rendered = _snapshot(project)
    _render(root, "sales", tmp_path / "home")
    assert _snapshot(project) == rendered  # unchanged files are not rewritten: no re-parse
    (root / "domains/sales/dbt/models/staging/stg_erp__orders.yml").unlink()
    _render(root, "sales", tmp_path / "home")
    assert not (project / "models/staging/stg_erp__orders.yml").exists()  # deletions follow


def test_mesh_port_macro_reads_a_declared_port_and_parses(tmp_path, mesh_home):
    root = _copy(tmp_path / "mesh", "sales")
    sql = root / "domains/sales/dbt/models/staging/stg_catalog__products.sql"
    sql.write_text(sql.read_text().replace("source('catalog', 'products')",
                                           "mesh_port('catalog/products')"))  # fmt: skip
    assert "mesh_port(" in sql.read_text()
    project = _render(root, "sales", mesh_home)
    assert manifest_is_stale(project) and prepare_manifest(project)
    assert not manifest_is_stale(project) and not prepare_manifest(project)  # parsed once
    manifest = json.loads((project / "target/manifest.json").read_text())
    node = manifest["nodes"]["model.sales.stg_catalog__products"]
    assert node["depends_on"]["nodes"] == ["source.sales.catalog.products"]
    assert not (root / "domains/sales/dbt/target").exists()


def test_a_landing_source_named_like_a_producer_domain_is_refused(tmp_path):
    from mesh_platform.descriptors.loader import load_mesh

    root = _copy(tmp_path / "mesh", "catalog", "sales")
    product = root / "domains/sales/products/order_lines.yaml"
    data = _load(product)
    data["input_ports"][0]["dbt_source"] = "catalog"  # sales reads catalog/products too
    product.write_text(yaml.safe_dump(data, sort_keys=False))
    _, errors = load_mesh(root / "domains")
    assert [(e.file.name, e.field) for e in errors] == [
        ("order_lines.yaml", "input_ports[0].dbt_source")]  # fmt: skip


def test_a_domains_own_project_file_is_kept_with_what_the_platform_needs(tmp_path):
    """An imported project keeps its name and configs; profile and output paths are the mesh's."""
    root = _copy(tmp_path / "mesh", "web")
    dbt = root / "domains/web/dbt"
    own = {"name": "shop", "profile": "shop", "target-path": "elsewhere", "config-version": 2,
           "macro-paths": ["my_macros"], "models": {"shop": {"+materialized": "view"}}}  # fmt: skip
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(own))
    (dbt / "packages.yml").write_text("packages: []\n")
    project = _render(root, "web", tmp_path / "home")
    rendered = _load(project / "dbt_project.yml")
    assert rendered["name"] == "shop" and rendered["models"] == own["models"]
    assert rendered["profile"] == "web" and "target-path" not in rendered
    assert rendered["macro-paths"] == ["my_macros", "mesh_macros"]
    assert (project / "packages.yml").read_text() == "packages: []\n"


def test_a_models_declared_horizon_reaches_its_training_sql_as_a_dbt_var(tmp_path):
    """The horizon is declared once (the descriptor): the domain's dbt reads it, not restates it."""
    root = _copy(tmp_path / "mesh", "sales")
    file = root / "domains/sales/products/units_forecast_model.yaml"
    file.write_text(file.read_text().replace("horizon_days: 7", "horizon_days: 5"))
    rendered = _load(_render(root, "sales", tmp_path / "home") / "dbt_project.yml")
    assert rendered["vars"]["mesh_models"] == {
        "units_forecast_model": {"horizon_days": 5, "as_of": "as_of_date"}
    }
    web = _load(_render(REPO, "web", tmp_path / "home") / "dbt_project.yml")
    assert "vars" not in web  # a domain without models gets no var
