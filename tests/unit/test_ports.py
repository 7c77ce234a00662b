"""Output ports: write-audit-publish is atomic; a failure anywhere leaves the current snapshot."""

from __future__ import annotations

import hashlib
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import snapshots as ports
from mesh_platform.ports.snapshots import (
    AuditFailed,
    PortRef,
    current_snapshot,
    list_ports,
    publish,
)

REF = PortRef("sales", "order_lines", 1)


def writer(rows: int):
    def write(folder):
        pq.write_table(pa.table({"id": list(range(rows))}), folder / "part-0.parquet")

    return write


def digest(folder) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_publish_makes_snapshot_current(tmp_path):
    snap = publish(tmp_path, REF, writer(3), run_id="run-1")
    current = tmp_path / "sales/order_lines/v1/current"
    assert current.is_symlink() and current.resolve() == tmp_path / snap.path
    assert pq.read_table(current / "part-0.parquet").num_rows == 3
    assert current_snapshot(tmp_path, REF) == snap
    assert snap.rows == 3 and snap.run_id == "run-1"
    assert not any((tmp_path / "sales/order_lines/v1/_staging").iterdir())


def test_second_publish_switches_and_keeps_old_snapshot_immutable(tmp_path):
    first = publish(tmp_path, REF, writer(3))
    before = digest(tmp_path / first.path)
    second = publish(tmp_path, REF, writer(5))
    assert current_snapshot(tmp_path, REF).snapshot_id == second.snapshot_id
    assert digest(tmp_path / first.path) == before  # old snapshot untouched for in-flight readers
    assert second.snapshot_id > first.snapshot_id  # ids sort by publish time


def test_failed_audit_keeps_current_byte_identical_and_candidate_with_reason(tmp_path):
    good = publish(tmp_path, REF, writer(3))
    before = digest(tmp_path / "sales/order_lines/v1")
    with pytest.raises(AuditFailed) as info:
        publish(tmp_path, REF, writer(7), audit=lambda folder: "column id: 2 rows negative")
    assert current_snapshot(tmp_path, REF) == good
    rejected = info.value.kept_at
    assert (rejected / "_reason.txt").read_text().strip() == "column id: 2 rows negative"
    assert pq.read_table(rejected / "part-0.parquet").num_rows == 7  # nothing is thrown away
    os.rename(rejected.parent, tmp_path / "moved")  # everything else in the port is as before
    assert digest(tmp_path / "sales/order_lines/v1") == before


def test_crash_while_writing_leaves_current_untouched(tmp_path):
    good = publish(tmp_path, REF, writer(3))

    def broken(folder):
        writer(10)(folder)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(tmp_path, REF, broken)
    assert current_snapshot(tmp_path, REF) == good
    assert not any((tmp_path / "sales/order_lines/v1/_staging").iterdir())


def test_crash_between_write_and_switch_leaves_current_untouched(tmp_path, monkeypatch):
    good = publish(tmp_path, REF, writer(3))

    def crash(base, snapshot_id):
        raise KeyboardInterrupt("killed before the switch")

    monkeypatch.setattr(ports, "_switch_current", crash)
    with pytest.raises(KeyboardInterrupt):
        publish(tmp_path, REF, writer(9))
    assert current_snapshot(tmp_path, REF) == good
    assert pq.read_table(tmp_path / "sales/order_lines/v1/current/part-0.parquet").num_rows == 3


def test_never_published_port_has_no_current(tmp_path):
    assert current_snapshot(tmp_path, REF) is None
    assert list_ports(tmp_path) == []


def test_prune_keeps_recent_snapshots_and_current(tmp_path):
    snaps = [publish(tmp_path, REF, writer(i + 1)) for i in range(ports.KEEP_SNAPSHOTS + 2)]
    kept = sorted(p.name for p in (tmp_path / "sales/order_lines/v1/snapshots").iterdir())
    assert kept == [s.snapshot_id for s in snaps[-ports.KEEP_SNAPSHOTS :]]
    assert current_snapshot(tmp_path, REF) == snaps[-1]


def test_list_ports_reports_every_current_snapshot(tmp_path):
    publish(tmp_path, REF, writer(2))
    publish(tmp_path, PortRef("catalog", "products", 1), writer(4))
    listed = [(s.domain, s.product, s.version, s.rows) for s in list_ports(tmp_path)]
    assert listed == [("catalog", "products", 1, 4), ("sales", "order_lines", 1, 2)]
