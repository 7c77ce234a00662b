"""`mesh catalog`: every declared port with owner, contract, freshness status and last update."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from mesh_platform import ports
from mesh_platform.catalog.listing import FRESH, NEVER, STALE, catalog
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.settings import MeshPaths

from tests.support import invoke


@pytest.fixture
def mesh(demo_copy) -> MeshPaths:
    """A copy of the demo's descriptors and contracts with an empty MESH_HOME."""
    return demo_copy.paths


def publish(
    paths: MeshPaths, domain: str, port: str, rows: int = 3, **columns: object
) -> ports.Snapshot:
    """Publish ``rows`` ids plus constant columns (an SLA element's value, say)."""

    def write(folder: Path) -> None:
        data = {"id": list(range(rows))} | {k: [v] * rows for k, v in columns.items()}
        pq.write_table(pa.table(data), folder / "part-0.parquet")

    return ports.publish(paths.home, ports.PortRef(domain, port, 1), write, run_id="run-1")


def declared_ports(paths: MeshPaths) -> set[tuple[str, str]]:
    domains, errors = load_mesh(paths.domains)
    assert not errors
    return {(d.name, p.name) for d in domains.values()
            for prod in d.products.values() for p in prod.output_ports}  # fmt: skip


def test_every_declared_port_is_listed_with_owner_contract_and_status(mesh):
    now = datetime.now(UTC)
    snap = publish(mesh, "sales", "order_lines", rows=7, ordered_at=now.replace(tzinfo=None))
    entries, errors = catalog(mesh)
    assert errors == []
    assert {(e.domain, e.port) for e in entries} == declared_ports(mesh)
    by_port = {(e.domain, e.port): e for e in entries}
    lines = by_port[("sales", "order_lines")]
    assert "team:sales" in lines.owners and lines.description.startswith("Every order line")
    assert lines.contract_id == "urn:datacontract:sales:order_lines"
    assert lines.contract_version == "1.0.0"
    assert lines.location == "lake/sales/order_lines/v1"
    assert (lines.freshness, lines.last_update, lines.rows) == (FRESH, snap.published_at, 7)
    assert "line_revenue" in lines.columns
    never = by_port[("sales", "daily_revenue")]
    assert (never.freshness, never.last_update, never.rows) == (NEVER, None, None)


def test_a_snapshot_older_than_the_contract_sla_is_stale(mesh):
    """products' SLA has no element: the time since the last publish is judged."""
    snap = publish(mesh, "catalog", "products")
    published = datetime.fromisoformat(snap.published_at)
    for age, status in ((23.9, FRESH), (24.1, STALE)):
        found = catalog(mesh, domain="catalog", now=published + timedelta(hours=age))[0]
        entry = {e.port: e for e in found}["products"]
        assert (entry.freshness, entry.freshness_basis) == (status, "last publish")


def test_a_date_element_counts_from_the_start_of_its_day(mesh):
    """product_interactions promises 24 h on event_date: fresh until the next midnight."""
    publish(mesh, "web", "product_interactions", event_date=date(2026, 3, 1))
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    for age, status in ((23.9, FRESH), (24.1, STALE)):
        [entry] = catalog(mesh, domain="web", now=midnight + timedelta(hours=age))[0]
        assert entry.freshness_hours == 24
        assert (entry.freshness, entry.freshness_basis) == (status, "element event_date")
        assert entry.freshness_newest == "2026-03-01T00:00:00+00:00"


def test_contract_sla_wins_over_the_product_slo(mesh):
    path = mesh.contracts / "sales" / "order_lines.odcs.yaml"
    data = yaml.safe_load(path.read_text())
    data["slaProperties"][0]["value"] = 2
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    entry = {e.port: e for e in catalog(mesh, domain="sales")[0]}["order_lines"]
    assert entry.freshness_hours == 2


def test_search_finds_columns_descriptions_and_tags_and_filters_by_domain(mesh):
    by_column = {e.port for e in catalog(mesh, term="EMAIL_SHA256")[0]}
    assert "customer_profiles" in by_column and "products" not in by_column
    by_tag = {e.port for e in catalog(mesh, term="kpi")[0]}
    assert by_tag == {"daily_revenue"}
    by_text = {e.port for e in catalog(mesh, term="black-friday")[0]}
    assert "promotions" in by_text
    assert {e.domain for e in catalog(mesh, domain="web")[0]} == {"web"}
    assert catalog(mesh, term="no such thing anywhere")[0] == []


def test_a_broken_contract_is_reported_not_hidden(mesh):
    path = mesh.contracts / "catalog" / "products.odcs.yaml"
    path.write_text(path.read_text().replace("version: 1.0.0", "version: one"))
    entries, errors = catalog(mesh)
    assert ("catalog", "products") not in {(e.domain, e.port) for e in entries}
    assert any("products.odcs.yaml" in str(e) and "version" in str(e) for e in errors)


@pytest.fixture
def cli(mesh, monkeypatch):
    from mesh_platform.cli import app

    monkeypatch.setenv("MESH_PROJECT_ROOT", str(mesh.root))
    monkeypatch.setenv("MESH_HOME", str(mesh.home))
    return lambda *args: invoke(app, "catalog", *args)


def test_cli_json_and_table(mesh, cli):
    publish(mesh, "sales", "order_lines", ordered_at=datetime.now(UTC).replace(tzinfo=None))
    listed = cli("--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {(r["domain"], r["port"]) for r in rows} == declared_ports(mesh)
    assert {"owners", "description", "location", "contract_version", "freshness",
            "freshness_basis", "freshness_newest", "last_update"} <= set(rows[0])  # fmt: skip
    found = cli("search", "line_revenue", "--domain", "sales", "--format", "json")
    assert [r["port"] for r in json.loads(found.output)] == ["order_lines"]
    table = cli("--domain", "sales")
    assert table.exit_code == 0
    for text in ("sales/order_lines", "team:sales", "v1.0.0",
                 "fresh", "never published"):  # fmt: skip
        assert text in table.output
    assert "no product matches" in cli("search", "zzz-nothing").output
