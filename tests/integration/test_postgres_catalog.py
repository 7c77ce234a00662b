"""The ports' Iceberg catalog on a real PostgreSQL, by configuration only; secrets stay hidden."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import PortRef, current_snapshot, list_ports, publish
from mesh_platform.ports.lakehouse import describe
from pyiceberg.catalog.sql import SqlCatalog

from tests.pgserver import postgres_server
from tests.support import run_mesh

pytestmark = pytest.mark.slow
REF = PortRef("billing", "invoices", 2)


def test_a_postgresql_catalog_holds_the_ports_and_never_shows_its_password(tmp_path, monkeypatch):
    home = tmp_path / "mesh"
    with postgres_server() as pg:
        monkeypatch.setenv("PYICEBERG_CATALOG__MESH__URI", pg.url())
        snap = publish(
            home, REF, lambda d: pq.write_table(pa.table({"n": [1, 2, 3]}), d / "p.parquet")
        )
        assert current_snapshot(home, REF) == snap and list_ports(home) == [snap]
        assert not (home / "iceberg").exists()  # no embedded SQLite catalog was made
        # any reader with pyiceberg and the catalog's URL finds it
        other = SqlCatalog("mesh", uri=pg.url(), warehouse=f"file://{home}/lake")
        assert other.load_table("billing.invoices_v2").scan().to_arrow().num_rows == 3
        shown = describe(home)
        assert pg.password not in json.dumps(shown) and f"127.0.0.1:{pg.port}" in shown["uri"]
        proc = run_mesh(home, "ports", "--format", "json",
                        PYICEBERG_CATALOG__MESH__URI=pg.url())  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert pg.password not in proc.stdout + proc.stderr
        listed = json.loads(proc.stdout)["ports"]
        assert [(p["table"], p["rows"]) for p in listed] == [("billing.invoices_v2", 3)]
