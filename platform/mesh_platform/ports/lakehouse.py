"""The mesh's Iceberg catalog: embedded SQLite under MESH_HOME, or what pyiceberg's config names.

Configuration follows pyiceberg's own convention for the catalog named ``mesh``: a
``.pyiceberg.yaml`` (``catalog: {mesh: {...}}``) or ``PYICEBERG_CATALOG__MESH__<PROPERTY>``
environment variables. What they leave unset takes the embedded defaults: a SQL catalog in
``<MESH_HOME>/iceberg/catalog.db`` and the warehouse ``<MESH_HOME>/lake``. A PostgreSQL catalog
is ``uri=postgresql+psycopg2://...``; a REST catalog ``type=rest`` with its ``uri``; an S3
warehouse ``warehouse=s3://bucket/prefix`` with the ``s3.*`` FileIO properties.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.utils.config import Config
from sqlalchemy import text

from mesh_platform.access.redact import is_secret, masked_uri
from mesh_platform.ports.refs import PortRef

CATALOG_NAME = "mesh"
_cache: dict[tuple, Catalog] = {}
_lock = threading.Lock()


def catalog_properties(home: Path) -> dict[str, str]:
    """The catalog's properties: pyiceberg's configuration over the embedded defaults.

    Args:
        home: The mesh home (MESH_HOME).

    Returns:
        Properties for ``pyiceberg.catalog.load_catalog``.
    """
    config = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PYICEBERG_")))
    return dict(_properties(Path(home).resolve(), config))


@functools.lru_cache(maxsize=16)
def _properties(home: Path, config: tuple) -> tuple[tuple[str, str], ...]:
    """Cached per home and PYICEBERG_* environment: pyiceberg's Config reads a file each time."""
    defaults = {
        "type": "sql",
        "uri": f"sqlite:///{home / 'iceberg' / 'catalog.db'}",
        # not Path.as_uri(): pyiceberg does not unquote %20, so a home with a space breaks
        "warehouse": f"file://{home / 'lake'}",
    }
    configured = Config().get_catalog_config(CATALOG_NAME) or {}
    props = {**defaults, **{k: str(v) for k, v in configured.items()}}
    if props["type"] == "sql" and not props["uri"].startswith("sqlite"):
        # A database server's restart kills the pooled connections of long-lived processes
        # (a Celery worker published through one after PostgreSQL restarted): test before use.
        props.setdefault("pool_pre_ping", "true")
    return tuple(props.items())


def catalog(home: Path) -> Catalog:
    """The mesh's catalog, opened once per process and configuration.

    Args:
        home: The mesh home (MESH_HOME).

    Returns:
        The catalog; an embedded one has its SQLite file and lake folder created on first use.
    """
    props = catalog_properties(home)
    key = tuple(sorted(props.items()))
    with _lock:
        found = _cache.get(key)
        if found is None:
            if props["uri"].startswith("sqlite:///"):
                Path(props["uri"].removeprefix("sqlite:///")).parent.mkdir(
                    parents=True, exist_ok=True
                )
            if props["warehouse"].startswith("file://"):
                Path(props["warehouse"].removeprefix("file://")).mkdir(parents=True, exist_ok=True)
            found = _cache[key] = load_catalog(CATALOG_NAME, **props)
        return found


def has_catalog(home: Path) -> bool:
    """False only for an embedded catalog not created yet (nothing was ever published)."""
    uri = catalog_properties(home)["uri"]
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).exists()


def load(home: Path, ref: PortRef) -> Table | None:
    """A port's Iceberg table, or None when it was never published."""
    try:
        return catalog(home).load_table(ref.identifier)
    except NoSuchTableError:
        return None


# The Iceberg JDBC/SQL catalog's own table (shared by pyiceberg and Java engines): one indexed
# row per table, its metadata_location replaced by every commit.
_METADATA_LOCATION = text(
    "SELECT metadata_location FROM iceberg_tables "
    "WHERE catalog_name = :catalog AND table_namespace = :namespace AND table_name = :name"
)


def table_version(home: Path, ref: PortRef | None) -> str | None:
    """A token that changes with every commit of the port's table: its metadata location.

    On a SQL catalog this is one row of the catalog database (~0.07 ms); loading the table
    also reads and parses its metadata JSON (~1 ms per port, measured), so other catalogs,
    which have no cheaper lookup, pay that.

    Args:
        home: The mesh home.
        ref: The port major (None: not served).

    Returns:
        The metadata location, or None when the port is not served or never published.
    """
    if ref is None:
        return None
    cat = catalog(home)
    if isinstance(cat, SqlCatalog):
        namespace, name = ref.identifier
        with cat.engine.connect() as con:
            found = con.execute(
                _METADATA_LOCATION, {"catalog": cat.name, "namespace": namespace, "name": name}
            ).scalar()
        return None if found is None else str(found)
    table = load(home, ref)
    return None if table is None else table.metadata_location


def warehouse(home: Path) -> str:
    """The warehouse location (``file://...`` or ``s3://...``), without a trailing slash."""
    return catalog_properties(home)["warehouse"].rstrip("/")


def local_path(location: str) -> str:
    """A ``file://`` location as a plain path; any other location unchanged."""
    return location.removeprefix("file://")


def describe(home: Path) -> dict[str, Any]:
    """The catalog's configuration for people, other engines and lineage facets, secrets masked."""
    props = catalog_properties(home)
    props["uri"] = masked_uri(props.get("uri", ""))
    return {
        "name": CATALOG_NAME,
        **{k: "***" if is_secret(k) else v for k, v in props.items()},
    }
