"""Descriptor loading: the demo mesh is valid; every kind of bad descriptor names file and field."""

from __future__ import annotations

import pytest
import yaml
from mesh_platform.descriptors import SpecErrors, load_domain, load_mesh
from mesh_platform.descriptors.crosscheck import domain_order

from tests.support import REPO, copy_mesh, run_mesh


def test_demo_mesh_is_valid():
    domains, errors = load_mesh(REPO / "domains")
    assert errors == []
    assert set(domains) == {"customers", "catalog", "sales", "web", "personalization"}
    assert domains["personalization"].spec.kind == "consumer-aligned"


def test_producers_come_before_consumers():
    domains, _ = load_mesh(REPO / "domains")
    order = domain_order(domains)
    assert order.index("catalog") < order.index("sales") < order.index("personalization")
    assert order[-1] == "personalization"


def _edit(path, **changes):
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(leaf) if leaf.isdigit() else leaf] = value
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"output_ports__0__visibility": "open"},
            "output_ports[0].visibility",
            "'public' or 'private'",
        ),
        ({"slos__freshness_hours": -1}, "slos.freshness_hours", "greater than 0"),
        ({"owners": ["alice"]}, "owners", "not 'team:<name>' or an e-mail"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"name": "Order Lines"}, "name", "should match pattern"),
        ({"input_ports__0__kind": "port"}, "input_ports[0]", "needs 'product'"),
    ],
)
def test_bad_product_descriptor_names_file_and_field(domain_copy, changes, field, words):
    domain_dir = domain_copy("sales")
    path = domain_dir / "products" / "order_lines.yaml"
    _edit(path, **changes)
    with pytest.raises(SpecErrors) as info:
        load_domain(domain_dir)
    messages = [str(e) for e in info.value.errors]
    assert any(str(path) in m and field in m and words in m for m in messages), messages


def test_missing_required_field_is_named(domain_copy):
    domain_dir = domain_copy("web")
    path = domain_dir / "products" / "product_interactions.yaml"
    data = yaml.safe_load(path.read_text())
    del data["output_ports"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecErrors) as info:
        load_domain(domain_dir)
    assert [(e.file, e.field) for e in info.value.errors] == [(path, "output_ports")]


def test_invalid_yaml_reports_line(domain_copy):
    domain_dir = domain_copy("catalog")
    path = domain_dir / "domain.yaml"
    path.write_text("name: catalog\nowners: [team:catalog\n")
    with pytest.raises(SpecErrors) as info:
        load_domain(domain_dir)
    err = info.value.errors[0]
    assert err.file == path and err.field.startswith("line ") and "not valid YAML" in err.message


def test_domain_name_must_match_folder(domain_copy):
    domain_dir = domain_copy("catalog")
    _edit(domain_dir / "domain.yaml", name="pricing")
    with pytest.raises(SpecErrors, match="must equal the folder name 'catalog'"):
        load_domain(domain_dir)


def test_cross_checks_find_missing_private_and_wrong_version_ports(tmp_path):
    copy_mesh(tmp_path, parts=["domains"])
    sales = tmp_path / "domains" / "sales" / "products"
    _edit(sales / "daily_revenue.yaml", input_ports__1__product="catalog/prices")
    _edit(sales / "order_lines.yaml", output_ports__0__visibility="private")
    _edit(tmp_path / "domains/personalization/products/customer_features.yaml",
          input_ports__0__version=2)  # fmt: skip
    _edit(tmp_path / "domains/web/products/product_interactions.yaml",
          output_ports__0__model="no_such_model")  # fmt: skip
    _, errors = load_mesh(tmp_path / "domains")
    text = "\n".join(str(e) for e in errors)
    assert "daily_revenue.yaml: input_ports[1].product: no output port 'catalog/prices'" in text
    assert "customer_features.yaml: input_ports[2].product: 'sales/order_lines' is private" in text
    assert "customer_features.yaml: input_ports[0].version: reads v2" in text
    assert "product_interactions.yaml: output_ports[0].model: dbt model 'no_such_model'" in text
    # A domain reading its own private port is fine: sales/daily_revenue reads sales/order_lines.
    assert "daily_revenue.yaml: input_ports[0]" not in text


def test_mesh_validate_exits_2_without_traceback(tmp_path):
    root = copy_mesh(tmp_path / "repo", parts=["domains"])
    _edit(root / "domains/sales/products/order_lines.yaml", slos__freshness_hours="soon")
    (root / "domains/web/domain.yaml").write_text("name: web\n")
    proc = run_mesh(tmp_path / "home", "validate", root=root)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "order_lines.yaml: slos.freshness_hours:" in proc.stderr
    assert "web/domain.yaml: team: Field required" in proc.stderr
    assert "web/domain.yaml: owners: Field required" in proc.stderr
