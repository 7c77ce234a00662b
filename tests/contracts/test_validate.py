"""The validator as the write-audit-publish audit of mesh_platform.ports."""

from __future__ import annotations

from pathlib import Path

import pytest
from mesh_platform import ports
from mesh_platform.contracts.validate import audit_for

from tests.contracts.test_bad_data import good_rows, order_lines_contract, write


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_good_candidate_is_published(tmp_path):
    audit = audit_for(order_lines_contract())
    ref = ports.PortRef("sales", "order_lines")
    snap = ports.publish(tmp_path, ref, lambda d: write(d, good_rows()), audit=audit)
    assert snap.rows == 40
    assert audit.last_report is not None and audit.last_report.passed


def test_failing_candidate_is_refused_and_current_stays_identical(tmp_path):
    ref = ports.PortRef("sales", "order_lines")
    audit = audit_for(order_lines_contract(), engine="sql")
    good = ports.publish(tmp_path, ref, lambda d: write(d, good_rows()), audit=audit)
    table = tmp_path / "lake" / ref.relative_dir
    before = tree_bytes(table)

    bad = good_rows()
    bad[0]["quantity"], bad[0]["line_revenue"] = 5000, 5000 * bad[0]["unit_price"]
    with pytest.raises(ports.AuditFailed) as caught:
        ports.publish(tmp_path, ref, lambda d: write(d, bad), audit=audit)

    assert ports.current_snapshot(tmp_path, ref) == good
    assert tree_bytes(table) == before  # the refused candidate wrote nothing into the table
    reason = caught.value.reason
    assert "urn:datacontract:sales:order_lines v1.0.0" in reason
    assert "order_lines.quantity.maximum" in reason and "column quantity" in reason
    assert (caught.value.kept_at / "_reason.txt").read_text().strip() == reason
    report = audit.last_report
    assert report is not None and not report.passed
    assert report.failures[0].samples[0]["quantity"] == 5000


def test_truncated_candidate_is_refused_not_a_crash(tmp_path):
    ref = ports.PortRef("sales", "order_lines")

    def write_truncated(folder: Path) -> None:
        part = write(folder, good_rows()) / "part-0.parquet"
        part.write_bytes(part.read_bytes()[:100])

    with pytest.raises(ports.AuditFailed, match="order_lines.readable"):
        ports.publish(tmp_path, ref, write_truncated, audit=audit_for(order_lines_contract()))
    assert ports.current_snapshot(tmp_path, ref) is None
