"""Contracts end to end: a bad batch never reaches consumers; bad landed rows are quarantined."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import PortRef, Snapshot, current_snapshot

from tests.integration.conftest import mesh

pytestmark = pytest.mark.slow

HEADER = (
    "customer_id,first_name,last_name,email,birth_date,city,country,signup_date,marketing_opt_in\n"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("contracts") / "mesh"
    proc = mesh(home, "up", "--scale", "0.05")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return home


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def current(home: Path, domain: str, product: str) -> Snapshot:
    snap = current_snapshot(home, PortRef(domain, product))
    assert snap is not None
    return snap


def count(snap: Snapshot) -> int:
    """Rows of a snapshot, read from the data files it lists."""
    return duckdb.sql(f"SELECT count(*) FROM read_parquet({list(snap.files)!r})").fetchall()[0][0]


def latest_check(home: Path, key: list[str], name: str):
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(key), name)]
        )[dg.AssetCheckKey(dg.AssetKey(key), name)]
        return record.event.dagster_event.event_specific_data


def test_port_contract_failure_blocks_publish_and_consumers(home):
    before = current(home, "customers", "customer_profiles")
    table = Path(before.path)  # the table's data and metadata files
    digest, profiles = tree_digest(table), count(before)
    features = count(current(home, "personalization", "customer_features"))
    # Valid for the source contract (a birth date is a date) but the port contract requires
    # birth_year <= 2015: the candidate snapshot must be refused.
    bad = (
        HEADER
        + "999999,Tim,Young,tim.young.999999@example.com,2021-05-05,Rome,IT,2026-01-02,true\n"
    )
    (home / "landing/customers/crm_customers_late.csv").write_text(bad)

    proc = mesh(home, "up", "--domain", "customers")
    assert proc.returncode == 1
    assert "customer_profiles.birth_year" in proc.stdout
    after = current(home, "customers", "customer_profiles")
    assert after == before and tree_digest(table) == digest  # the table is byte-identical
    rejected = list((home / "rejected/customers/customer_profiles/v1").iterdir())
    assert len(rejected) == 1 and "birth_year" in (rejected[0] / "_reason.txt").read_text()

    evaluation = latest_check(home, ["customers", "customer_profiles"], "contract")
    assert evaluation.passed is False
    failures = evaluation.metadata["failures"].value
    assert "customer_profiles.birth_year.maximum" in failures and "| 1 |" in failures
    samples = json.loads(json.dumps(evaluation.metadata["samples"].value))
    assert samples["customer_profiles.birth_year.maximum"][0]["birth_year"] == 2021

    # The consumer still builds, on the last good snapshot.
    assert mesh(home, "up", "--domain", "personalization").returncode == 0
    assert count(current(home, "personalization", "customer_features")) == features
    assert profiles == features


def test_bad_landed_rows_are_quarantined_and_unreadable_files_moved_aside(home):
    sales = home / "landing" / "sales"
    orders = pa.table({
        "order_id": [900001, 900002, 900003], "customer_id": pa.array([1, None, 2], pa.int64()),
        "ordered_at": pa.array([1_790_000_000_000_000] * 3, pa.timestamp("us")),
        "channel": ["web", "web", "fax"], "status": ["completed"] * 3,
    })  # fmt: skip
    pq.write_table(orders, sales / "orders_2026-11.parquet")
    pq.write_table(orders, sales / "orders_2026-12.parquet")
    truncated = sales / "orders_2026-12.parquet"
    truncated.write_bytes(truncated.read_bytes()[:100])

    proc = mesh(home, "up", "--domain", "sales")
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("│ sales"))
    assert "│ 2 " in row and "│ 1 " in row  # 2 quarantined rows, 1 rejected file in the summary

    assert not truncated.exists()
    [moved] = (sales / "_rejected").glob("*orders_2026-12.parquet")
    assert "cannot read parquet" in moved.with_name(moved.name + ".reason.txt").read_text()
    with duckdb.connect(str(home / "warehouse/sales.duckdb"), read_only=True) as con:
        quarantined = con.execute(
            "SELECT order_id, _rule FROM quarantine.erp_orders ORDER BY order_id"
        ).fetchall()
        log = con.execute("SELECT received, accepted, quarantined FROM meta.ingest_log "
                          "WHERE file = 'sales/orders_2026-11.parquet'").fetchall()  # fmt: skip
    assert quarantined == [("900002", "erp_orders.customer_id.required"),
                           ("900003", "erp_orders.channel.valid_channel")]  # fmt: skip
    assert log == [(3, 1, 2)]  # accepted + quarantined = received

    again = mesh(home, "up", "--domain", "sales")  # same files again: nothing changes
    assert again.returncode == 0
    with duckdb.connect(str(home / "warehouse/sales.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quarantine.erp_orders").fetchone() == (2,)
