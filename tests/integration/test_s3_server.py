"""Iceberg tables on a real S3 server (SeaweedFS, started by the test): pyiceberg and DuckDB."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from fsspec.implementations.arrow import ArrowFSWrapper
from pyarrow import fs as pafs
from pyiceberg.catalog.sql import SqlCatalog

from tests.s3server import S3Endpoint, s3_server
from tests.support import process_tree

pytestmark = pytest.mark.slow

ORDERS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})


def catalog(tmp: Path, s3: S3Endpoint) -> SqlCatalog:
    """A SQL catalog on SQLite under ``tmp`` whose warehouse is the server's bucket."""
    return SqlCatalog(
        "lake", uri=f"sqlite:///{tmp / 'catalog.db'}", warehouse=f"s3://{s3.bucket}/lake",
        **s3.iceberg_properties(),
    )  # fmt: skip


def duckdb_on(s3: S3Endpoint) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads and writes s3:// paths through pyarrow's S3 client
    (fsspec's ArrowFSWrapper: DuckDB's httpfs extension is not needed)."""
    con = duckdb.connect()
    con.register_filesystem(ArrowFSWrapper(s3.filesystem()))
    return con


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[S3Endpoint]:
    """One S3 server for the module's tests that do not stop it."""
    with s3_server(tmp_path_factory.mktemp("s3")) as endpoint:
        yield endpoint


def test_server_stops_its_whole_tree_and_frees_its_ports(tmp_path):
    with s3_server(tmp_path) as s3:
        assert process_tree(s3.pid) == [s3.pid]  # one weed process serves all of it
        assert s3.filesystem().get_file_info(f"{s3.bucket}/.ready").size == 2
    assert process_tree(s3.pid) == []
    for port in s3.ports:
        with socket.socket() as sock:  # as a restarted server binds: past TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()
    assert not [s for port in s3.ports for s in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")]


def test_iceberg_table_on_s3_is_written_read_and_scanned_by_duckdb(tmp_path, s3):
    lake = catalog(tmp_path, s3)
    lake.create_namespace("shop")
    table = lake.create_table(("shop", "orders"), schema=ORDERS.schema)
    table.append(ORDERS)
    assert table.scan().to_arrow().sort_by("id").equals(ORDERS)

    files = [task.file.file_path for task in table.scan().plan_files()]
    assert files and all(f.startswith(f"s3://{s3.bucket}/lake/shop/orders/data/") for f in files)

    # (a) pyarrow's S3 client reads the files; DuckDB scans them as an Arrow dataset.
    con = duckdb.connect()
    con.register(
        "orders", ds.dataset([f.removeprefix("s3://") for f in files], filesystem=s3.filesystem())
    )
    assert con.sql("SELECT count(*), sum(id) FROM orders").fetchall() == [(3, 6)]
    # (b) DuckDB reads the s3:// paths itself, through the registered filesystem.
    con = duckdb_on(s3)
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone() == (3,)


def test_duckdb_writes_parquet_to_s3(tmp_path, s3):
    con = duckdb_on(s3)
    con.sql(f"COPY (SELECT range AS id FROM range(10)) TO 's3://{s3.bucket}/duck/direct.parquet'")
    # Without the registered filesystem: COPY to a local file, then upload it with pyarrow.
    local = tmp_path / "local.parquet"
    duckdb.sql(f"COPY (SELECT range AS id FROM range(10, 20)) TO '{local}'")
    pafs.copy_files(
        str(local), f"{s3.bucket}/duck/uploaded.parquet", destination_filesystem=s3.filesystem()
    )

    both = con.sql(f"SELECT count(*), sum(id) FROM 's3://{s3.bucket}/duck/*.parquet'").fetchall()
    assert both == [(20, sum(range(20)))]


def test_append_names_the_endpoint_when_the_server_is_down_and_the_table_survives(tmp_path):
    with s3_server(tmp_path / "s3") as s3:
        lake = catalog(tmp_path, s3)
        lake.create_namespace("shop")
        table = lake.create_table(("shop", "orders"), schema=ORDERS.schema)
        table.append(ORDERS)

    with pytest.raises(OSError) as refused:
        table.append(ORDERS)
    port = s3.endpoint_url.rsplit(":", 1)[1]
    assert f"Failed to connect to 127.0.0.1 port {port}" in str(refused.value)

    with s3_server(tmp_path / "s3", ports=s3.ports):
        table = lake.load_table(("shop", "orders"))
        assert len(table.history()) == 1
        assert table.scan().to_arrow().sort_by("id").equals(ORDERS)
