"""The S3 server stopped during a publish (SeaweedFS, started here): the port keeps its snapshot,
the error names the endpoint, and the next publish after the server is back succeeds."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import PortRef, WarehouseUnavailable, current_snapshot, publish
from pyarrow import fs as pafs
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table, Transaction

from tests.integration.test_s3_mesh import catalog_env
from tests.s3server import S3Endpoint, s3_server
from tests.support import run_mesh

pytestmark = pytest.mark.slow

REF = PortRef("shop", "orders", 1)
# pyarrow's S3 client defaults (1 s to connect, 3 s without a byte, 3 attempts) fail a publish
# against a hung server in 9-11 s and a refused one in 1-2 s (measured: this file with -s, and
# bench/bench_ports_s3.py); minutes would mean a retry or timeout setting crept in.
HUNG_BOUND, REFUSED_BOUND = 30.0, 10.0


class Store:
    """A test S3 server that can be stopped mid-publish and started again on the same data."""

    def __init__(self, tmp: Path):
        self.dir, self.stack = tmp / "s3", ExitStack()
        self.endpoint = self.start()

    def start(self, ports: tuple[int, ...] | None = None) -> S3Endpoint:
        self.endpoint = self.stack.enter_context(s3_server(self.dir, ports=ports))
        return self.endpoint

    def stop(self) -> None:
        self.stack.close()

    def restart(self) -> S3Endpoint:
        return self.start(self.endpoint.ports)


@pytest.fixture
def store(tmp_path, monkeypatch) -> Iterator[Store]:
    running = Store(tmp_path)
    for name, value in catalog_env(running.endpoint).items():
        monkeypatch.setenv(name, value)
    try:
        yield running
    finally:
        running.stop()


def writer(rows: int, then: Callable[[], None] | None = None):
    """Writes ``rows`` rows as the candidate, then runs ``then`` (inside the publish)."""

    def write(folder: Path) -> None:
        pq.write_table(pa.table({"id": list(range(rows))}), folder / "part-0.parquet")
        if then:
            then()

    return write


def alone(home: Path, s3: S3Endpoint, ref: PortRef = REF) -> Table:
    """The port's table read by pyiceberg alone: no platform code."""
    lake = SqlCatalog(
        "mesh", uri=f"sqlite:///{home / 'iceberg' / 'catalog.db'}",
        warehouse=f"s3://{s3.bucket}/lake", **s3.iceberg_properties(),
    )  # fmt: skip
    return lake.load_table(ref.identifier)


def current_id(table: Table) -> int | None:
    snap = table.current_snapshot()
    return None if snap is None else snap.snapshot_id


def failed_publish(home: Path, write) -> tuple[WarehouseUnavailable, float]:
    start = time.monotonic()
    with pytest.raises(WarehouseUnavailable) as failed:
        publish(home, REF, write)
    return failed.value, time.monotonic() - start


def assert_kept_then_published(home: Path, store: Store, first) -> None:
    """After a failed publish: pyiceberg sees ``first`` as current, the next publish lands."""
    s3 = store.restart()
    table = alone(home, s3)
    assert current_id(table) == int(first.snapshot_id)
    assert table.scan().to_arrow().num_rows == first.rows
    again = publish(home, REF, writer(7))
    table = alone(home, s3)
    assert current_id(table) == int(again.snapshot_id) != int(first.snapshot_id)
    assert table.scan().to_arrow().num_rows == 7


def test_server_stopped_while_the_candidate_is_written(tmp_path, store):
    home = tmp_path / "mesh"
    first = publish(home, REF, writer(3))
    error, seconds = failed_publish(home, writer(5, then=store.stop))
    message = str(error)
    assert (
        store.endpoint.endpoint_url in message and f"s3://{store.endpoint.bucket}/lake" in message
    )
    assert message.startswith("shop/orders/v1: not published:"), message
    assert "NETWORK_CONNECTION" in message and "keeps its previous snapshot" in message, message
    assert "Traceback" not in message and "\n" not in message
    assert error.landed is False and seconds < REFUSED_BOUND, seconds
    assert not list((home / "staging").rglob("*.parquet"))  # the candidate is not kept
    # readers say the same: in-process, and `mesh ports` as one line on stderr, exit 1
    where = f"the warehouse s3://{store.endpoint.bucket}/lake at {store.endpoint.endpoint_url}"
    with pytest.raises(WarehouseUnavailable, match=f"^reading shop/orders/v1: {where} failed: "):
        current_snapshot(home, REF)
    listed = run_mesh(home, "ports", timeout=120, **catalog_env(store.endpoint))
    assert listed.returncode == 1 and "Traceback" not in listed.stderr, listed.stderr[-3000:]
    assert listed.stderr.strip().splitlines() == [
        f"error: reading shop/orders/v1: {where} failed: NETWORK_CONNECTION during HeadObject: "
        "curlCode: 7, Could not connect to server"
    ]
    assert_kept_then_published(home, store, first)


def test_server_stopped_between_the_data_files_and_the_catalog_commit(tmp_path, store, monkeypatch):
    home = tmp_path / "mesh"
    first = publish(home, REF, writer(3))
    before = data_files(store.endpoint)
    original = Transaction.commit_transaction
    written: list[str] = []

    def stop_then_commit(tx: Transaction):
        # pyiceberg has written the snapshot's data files and manifests, not its metadata file
        written.extend(data_files(store.endpoint) - before)
        store.stop()
        return original(tx)

    monkeypatch.setattr(Transaction, "commit_transaction", stop_then_commit)
    error, _ = failed_publish(home, writer(5))
    monkeypatch.setattr(Transaction, "commit_transaction", original)
    assert written, "the seam ran before the data files were written"
    assert error.landed is False and store.endpoint.endpoint_url in str(error)
    assert "keeps its previous snapshot" in str(error)
    store.restart()
    assert set(written) <= data_files(store.endpoint)  # orphans, for expiry after its grace
    assert_kept_then_published(home, store, first)


def data_files(s3: S3Endpoint) -> set[str]:
    """The Parquet files under the port's ``data/`` folder on the server."""
    folder = f"{s3.bucket}/lake/{REF.relative_dir}/data"
    infos = s3.filesystem().get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    return {i.path for i in infos if i.path.endswith(".parquet")}


def test_server_stopped_after_the_catalog_commit_says_the_port_moved(tmp_path, store, monkeypatch):
    home = tmp_path / "mesh"
    publish(home, REF, writer(3))
    original = SqlCatalog.commit_table

    def commit_then_stop(catalog, *args, **kwargs):
        response = original(catalog, *args, **kwargs)
        store.stop()  # what follows the commit (expiry, the snapshot's files) needs S3
        return response

    monkeypatch.setattr(SqlCatalog, "commit_table", commit_then_stop)
    error, _ = failed_publish(home, writer(5))
    monkeypatch.setattr(SqlCatalog, "commit_table", original)
    assert error.landed is True and store.endpoint.endpoint_url in str(error)
    assert str(error).startswith("shop/orders/v1: failed after the publish:"), str(error)
    table = alone(home, store.restart())
    assert table.scan().to_arrow().num_rows == 5  # the commit had landed: no rows lost


@pytest.mark.parametrize("fault", ["hung", "refused"])
def test_a_dead_server_fails_a_publish_in_seconds(tmp_path, store, fault):
    home = tmp_path / "mesh"
    first = publish(home, REF, writer(3))
    if fault == "hung":  # the process stays, its sockets accept nothing more
        os.killpg(store.endpoint.pid, signal.SIGSTOP)
        error, seconds = failed_publish(home, writer(5))
        os.killpg(store.endpoint.pid, signal.SIGCONT)
    else:
        store.stop()
        error, seconds = failed_publish(home, writer(5))
    print(f"{fault}: publish failed after {seconds:.1f} s: {error}")
    assert seconds < (HUNG_BOUND if fault == "hung" else REFUSED_BOUND), seconds
    assert error.landed is False and store.endpoint.endpoint_url in str(error)
    if fault == "hung":
        store.stop()
    assert_kept_then_published(home, store, first)


def test_a_first_publish_with_the_server_stopped_leaves_no_table(tmp_path, store):
    home = tmp_path / "mesh"
    store.stop()
    error, _ = failed_publish(home, writer(3))
    assert str(error).endswith("; the port is still unpublished"), str(error)
    s3 = store.restart()
    assert not SqlCatalog("mesh", uri=f"sqlite:///{home / 'iceberg' / 'catalog.db'}").table_exists(
        REF.identifier
    )
    publish(home, REF, writer(3))
    assert alone(home, s3).scan().to_arrow().num_rows == 3


def test_a_domain_run_with_the_server_stopped_says_where_and_the_next_run_publishes(
    tmp_path, store
):
    home, domain = tmp_path / "mesh", "catalog"  # the demo's smallest domain: no input ports
    refs = [PortRef(domain, "products"), PortRef(domain, "promotions")]
    env = {**catalog_env(store.endpoint), "MESH_ML": "off"}

    def up(*args: str):
        done = run_mesh(home, "up", "--domain", domain, *args, timeout=300, **env)
        return done, done.stdout + done.stderr

    def snapshots() -> list[int | None]:
        return [current_id(alone(home, store.endpoint, ref)) for ref in refs]

    first, out = up("--scale", "0.05")
    assert first.returncode == 0, out[-3000:]
    published = snapshots()
    store.stop()
    failed, out = up()
    assert failed.returncode == 1, out[-3000:]
    assert "Traceback" not in out and "OSError" not in out, out[-3000:]
    line = next(line for line in out.splitlines() if line.startswith(f"{domain}: {domain}/"))
    assert f"at {store.endpoint.endpoint_url} failed: NETWORK_CONNECTION" in line, line
    assert line.endswith("the port keeps its previous snapshot"), line
    store.restart()
    assert snapshots() == published
    again, out = up()
    assert again.returncode == 0, out[-3000:]
    assert all(new != old for new, old in zip(snapshots(), published, strict=True))
