"""Governance findings as non-blocking asset checks of every product port, in each location."""

from __future__ import annotations

import dagster as dg
import pytest
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.governance.checks import CHECK_NAME, build_governance_checks, evaluate
from mesh_platform.orchestration.factory import build_domain_definitions

from tests.support import REPO


def _check_specs(defs: dg.Definitions) -> dict[dg.AssetCheckKey, dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    return {k: graph.get_check_spec(k) for k in graph.asset_check_keys if k.name == CHECK_NAME}


@pytest.mark.parametrize("name", ["customers", "sales"])
def test_every_port_has_a_non_blocking_governance_check(name, mesh_home):
    defs = build_domain_definitions(REPO / "domains" / name)
    dg.Definitions.validate_loadable(defs)
    specs = _check_specs(defs)
    products = load_domain(REPO / "domains" / name).products.values()
    ports = {p.model or p.name for prod in products for p in prod.output_ports}
    assert {k.asset_key.path[-1] for k in specs} == ports
    assert not any(s.blocking for s in specs.values())


def test_checks_evaluate_demo_passes_and_a_broken_product_fails(mesh):
    domain = load_domain(mesh.root / "domains" / "customers")
    keys = {dg.AssetKey(["customers", "customer_profiles"]): "customer_profiles"}
    (result,) = list(evaluate(domain, mesh.paths, keys))
    assert result.passed and result.metadata["errors"].value == 0

    mesh.edit("domains/customers/products/customer_profiles.yaml",
              lambda d: d.__setitem__("owners", ["team:todo"]))  # fmt: skip
    domain = load_domain(mesh.root / "domains" / "customers")
    (result,) = list(evaluate(domain, mesh.paths, keys))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "owner" in result.metadata["findings"].value and "team:todo" in str(
        result.metadata["findings_json"].value
    )


def test_checks_run_in_dagster_and_report_findings(mesh):
    domain = load_domain(mesh.root / "domains" / "customers")
    key = dg.AssetKey(["customers", "customer_profiles"])
    (checks,) = build_governance_checks(domain, mesh.paths, {key})
    result = dg.materialize([dg.AssetSpec(key), checks], selection=dg.AssetSelection.checks(checks))
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.asset_key == key
