"""One freshness verdict (ODCS meaning): catalog, `mesh govern` and Dagster's check agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform import ports
from mesh_platform.catalog.freshness import (
    FRESH,
    NEVER,
    STALE,
    FreshnessSla,
    judge,
    newest_value,
)
from mesh_platform.catalog.freshness_check import freshness_checks, sensor_tick
from mesh_platform.catalog.listing import catalog
from mesh_platform.contracts.lint import lint_contract
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.governance.model import Severity

from tests.support import REPO, MeshCopy

ORDER_LINES = dg.AssetKey(["sales", "order_lines"])


def publish_lines(mesh: MeshCopy, ordered_at: datetime) -> ports.Snapshot:
    """Publish sales/order_lines whose newest ordered_at is the given moment (zoneless UTC)."""

    def write(folder: Path) -> None:
        stamps = [ordered_at - timedelta(days=30), ordered_at]
        table = pa.table({"order_line_id": [1, 2], "ordered_at": [s.replace(tzinfo=None)
                                                                  for s in stamps]})  # fmt: skip
        pq.write_table(table, folder / "part-0.parquet")

    return ports.publish(mesh.paths.home, ports.PortRef("sales", "order_lines", 1), write)


def dagster_verdict(mesh: MeshCopy) -> bool:
    """The platform's `freshness` check on sales/order_lines, run by Dagster."""
    checks = freshness_checks(mesh.paths)
    assert checks is not None
    key = dg.AssetCheckKey(ORDER_LINES, "freshness")
    defs = dg.Definitions(
        asset_checks=[checks],
        jobs=[dg.define_asset_job("j", selection=dg.AssetSelection.checks(key))],
    )
    result = defs.resolve_job_def("j").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation.passed


def verdicts(mesh: MeshCopy) -> tuple[str, list[str], bool, bool]:
    """(catalog status, freshness findings on order_lines, Dagster check, sensor's report)."""
    [entry] = [e for e in catalog(mesh.paths, domain="sales")[0] if e.port == "order_lines"]
    findings = [f for f in mesh.govern(domain="sales").findings
                if f.policy == "freshness" and f.product == "order_lines"]  # fmt: skip
    assert all(f.severity is Severity.warning for f in findings)
    events, _ = sensor_tick(mesh.paths, {})
    [reported] = [e for e in events if e.asset_key == ORDER_LINES]
    return entry.freshness, [f.message for f in findings], dagster_verdict(mesh), reported.passed


def test_an_old_element_is_stale_everywhere_and_a_new_one_fresh(demo_copy: MeshCopy):
    """Just published, but the newest order line is three days old: stale by the SLA element."""
    now = datetime.now(UTC)
    publish_lines(demo_copy, now - timedelta(days=3))
    status, findings, check, sensed = verdicts(demo_copy)
    assert (status, check, sensed) == (STALE, False, False)
    assert len(findings) == 1 and "element ordered_at" in findings[0]
    publish_lines(demo_copy, now - timedelta(hours=1))
    assert verdicts(demo_copy) == (FRESH, [], True, True)


def test_the_sensor_reports_a_port_only_when_its_status_or_snapshot_moves(demo_copy: MeshCopy):
    publish_lines(demo_copy, datetime.now(UTC))
    events, cursor = sensor_tick(demo_copy.paths, {})
    assert [e.asset_key for e in events] == [ORDER_LINES]  # never-published ports: not reported
    assert sensor_tick(demo_copy.paths, cursor)[0] == []
    later = datetime.now(UTC) + timedelta(hours=25)
    assert [e.passed for e in sensor_tick(demo_copy.paths, cursor, now=later)[0]] == [False]


def snapshot(folder: Path, table: pa.Table) -> ports.Snapshot:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-0.parquet")
    return ports.Snapshot("d", "p", 1, "s", str(folder), table.num_rows,
                          "2026-03-01T12:00:00+00:00",
                          files=(str(folder / "part-0.parquet"),))  # fmt: skip


def test_newest_value_reads_dates_from_midnight_and_zones_as_instants(tmp_path):
    table = pa.table({
        "d": pa.array([date(2026, 2, 27), date(2026, 3, 1)], pa.date32()),
        "t": pa.array([datetime(2026, 3, 1, 5), None], pa.timestamp("us")),
        "tz": pa.array([datetime(2026, 3, 1, 5, tzinfo=UTC)] * 2, pa.timestamp("us", "UTC")),
        "n": pa.array([None, None], pa.timestamp("us")),
    })  # fmt: skip
    snap = snapshot(tmp_path / "s", table)
    assert newest_value(snap.files, "d") == datetime(2026, 3, 1, tzinfo=UTC)
    assert newest_value(snap.files, "t") == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert newest_value(snap.files, "tz") == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert newest_value(snap.files, "n") is None
    assert newest_value(snap.files, "missing") is None


@pytest.mark.parametrize(
    ("sla", "hours_later", "status", "newest"),
    [(FreshnessSla(24, "d"), 23.5, FRESH, "2026-03-01T00:00:00+00:00"),
     (FreshnessSla(24, "d"), 24.5, STALE, "2026-03-01T00:00:00+00:00"),
     (FreshnessSla(24), 35.5, FRESH, "2026-03-01T12:00:00+00:00"),  # published at noon
     (FreshnessSla(24), 36.5, STALE, "2026-03-01T12:00:00+00:00"),
     (FreshnessSla(24, "n"), 1, STALE, None)],  # an element without a value is not fresh
)  # fmt: skip
def test_judge_by_element_or_last_publish(tmp_path, sla, hours_later, status, newest):
    table = pa.table({"d": pa.array([date(2026, 3, 1)], pa.date32()),
                      "n": pa.array([None], pa.timestamp("us"))})  # fmt: skip
    snap = snapshot(tmp_path / "s", table)
    now = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=hours_later)
    verdict = judge(sla, snap, now)
    assert (verdict.status, verdict.newest) == (status, newest)
    assert verdict.basis == ("last publish" if sla.element is None else f"element {sla.element}")
    assert judge(sla, None, now).status == NEVER


def lint_sla(tmp_path, sla: dict) -> list[tuple[str, str]]:
    source = REPO / "contracts" / "web" / "product_interactions.odcs.yaml"
    contract = load_contract(source)
    raw = contract.model.model_dump(by_alias=True, exclude_none=True)
    raw["slaProperties"] = [sla]
    model = type(contract.model).model_validate(raw)
    return [p for p in lint_contract(model, raw, None, None) if p[0].startswith("slaProperties")]


def test_a_freshness_element_is_a_time_column_and_a_date_needs_a_day(tmp_path):
    base = {"property": "freshness", "unit": "h"}
    assert lint_sla(tmp_path, base | {"value": 24, "element": "x.event_date"}) == []
    [(field, msg)] = lint_sla(tmp_path, base | {"value": 6, "element": "x.event_date"})
    assert field == "slaProperties[0].element" and "at least 24 h" in msg
    [(_, msg)] = lint_sla(tmp_path, base | {"value": 24, "element": "x.views"})
    assert "date or timestamp" in msg
    [(_, msg)] = lint_sla(tmp_path, base | {"value": 24, "element": "x.nope"})
    assert "no column 'nope'" in msg
