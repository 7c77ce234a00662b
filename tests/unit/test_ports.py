"""Output ports as Iceberg tables: write-audit-publish is atomic, reads pin a snapshot."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import AuditFailed, PortRef, current_snapshot, list_ports, publish
from mesh_platform.ports.expiry import expire
from mesh_platform.ports.lakehouse import catalog, load
from mesh_platform.ports.pins import pin_inputs
from mesh_platform.ports.tables import snapshot_files
from pyiceberg.catalog.sql import SqlCatalog

REF = PortRef("sales", "order_lines", 1)


def writer(rows: int, **extra: list):
    def write(folder: Path) -> None:
        pq.write_table(pa.table({"id": list(range(rows)), **extra}), folder / "part-0.parquet")

    return write


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def duck_rows(files) -> int:
    with duckdb.connect() as con:
        return con.execute("SELECT count(*) FROM read_parquet(?)", [list(files)]).fetchall()[0][0]


def test_a_publish_is_an_iceberg_snapshot_any_reader_finds(tmp_path):
    columns = {"id": (True, "Line number.")}
    summary = {"mesh.contract-id": "urn:datacontract:sales:order_lines"}
    snap = publish(tmp_path, REF, writer(3), run_id="run-1", columns=columns, summary=summary)
    assert (snap.rows, snap.run_id, snap.table) == (3, "run-1", "sales.order_lines_v1")
    assert current_snapshot(tmp_path, REF) == snap
    # pyiceberg alone, from the catalog file: no platform code
    # the SQL catalog keys its rows by catalog name: readers open it as "mesh" (`mesh ports`)
    alone = SqlCatalog("mesh", uri=f"sqlite:///{tmp_path}/iceberg/catalog.db")
    table = alone.load_table("sales.order_lines_v1")
    assert table.scan().to_arrow().num_rows == 3
    field = table.schema().find_field("id")
    assert field.required and field.doc == "Line number."
    props = table.current_snapshot().summary.additional_properties  # type: ignore[union-attr]
    assert props["mesh.run-id"] == "run-1" and props["mesh.rows"] == "3"
    assert props["mesh.contract-id"] == summary["mesh.contract-id"]
    assert table.location() == f"file://{tmp_path}/lake/sales/order_lines/v1"
    assert not any((tmp_path / "staging").rglob("*.parquet"))


def test_a_candidate_already_in_the_tables_schema_is_committed_as_the_audited_bytes(tmp_path):
    """DuckDB marks a column it knows holds no NULL required (a table's column statistics, as
    a dbt model's table has): such a file is registered, not rewritten."""
    audited = {}

    def write(folder: Path) -> None:
        with duckdb.connect() as con:
            con.execute("CREATE TABLE t AS SELECT range AS id, NULL::VARCHAR AS note FROM range(4)")
            con.execute(f"COPY (SELECT * FROM t) TO '{folder}/part-0.parquet'")

    def audit(folder: Path) -> None:
        audited["sha"] = hashlib.sha256((folder / "part-0.parquet").read_bytes()).hexdigest()

    snap = publish(tmp_path, REF, write, audit, columns={"id": (True, None)})
    [file] = snap.files
    assert hashlib.sha256(Path(file).read_bytes()).hexdigest() == audited["sha"]
    table = load(tmp_path, REF)
    assert table is not None and table.schema().find_field("id").required
    assert table.scan().to_arrow().num_rows == 4  # read through the name mapping add_files set


def test_the_tables_columns_follow_the_contracts_order(tmp_path):
    columns = {"id": (True, None), "name": (False, "Its name.")}
    publish(tmp_path, REF, writer(2, name=["a", "b"]), columns=dict(reversed(columns.items())))
    table = load(tmp_path, REF)
    assert table is not None and [f.name for f in table.schema().fields] == ["name", "id"]
    assert table.scan().to_arrow().column_names == ["name", "id"]


def test_the_previous_snapshot_stays_readable_by_time_travel(tmp_path):
    first = publish(tmp_path, REF, writer(3))
    second = publish(tmp_path, REF, writer(5))
    assert current_snapshot(tmp_path, REF) == second
    table = load(tmp_path, REF)
    assert table is not None
    assert table.scan(snapshot_id=int(first.snapshot_id)).to_arrow().num_rows == 3
    assert duck_rows(snapshot_files(tmp_path, REF, first.snapshot_id)[1]) == 3
    assert duck_rows(second.files) == 5


def test_failed_audit_leaves_the_table_byte_identical_and_keeps_the_candidate(tmp_path):
    good = publish(tmp_path, REF, writer(3))
    before = digest(tmp_path / "lake")
    with pytest.raises(AuditFailed) as info:
        publish(tmp_path, REF, writer(7), audit=lambda folder: "column id: 2 rows negative")
    assert current_snapshot(tmp_path, REF) == good
    assert digest(tmp_path / "lake") == before
    kept = info.value.kept_at
    assert (kept / "_reason.txt").read_text().strip() == "column id: 2 rows negative"
    assert pq.read_table(kept / "part-0.parquet").num_rows == 7  # nothing is thrown away


def test_crash_while_writing_leaves_the_table_and_no_staging(tmp_path):
    good = publish(tmp_path, REF, writer(3))

    def broken(folder: Path) -> None:
        writer(10)(folder)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(tmp_path, REF, broken)
    assert current_snapshot(tmp_path, REF) == good
    assert not any((tmp_path / "staging").rglob("*.parquet"))


def test_never_published_port_has_no_snapshot(tmp_path):
    assert current_snapshot(tmp_path, REF) is None
    assert list_ports(tmp_path) == []
    with pytest.raises(LookupError, match="sales.order_lines_v1"):
        snapshot_files(tmp_path, REF)


def test_list_ports_reports_every_current_snapshot(tmp_path):
    publish(tmp_path, REF, writer(2))
    publish(tmp_path, PortRef("catalog", "products", 1), writer(4))
    listed = [(s.domain, s.product, s.version, s.rows) for s in list_ports(tmp_path)]
    assert listed == [("catalog", "products", 1, 4), ("sales", "order_lines", 1, 2)]


def test_an_added_optional_column_evolves_the_same_table(tmp_path):
    old = publish(tmp_path, REF, writer(2))
    new = publish(tmp_path, REF, writer(3, channel=["web", "shop", "web"]))
    table = load(tmp_path, REF)
    assert table is not None and [f.name for f in table.schema().fields] == ["id", "channel"]
    assert table.scan(snapshot_id=int(old.snapshot_id)).to_arrow().num_rows == 2
    files = [*snapshot_files(tmp_path, REF, old.snapshot_id)[1], *new.files]
    with duckdb.connect() as con:
        query = "SELECT count(channel) FROM read_parquet(?, union_by_name = true)"
        assert con.execute(query, [files]).fetchall() == [(3,)]


def test_expiry_keeps_the_newest_publishes_and_a_pinned_run_still_reads(tmp_path):
    first = publish(tmp_path, REF, writer(2))
    pins = pin_inputs(tmp_path, "run-a", [REF])
    for rows in range(3, 9):
        publish(tmp_path, REF, writer(rows))
    table = load(tmp_path, REF)
    assert table is not None and table.snapshot_by_id(int(first.snapshot_id)) is None  # expired
    publishes = [s for s in table.snapshots() if s.summary.operation.value == "append"]  # type: ignore[union-attr]
    assert len(publishes) == 5
    assert duck_rows(pins[REF].files) == 2  # within the grace period its files stay
    assert pin_inputs(tmp_path, "run-a", [REF]) == pins  # the run keeps its pin
    expire(tmp_path, REF, grace=0)
    assert not any(Path(f).exists() for f in pins[REF].files)
    live = {
        f for s in table.snapshots() for f in snapshot_files(tmp_path, REF, str(s.snapshot_id))[1]
    }
    assert all(Path(f).exists() for f in live)


def test_a_home_with_a_space_keeps_its_files_inside_it(tmp_path):
    home = tmp_path / "my mesh"
    snap = publish(home, REF, writer(2))
    assert all(Path(f).is_relative_to(home) and Path(f).exists() for f in snap.files)
    assert catalog(home).properties["warehouse"] == f"file://{home}/lake"


CHILD = """
import sys, time
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
from mesh_platform.ports import PortRef, publish
def write(folder):
    pq.write_table(pa.table({"id": list(range(60_000))}), folder / "part-0.parquet")
def audit(folder):
    if sys.argv[3] == "hold":  # written and audited, not committed: wait for the kill
        print("audited", flush=True)
        time.sleep(60)
print("ready", flush=True)
publish(Path(sys.argv[1]), PortRef("sales", "order_lines", 1), write, audit, sys.argv[2])
print("done", flush=True)
"""


def _kill_child(home: Path, run_id: str, moment: float | None) -> None:
    """Start a publishing child; SIGKILL it after ``moment`` s or (None) inside its audit."""
    child = subprocess.Popen(
        [sys.executable, str(home / "child.py"), str(home), run_id, "go" if moment else "hold"],
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


def test_kill_9_at_any_moment_leaves_the_old_or_the_new_snapshot(tmp_path):
    (tmp_path / "child.py").write_text(textwrap.dedent(CHILD))
    current = publish(tmp_path, REF, writer(5), run_id="seed")
    rng = random.Random(15)
    for attempt, moment in enumerate([None, *(rng.uniform(0.0, 0.4) for _ in range(5))]):
        _kill_child(tmp_path, f"killed-{attempt}", moment)
        snap = current_snapshot(tmp_path, REF)
        assert snap is not None
        if moment is None:
            assert snap == current
        elif snap != current:
            assert snap.run_id == f"killed-{attempt}"
        assert duck_rows(snap.files) == snap.rows and snap.rows in (5, 60_000)
        current = snap
