"""PII flow: contract-classified PII followed through column lineage to every port."""

from __future__ import annotations

import yaml
from mesh_platform.contracts.odcs import load_contracts
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import port_dataset
from mesh_platform.lineage.pii import scan
from mesh_platform.lineage.store import open_store

from tests.lineage.conftest import asset_run, dataset, same


def write_contract(paths, domain, product, cols: dict[str, str], landing: str | None = None):
    """A minimal valid ODCS contract: a source's if ``landing`` is given, else a port's."""
    cid = f"urn:datacontract:{domain}:{'source:' if landing else ''}{product}"
    doc: dict = {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": cid, "name": product,
        "version": "1.0.0", "status": "active", "domain": domain,
        "schema": [{"name": product, "physicalType": "table", "description": "rows",
                    "properties": [{"name": c, "description": c, "logicalType": "string",
                                    "physicalType": "VARCHAR", "classification": cls}
                                   for c, cls in cols.items()]}],
    }  # fmt: skip
    if landing:
        doc["servers"] = [{"server": "landing", "type": "local", "format": "csv",
                           "path": f"landing/{landing}"}]  # fmt: skip
    else:
        doc["slaProperties"] = [{"property": "freshness", "value": 24, "unit": "h"}]
    folder = paths.contracts / domain / ("sources" if landing else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{product}.odcs.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def contracts_for(paths):
    write_contract(paths, "customers", "crm_customers",
                   {"customer_id": "internal", "first_name": "pii", "email": "pii",
                    "birth_date": "pii", "city": "confidential"},
                   landing="customers/crm_customers*.csv")  # fmt: skip
    write_contract(paths, "customers", "customer_profiles",
                   {"customer_id": "internal", "email_sha256": "pii-masked",
                    "birth_year": "pii-masked", "city": "confidential"})  # fmt: skip
    write_contract(
        paths, "customers", "marketing_list", {"customer_id": "internal", "email": "internal"}
    )
    write_contract(paths, "personalization", "customer_features",
                   {"customer_id": "internal", "monetary": "internal",
                    "birth_year": "pii-masked", "email_sha256": "pii-masked"})  # fmt: skip
    contracts, errors = load_contracts(paths.contracts)
    assert errors == []
    return contracts


def test_masked_email_passes_and_a_leaked_copy_is_flagged(paths, mesh):
    stg = mesh.ds["customers.stg"]
    leak = port_dataset(paths, "customers", "marketing_list")
    cols = ["customer_id", "email"]
    append_events(paths.lineage, asset_run("customers", "marketing_list", "dr-c1",
                                           [dataset(stg, cols)],
                                           [dataset(leak, cols, same(stg, cols))]))  # fmt: skip
    with open_store(paths.lineage) as store:
        report = scan(store, paths, contracts_for(paths))
    assert {(s.dataset, s.column) for s in report.sources} >= {
        (str(mesh.ds["customers.raw"]), "email"),
        (str(mesh.ds["customers.landing"]), "email"),
    }
    reached = {(r.dataset, r.column): r for r in report.reached if r.source.column == "email"}
    masked = reached[(str(mesh.ds["customers.port"]), "email_sha256")]
    assert (masked.flagged, masked.classification, masked.port) == (
        False,
        "pii-masked",
        "customers/customer_profiles",
    )
    assert masked.path[0].endswith("#email") and masked.path[-1].endswith("#email_sha256")
    features = reached[(str(mesh.ds["p.port"]), "email_sha256")]
    assert not features.flagged and features.port == "personalization/customer_features"
    flagged = {(r.port, r.column, r.reason) for r in report.flagged}
    why = "classified 'internal', not 'pii-masked'"
    assert flagged == {("customers/marketing_list", "email", why)}


def test_pii_derived_column_missing_from_the_contract_is_flagged(paths, mesh):
    contracts_for(paths)
    # birth_date (pii) -> birth_year, which the features contract omits here.
    write_contract(paths, "personalization", "customer_features",
                   {"customer_id": "internal", "monetary": "internal",
                    "email_sha256": "pii-masked"})  # fmt: skip
    contracts, _ = load_contracts(paths.contracts)
    with open_store(paths.lineage) as store:
        report = scan(store, paths, contracts)
    flagged = {(r.port, r.column, r.reason) for r in report.flagged}
    assert flagged == {("personalization/customer_features", "birth_year",
                        "column not in the port's contract")}  # fmt: skip
