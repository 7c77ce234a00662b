"""The Dagster UI tells a consumer everything about every public port: GraphQL and a browser."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from mesh_platform.catalog.listing import catalog
from mesh_platform.catalog.metadata import freshness_hours, highest_classification
from mesh_platform.contracts.checks import load_port_contract
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.ports import PortRef
from mesh_platform.ports.lakehouse import load
from mesh_platform.settings import MeshPaths
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import artifact, chromium
from tests.support import REPO, graphql

pytestmark = pytest.mark.slow

NODE_QUERY = """{ assetNodes(assetKeys: [%s]) {
  assetKey { path } description groupName kinds
  owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
  tags { key value }
  internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
  freshnessStatusInfo { freshnessStatus }
  metadataEntries { __typename label
    ... on TextMetadataEntry { text } ... on PathMetadataEntry { path }
    ... on TableSchemaMetadataEntry { schema { columns {
        name type description tags { key value } constraints { nullable } } } }
    ... on CodeReferencesMetadataEntry { codeReferences {
        ... on LocalFileCodeReference { filePath label } } } }
  assetChecksOrError { ... on AssetChecks { checks {
    name blocking executionForLatestMaterialization { status } } } }
  assetMaterializations(limit: 1) { metadataEntries { label
    ... on IntMetadataEntry { intValue } ... on TextMetadataEntry { text }
    ... on TableColumnLineageMetadataEntry { lineage {
        columnName columnDeps { assetKey { path } columnName } } } } }
} }"""
PUBLIC_SELECTION = 'tag:"mesh/port"="public"'
ACTIVE_RUNS_QUERY = """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) {
  ... on Runs { results { jobName status } } } }"""


def public_ports() -> list[tuple]:
    """(asset path, domain, product, port, contract) of every public port the demo declares."""
    domains, errors = load_mesh(REPO / "domains")
    assert not errors
    found = []
    for domain in domains.values():
        for product in domain.products.values():
            for port in product.output_ports:
                if port.visibility != "public":
                    continue
                contract = load_port_contract(REPO / "contracts", domain.name, port.name)
                name = port.model if port.producer == "dbt" else port.name
                found.append(([domain.name, name], domain, product, port, contract))
    return found


def entries(items: list[dict]) -> dict[str, dict]:
    return {e["label"]: e for e in items}


def fetch_nodes(port: int, ports: list[tuple]) -> dict[tuple[str, ...], dict]:
    keys = ", ".join(f"{{path: {json.dumps(path)}}}" for path, *_ in ports)
    nodes = graphql(port, NODE_QUERY % keys)["assetNodes"]
    return {tuple(n["assetKey"]["path"]): n for n in nodes}


def runs_in_flight(port: int) -> list[str]:
    """Runs the daemon has queued or started (a sensor may react to the mesh being up)."""
    runs = graphql(port, ACTIVE_RUNS_QUERY)["runsOrError"]["results"]
    return [f"{r['jobName']} {r['status']}" for r in runs]


def freshness_check(node: dict) -> str | None:
    """The `freshness` check's status on the latest materialization (None: not judged yet)."""
    checks = {c["name"]: c for c in node["assetChecksOrError"]["checks"]}
    return (checks["freshness"]["executionForLatestMaterialization"] or {}).get("status")


def judged(node: dict) -> bool:
    """The freshness check has judged the port; a last-publish SLA's policy is HEALTHY too (the
    session's build is minutes old; an element's SLA may be stale: the suite's demo data end on
    a reference day, MESH_DEMO_END_DATE)."""
    policy = (node["freshnessStatusInfo"] or {}).get("freshnessStatus")
    return freshness_check(node) in {"SUCCEEDED", "FAILED"} and (
        not node["internalFreshnessPolicy"] or policy == "HEALTHY"
    )


def wait_until_settled(port: int, ports: list[tuple], timeout: float = 600) -> dict:
    """Nodes once no run is in flight and every port's freshness has been judged."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = fetch_nodes(port, ports)
        waiting = [k for k, n in nodes.items() if not judged(n)]
        busy = runs_in_flight(port)
        if (not waiting and not busy) or time.monotonic() > deadline:
            assert not busy, f"runs still in flight: {busy}"
            assert not waiting, waiting
            return nodes
        time.sleep(5)


def check_definition(node: dict, domain, product, port, contract) -> None:
    """Description, owners, group, kinds, tags, schema, contract, freshness, code references."""
    assert node["description"] and node["description"].strip()
    if port.producer == "dbt":
        assert node["description"].split() == product.description.split()
    owners = [o.get("team") or o.get("email") for o in node["owners"]]
    assert owners == [o.removeprefix("team:") for o in domain.owners_of(product)]
    assert node["groupName"] == domain.name
    assert {"parquet", "pandera"} <= set(node["kinds"])
    tags = {t["key"]: t["value"] for t in node["tags"]}
    assert tags["mesh/port"] == "public" and tags["mesh/tier"] == product.tier
    assert tags["mesh/classification"] == highest_classification(contract)
    meta = entries(node["metadataEntries"])
    columns = meta["dagster/column_schema"]["schema"]["columns"]
    assert [c["name"] for c in columns] == [c.name for c in contract.columns]
    for col, prop in zip(columns, contract.columns, strict=True):
        assert col["description"] == prop.description and col["description"]
        assert {"key": "classification", "value": prop.classification} in col["tags"]
    assert meta["mesh/contract_id"]["text"] == contract.id
    assert meta["mesh/contract_version"]["text"] == contract.version
    assert Path(meta["mesh/contract"]["path"]) == contract.path.resolve()
    if contract.freshness_element:  # judged on the data: the platform's check, not a policy
        assert node["internalFreshnessPolicy"] is None
        assert meta["mesh/freshness_basis"]["text"] == f"element {contract.freshness_element}"
    else:
        window = node["internalFreshnessPolicy"]["failWindowSeconds"]
        assert window == freshness_hours(product, contract) * 3600
    refs = {r["label"]: r["filePath"] for r in meta["dagster/code_references"]["codeReferences"]}
    assert Path(refs["data contract (ODCS)"]) == contract.path.resolve()
    assert Path(refs["product descriptor"]).name == f"{product.name}.yaml"
    if port.producer == "dbt":
        code = refs["dbt model SQL"]
    else:  # a predictions port links the dbt SQL of the table its model scores
        code = next(path for label, path in refs.items() if label.startswith("dbt model "))
    assert Path(code).is_file()


def check_latest_run(node: dict, home: Path, domain, port) -> None:
    """Contract check passed, row count of the published snapshot, column lineage for dbt."""
    checks = {c["name"]: c for c in node["assetChecksOrError"]["checks"]}
    assert checks["contract"]["blocking"]
    assert checks["contract"]["executionForLatestMaterialization"]["status"] == "SUCCEEDED"
    assert "governance" in checks and not checks["governance"]["blocking"]  # findings, in the UI
    assert not checks["freshness"]["blocking"]
    # One verdict: Dagster's check says what `mesh catalog` says of the port now.
    [entry] = [e for e in catalog(MeshPaths(root=REPO, home=home), domain=domain.name)[0]
               if e.port == port.name and e.version == port.version]  # fmt: skip
    assert freshness_check(node) == ("SUCCEEDED" if entry.freshness == "fresh" else "FAILED")
    materialized = entries(node["assetMaterializations"][0]["metadataEntries"])
    if port.producer == "dbt":  # the verdict at publish (ML ports: the check alone)
        assert materialized["mesh/freshness"]["text"] == entry.freshness
    snapshot_id = materialized["mesh/snapshot_id"]["text"]
    table = load(home, PortRef(domain.name, port.name, port.version))
    assert table is not None
    published = table.snapshot_by_id(int(snapshot_id))
    assert published is not None and published.summary is not None
    rows = int(published.summary["mesh.rows"])
    assert materialized["dagster/row_count"]["intValue"] == rows > 0
    if port.producer == "dbt":  # sqlglot traces dbt SQL; a model's predictions are not SQL
        lineage = materialized["dagster/column_lineage"]["lineage"]
        assert lineage and all(d["columnDeps"] for d in lineage)
        upstream = {d["assetKey"]["path"][0] for e in lineage for d in e["columnDeps"]}
        assert upstream == {domain.name}  # a port model reads its own domain's staging models


def test_every_public_port_shows_a_consumer_everything(ui_port, built_home):
    ports = public_ports()
    assert len(ports) >= 9
    nodes = wait_until_settled(ui_port, ports)
    assert set(nodes) == {tuple(path) for path, *_ in ports}
    for path, domain, product, port, contract in ports:
        node = nodes[tuple(path)]
        check_definition(node, domain, product, port, contract)
        check_latest_run(node, built_home, domain, port)


def _dismiss_welcome(page) -> None:
    """Dagster's first-visit 'join the community' dialog covers the page: skip it if it shows."""
    with contextlib.suppress(PlaywrightTimeout):  # not shown, or already skipped in this context
        page.get_by_role("button", name="Skip").click(timeout=5_000)


def _wait_for_text(page, texts: list[str], timeout_ms: int = 90_000) -> str:
    """The page's visible text once the SPA has rendered every one of ``texts``."""
    page.wait_for_function(
        "texts => texts.every(t => document.body.innerText.includes(t))", arg=texts,
        timeout=timeout_ms,
    )  # fmt: skip
    return page.inner_text("body")


def test_catalog_and_product_page_in_a_real_browser(ui_port):
    public = [(path, port, contract) for path, _, _, port, contract in public_ports()]
    path, port, contract = next(p for p in public if p[0] == ["sales", "order_lines"])
    base = f"http://127.0.0.1:{ui_port}"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1400})
        # The consumer's view of the catalog: public ports only, by their tag.
        page.goto(f"{base}/assets?asset-selection={quote(PUBLIC_SELECTION)}", timeout=120_000)
        names = [" / ".join(key) for key, *_ in public]
        _wait_for_text(page, names)
        _dismiss_welcome(page)
        # Each row's status arrives in a query of its own: wait for it before the screenshot.
        page.wait_for_function("() => !document.body.innerText.includes('Loading')", timeout=90_000)
        catalog_text = page.inner_text("body")
        assert catalog_text.count("Materialized") >= len(names)
        page.screenshot(path=artifact("ui-asset-catalog.png"))
        page.goto(f"{base}/assets/{'/'.join(path)}", timeout=120_000)
        # order_lines' SLA is on an element: no time-window policy, the basis in its metadata.
        policy = f"element {contract.freshness_element}"
        wanted = ["sales-data@retail.example", policy, "data contract (ODCS)",
                  *(c.description or "" for c in contract.columns)]  # fmt: skip
        text = _wait_for_text(page, wanted)
        _dismiss_welcome(page)
        page.screenshot(path=artifact(f"ui-product-{port.name}.png"))
    assert all(name in catalog_text for name in names)
    assert "stg_erp__orders" not in catalog_text  # private models are not in the consumer's view
    assert "sales-data@retail.example" in text  # the owners, in the Definition panel
    for col in contract.columns:
        assert col.name in text and col.description in text
    assert f"classification: {contract.columns[0].classification}" in text
    assert "data contract (ODCS)\nin editor" in text and policy in text
