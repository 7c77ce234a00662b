"""The demo mesh with its warehouse on a real S3 server (SeaweedFS, started here): `mesh up`."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from mesh_platform.dbt.render import PLUGIN_MODULE
from mesh_platform.dbt.sandbox import ALLOWED_ENV, OBJECT_STORE_ENV
from mesh_platform.dbt.sandbox_plugin import Plugin
from mesh_platform.ports.object_store import register_filesystems
from pyarrow import fs as pafs
from pyiceberg.catalog.sql import SqlCatalog

from tests.integration.test_mesh_e2e import LOCATIONS, PORTS
from tests.s3server import S3Endpoint, s3_server
from tests.support import run_mesh

pytestmark = pytest.mark.slow

SCALE = "0.05"  # every domain and model gate passes (measured); half the e2e suite's 0.1


def catalog_env(s3: S3Endpoint) -> dict[str, str]:
    """pyiceberg's environment variables for the catalog ``mesh`` with its warehouse on ``s3``.

    pyiceberg splits ``PYICEBERG_CATALOG__MESH__S3__ACCESS_KEY_ID`` at its first two ``__``,
    then reads ``__`` as ``.`` and ``_`` as ``-``: the property ``s3.access-key-id``.
    """
    env = {"PYICEBERG_CATALOG__MESH__WAREHOUSE": f"s3://{s3.bucket}/lake"}
    for key, value in s3.iceberg_properties().items():
        env["PYICEBERG_CATALOG__MESH__" + key.replace(".", "__").replace("-", "_").upper()] = value
    return env


@dataclass(frozen=True)
class S3Mesh:
    """The demo mesh built by `mesh up` with its warehouse on ``s3``."""

    s3: S3Endpoint
    home: Path
    up: subprocess.CompletedProcess
    seconds: float


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[S3Endpoint]:
    with s3_server(tmp_path_factory.mktemp("s3")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def s3_mesh(s3, tmp_path_factory) -> S3Mesh:
    home = tmp_path_factory.mktemp("s3mesh") / "mesh"
    start = time.monotonic()
    up = run_mesh(home, "up", "--scale", SCALE, timeout=600, **catalog_env(s3))
    seconds = time.monotonic() - start
    assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
    print(f"mesh up --scale {SCALE} on S3: {seconds:.1f} s")  # shown with -s / on failure
    return S3Mesh(s3, home, up, seconds)


def test_mesh_up_builds_every_domain_against_s3(s3_mesh):
    assert f"{len(LOCATIONS)} of {len(LOCATIONS)} domains ok" in s3_mesh.up.stdout
    listed = run_mesh(s3_mesh.home, "ports", "--format", "json", **catalog_env(s3_mesh.s3))
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert found["catalog"]["warehouse"] == f"s3://{s3_mesh.s3.bucket}/lake"
    assert found["catalog"]["s3.secret-access-key"] == "***"
    assert {(p["domain"], p["product"]) for p in found["ports"]} == PORTS


def test_freshness_and_pii_scan_read_the_ports_files_on_s3(s3_mesh):
    env = catalog_env(s3_mesh.s3)
    listed = run_mesh(s3_mesh.home, "catalog", "--format", "json", **env)
    assert listed.returncode == 0, listed.stderr
    by_element = [
        e for e in json.loads(listed.stdout) if e["freshness_basis"].startswith("element")
    ]
    assert by_element and all(e["freshness_newest"] for e in by_element), by_element
    governed = run_mesh(s3_mesh.home, "govern", "--format", "json", **env)
    assert governed.returncode == 0, governed.stdout[-2000:] + governed.stderr[-2000:]
    scorecard = json.loads(governed.stdout)["scorecard"]
    assert all("pii" in scorecard[d]["passed"] for d in LOCATIONS), scorecard


def test_every_port_is_an_iceberg_table_on_s3_read_by_pyiceberg_alone(s3_mesh):
    s3, home = s3_mesh.s3, s3_mesh.home
    listed = run_mesh(home, "ports", "--format", "json", **catalog_env(s3))
    ports = json.loads(listed.stdout)["ports"]
    lake = SqlCatalog(
        "mesh", uri=f"sqlite:///{home / 'iceberg' / 'catalog.db'}",
        warehouse=f"s3://{s3.bucket}/lake", **s3.iceberg_properties(),
    )  # fmt: skip
    for port in ports:
        table = lake.load_table((port["domain"], f"{port['product']}_v{port['version']}"))
        assert str(table.current_snapshot().snapshot_id) == port["snapshot_id"]
        assert port["rows"] > 0 and table.scan().to_arrow().num_rows == port["rows"]
        prefix = f"s3://{s3.bucket}/lake/{port['domain']}/{port['product']}/v{port['version']}/"
        files = [t.file.file_path for t in table.scan().plan_files()]
        assert files and all(f.startswith(prefix + "data/") for f in files), files
    lake_dir = home / "lake"
    assert not lake_dir.exists() or not any(p.is_file() for p in lake_dir.rglob("*"))
    stored = s3.filesystem().get_file_info(pafs.FileSelector(f"{s3.bucket}/lake", recursive=True))
    assert any(info.path.endswith(".parquet") for info in stored)


def test_dbt_sandbox_opens_the_declared_ports_on_s3_and_refuses_other_keys(
    s3, tmp_path, monkeypatch
):
    for name, value in catalog_env(s3).items():
        monkeypatch.setenv(name, value)
    allowed, other = (f"s3://{s3.bucket}/lake/{d}/v1" for d in ("shop/orders", "shop/secrets"))
    writer = duckdb.connect()
    register_filesystems(writer, tmp_path)
    for folder in (allowed, other):
        writer.sql(f"COPY (SELECT 1 AS id) TO '{folder}/data/part-0.parquet'")
    # What guard_build exports to the dbt process, then dbt-duckdb's calls of the plugin.
    monkeypatch.setenv(OBJECT_STORE_ENV, str(tmp_path))
    monkeypatch.setenv(ALLOWED_ENV, json.dumps([allowed + "/"]))
    con = duckdb.connect()
    Plugin.create(PLUGIN_MODULE).configure_connection(con)
    read = "SELECT id FROM read_parquet(['{}/data/part-0.parquet'])"
    assert con.sql(read.format(allowed)).fetchall() == [(1,)]
    with pytest.raises(duckdb.PermissionException):
        con.sql(read.format(other)).fetchall()
