"""PII policy, the sample scan of published ports, and masking at publish."""

from __future__ import annotations

import hashlib

import duckdb
from mesh_platform import ports
from mesh_platform.access import masking
from mesh_platform.contracts.odcs import load_contracts
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.descriptors.models import PiiPurpose

from tests.governance.conftest import failing, only

PROFILES = "contracts/customers/customer_profiles.odcs.yaml"
PRODUCT = "domains/customers/products/customer_profiles.yaml"
PURPOSE = {"columns": ["city"], "purpose": "Store-level delivery planning by the logistics team.",
           "approved_by": "privacy@retail.example"}  # fmt: skip


def _classify_city_pii(mesh):
    def change(doc):
        city = next(p for p in doc["schema"][0]["properties"] if p["name"] == "city")
        city["classification"] = "pii"

    mesh.edit(PROFILES, change)


def test_demo_mesh_passes_pii(mesh):
    assert failing(mesh.govern(), "pii") == []


def test_pii_column_in_a_public_port_is_flagged_and_hashed_at_publish(mesh):
    _classify_city_pii(mesh)
    found = only(mesh.govern("customers"), "pii")
    assert found.severity.name == "warning" and "customer_profiles.city" in found.message
    assert found.field.endswith(".classification") and "pii_purpose" in found.fix


def test_permitted_purpose_turns_it_into_a_note(mesh):
    _classify_city_pii(mesh)
    mesh.edit(PRODUCT, lambda d: d.__setitem__("pii_purpose", PURPOSE))
    result = mesh.govern("customers")
    assert failing(result, "pii") == []
    notes = [f for f in result.findings if f.policy == "pii"]
    assert len(notes) == 1 and "logistics" in notes[0].message


def test_purpose_naming_a_non_pii_column_is_an_error(mesh):
    mesh.edit(PRODUCT, lambda d: d.__setitem__("pii_purpose", PURPOSE))
    found = only(mesh.govern("customers"), "pii")
    assert found.severity.name == "error" and found.field == "pii_purpose.columns[0]"


def _publish(home, rows: list[tuple[int, str]]):
    def write(folder):
        with duckdb.connect() as con:
            con.execute("CREATE TABLE t (customer_id BIGINT, city VARCHAR)")
            con.executemany("INSERT INTO t VALUES (?, ?)", rows)
            con.execute(f"COPY t TO '{folder}/part-0.parquet' (FORMAT parquet)")

    return ports.publish(home, ports.PortRef("customers", "customer_profiles"), write)


def test_sample_scan_finds_email_and_phone_like_values(mesh):
    snap = _publish(
        mesh.home, [(1, "Rome"), (2, "ann.lee@shop.example.org"), (3, "+49 151 2345 6789")]
    )
    found = [f for f in failing(mesh.govern("customers"), "pii")]
    kinds = sorted(f.message.split("look like ")[1].split(" ")[0] for f in found)
    assert kinds == ["e-mail", "phone"], [str(f) for f in found]
    assert all(f.field == "city" and snap.snapshot_id in f.message for f in found)
    text = " ".join(f.message for f in found)
    assert "ann.lee" not in text and "a***@s***.org" in text and "2345" not in text


def test_mask_folder_hashes_with_salt_and_keeps_nulls(tmp_path, monkeypatch):
    monkeypatch.setenv(masking.SALT_ENV, "pepper")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM (VALUES (1, 'a@b.io'), (2, NULL)) t(id, email)) "
                    f"TO '{tmp_path}/part-0.parquet' (FORMAT parquet)")  # fmt: skip
    assert masking.mask_folder(tmp_path, ["email", "absent"]) == ["email"]
    with duckdb.connect() as con:
        query = f"SELECT id, email FROM '{tmp_path}/part-0.parquet' ORDER BY id"
        rows = con.execute(query).fetchall()
    assert rows == [(1, hashlib.sha256(b"peppera@b.io").hexdigest()), (2, None)]


def test_columns_to_mask_follow_contract_and_purpose(mesh):
    _classify_city_pii(mesh)
    contract = load_contracts(mesh.root / "contracts")[0]["customers/customer_profiles"]
    product = load_domain(mesh.root / "domains/customers").products["customer_profiles"]
    port = product.output_ports[0]
    assert masking.columns_to_mask(contract, product, port) == ["city"]
    allowed = product.model_copy(update={"pii_purpose": PiiPurpose(**PURPOSE)})
    assert masking.columns_to_mask(contract, allowed, port) == []
    private = port.model_copy(update={"visibility": "private"})
    assert masking.columns_to_mask(contract, product, private) == []
