"""Iceberg output ports: write-audit-publish, time travel, pinned reads, expiry, kill -9."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from mesh_platform.ports.iceberg import expire, load, pinned_files, publish, table_identifier
from mesh_platform.ports.snapshots import PortRef
from pyiceberg.catalog.sql import SqlCatalog

REF = PortRef("sales", "orders", 1)


def _rows(n: int, start: int = 0) -> pa.Table:
    ids = pa.array(range(start, start + n), pa.int64())
    return pa.table({"id": ids, "amount": pa.compute.multiply(ids, 2).cast(pa.float64())})


def _plain_catalog(home: Path) -> SqlCatalog:
    """The catalog as any pyiceberg user would open it, without platform code."""
    db = home / "iceberg" / "catalog.db"
    return SqlCatalog("mesh", uri=f"sqlite:///{db}", warehouse=f"file://{home / 'lake'}")


def _duck(paths: list[str]) -> list[tuple]:
    return duckdb.sql(f"select id, amount from read_parquet({paths!r}) order by id").fetchall()


def test_identifier_names_domain_and_major() -> None:
    assert table_identifier("sales", "orders", 2) == ("sales", "orders_v2")


def test_publish_twice_and_time_travel_with_pyiceberg_alone(tmp_path: Path) -> None:
    s1 = publish(tmp_path, REF, _rows(5), None, {"mesh.run_id": "r1"})
    s2 = publish(tmp_path, REF, _rows(3, 100), None, {"mesh.run_id": "r2"})
    ice = _plain_catalog(tmp_path).load_table("sales.orders_v1")
    assert ice.current_snapshot().snapshot_id == s2  # type: ignore[union-attr]
    assert ice.scan().to_arrow().num_rows == 3
    assert ice.scan(snapshot_id=s1).to_arrow().sort_by("id").equals(_rows(5))


def test_a_mesh_home_with_a_space_keeps_its_files_inside_it(tmp_path: Path) -> None:
    home = tmp_path / "mesh home"
    publish(home, REF, _rows(3), None, {})
    _, paths = pinned_files(home, REF)
    assert all(p.startswith(f"{home}/lake/sales/orders_v1/data/") for p in paths)
    assert len(_duck(paths)) == 3


def test_summary_carries_the_given_properties(tmp_path: Path) -> None:
    props = {
        "mesh.run_id": "r1",
        "mesh.contract_id": "sales.orders",
        "mesh.contract_version": "1.2.0",
    }
    sid = publish(tmp_path, REF, _rows(7), None, props)
    summary = load(tmp_path, REF).snapshot_by_id(sid).summary  # type: ignore[union-attr]
    assert summary is not None
    assert {k: summary[k] for k in props} == props
    assert summary["mesh.rows"] == "7"


def test_failed_audit_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    s1 = publish(tmp_path, REF, _rows(5), None, {})
    seen: list[int] = []

    def refuse(candidate: pa.Table) -> None:
        seen.append(candidate.num_rows)
        raise ValueError("amount must be positive")

    with pytest.raises(ValueError, match="positive"):
        publish(tmp_path, REF, _rows(4, 50), refuse, {})
    assert seen == [4]  # the audit read the written candidate files back
    ice = load(tmp_path, REF)
    assert ice.current_snapshot().snapshot_id == s1  # type: ignore[union-attr]
    assert len(ice.snapshots()) == 1
    assert ice.scan().to_arrow().num_rows == 5


def test_pinned_files_read_by_duckdb_survive_a_later_publish(tmp_path: Path) -> None:
    s1 = publish(tmp_path, REF, _rows(6), None, {})
    pinned, paths = pinned_files(tmp_path, REF)
    assert pinned == s1
    assert _duck(paths) == [(i, 2.0 * i) for i in range(6)]
    publish(tmp_path, REF, _rows(2, 10), None, {})
    assert pinned_files(tmp_path, REF, s1) == (s1, paths)
    assert _duck(paths) == [(i, 2.0 * i) for i in range(6)]
    assert _duck(pinned_files(tmp_path, REF)[1]) == [(10, 20.0), (11, 22.0)]


def test_expire_keeps_newest_publishes_and_pinned_files(tmp_path: Path) -> None:
    s1 = publish(tmp_path, REF, _rows(2), None, {})
    _, old_paths = pinned_files(tmp_path, REF)
    publish(tmp_path, REF, _rows(3), None, {})
    s3 = publish(tmp_path, REF, _rows(4), None, {})
    expired = expire(tmp_path, REF, keep=1)
    assert s1 in expired
    assert [s.snapshot_id for s in load(tmp_path, REF).snapshots()] == [s3]
    assert len(_duck(old_paths)) == 2  # expiry deletes no files: a pinned run still reads them


CHILD = """
import sys, time
from pathlib import Path
import pyarrow as pa
from mesh_platform.ports.iceberg import publish
from mesh_platform.ports.snapshots import PortRef
table = pa.table({"id": pa.array(range(60_000), pa.int64()),
                  "amount": pa.array([1.5] * 60_000, pa.float64())})
def audit(candidate):
    if sys.argv[3] == "hold":  # files written, commit not yet made: wait for the kill
        print("audited", flush=True)
        time.sleep(60)
print("ready", flush=True)
publish(Path(sys.argv[1]), PortRef("sales", "orders", 1), table, audit,
        {"mesh.run_id": sys.argv[2]})
print("done", flush=True)
"""


def _kill_child(home: Path, run_id: str, moment: float | None) -> None:
    """Start a publishing child, SIGKILL it after ``moment`` s or (None) inside its audit."""
    hold = "hold" if moment is None else "go"
    child = subprocess.Popen(
        [sys.executable, str(home / "child.py"), str(home), run_id, hold],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    if moment is None:
        assert child.stdout.readline().strip() == "audited"
    else:
        time.sleep(moment)
    child.send_signal(signal.SIGKILL)
    child.wait()


def test_kill_9_leaves_the_old_or_the_new_snapshot(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(textwrap.dedent(CHILD))
    current = publish(tmp_path, REF, _rows(5), None, {"mesh.run_id": "seed"})
    rng = random.Random(15)
    for attempt, moment in enumerate([None, *(rng.uniform(0.0, 0.15) for _ in range(3))]):
        run_id = f"killed-{attempt}"
        _kill_child(tmp_path, run_id, moment)
        ice = load(tmp_path, REF)
        snap = ice.current_snapshot()
        assert snap is not None and snap.summary is not None
        if moment is None:  # killed between data-file write and commit: orphans, table unchanged
            assert snap.snapshot_id == current
            data = list((tmp_path / "lake" / "sales" / "orders_v1" / "data").glob("*.parquet"))
            assert len(data) > len(pinned_files(tmp_path, REF)[1])
        elif snap.snapshot_id != current:
            assert snap.summary["mesh.run_id"] == run_id
        rows = ice.scan().to_arrow().num_rows
        assert rows == int(snap.summary["mesh.rows"]) and rows in (5, 60_000)
        assert len(_duck(pinned_files(tmp_path, REF)[1])) == rows
        current = snap.snapshot_id
