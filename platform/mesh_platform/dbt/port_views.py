"""Each input port a domain's dbt reads, as a view over the snapshot its run pinned."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from mesh_platform.contracts.rules import sql_literal
from mesh_platform.dbt.sources import PORTS_SCHEMA, port_view
from mesh_platform.descriptors.loader import Domain
from mesh_platform.ports import PortRef
from mesh_platform.ports.object_store import register_filesystems
from mesh_platform.ports.pins import Pin, pin_inputs
from mesh_platform.settings import MeshPaths
from mesh_platform.warehouse import connect


def input_refs(domain: Domain) -> list[PortRef]:
    """The port majors a domain's products declare as inputs."""
    reads = {(i.product, i.version) for p in domain.products.values() for i in p.input_ports
             if i.kind == "port" and i.product}  # fmt: skip
    return [
        PortRef(port.split("/")[0], port.split("/")[1], version) for port, version in sorted(reads)
    ]


def create_views(con: duckdb.DuckDBPyConnection, pins: Mapping[PortRef, Pin]) -> None:
    """(Re)create one view per pinned port over exactly its snapshot's data files.

    ``union_by_name``: files written before a schema evolution lack the added column, which
    reads as NULL, as Iceberg's own readers give it.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PORTS_SCHEMA}")
    for ref, pin in pins.items():
        files = ", ".join(sql_literal(f) for f in pin.files)
        con.execute(f"CREATE OR REPLACE VIEW {port_view(ref)} AS "
                    f"SELECT * FROM read_parquet([{files}], union_by_name = true)")  # fmt: skip


def pin_port_views(
    domain: Domain, paths: MeshPaths, warehouse: Path, run_id: str
) -> dict[PortRef, Pin]:
    """Pin the run's input ports (once per run) and point the domain's port views at them.

    Args:
        domain: The consumer domain.
        paths: The mesh's paths.
        warehouse: The domain's DuckDB file (no other process may hold it now).
        run_id: The run; every step of it reads the same snapshots.

    Returns:
        The pins (a port never published has none, and no view: dbt names it when read).
    """
    refs = input_refs(domain)
    if not refs:
        return {}
    pins = pin_inputs(paths.home, run_id, refs)
    con = connect(warehouse)
    try:
        register_filesystems(con, paths.home)  # a view reads its files' footers when created
        create_views(con, pins)
    finally:
        con.close()
    return pins
