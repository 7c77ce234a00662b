"""DuckDB on an object-store warehouse: its files through pyiceberg's own PyArrow filesystem."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fsspec.implementations.arrow import ArrowFSWrapper
from pyiceberg.io.pyarrow import PyArrowFileIO

from mesh_platform.ports.lakehouse import catalog_properties, warehouse

LOCAL_SCHEMES = ("", "file")


def filesystems(home: Path) -> list[Any]:
    """The fsspec filesystems a DuckDB reader of the warehouse's data files needs.

    DuckDB 2.0 has no httpfs here: it opens an ``s3://`` path through a registered fsspec
    filesystem. The filesystem is the one pyiceberg's FileIO writes with, built from the same
    catalog properties (``s3.endpoint``, ``s3.access-key-id``, ``s3.region``...), so readers
    and the writer cannot disagree on endpoint or credentials.

    Args:
        home: The mesh home (MESH_HOME).

    Returns:
        One filesystem for an object-store warehouse; none for a ``file://`` one.

    Raises:
        ValueError: The warehouse's scheme is not one DuckDB can be given (``s3a://``...).
    """
    props = catalog_properties(home)
    scheme, _, rest = warehouse(home).partition("://")
    if not rest or scheme in LOCAL_SCHEMES:
        return []
    return [_filesystem(scheme, rest.split("/")[0], tuple(sorted(props.items())))]


@functools.lru_cache(maxsize=8)
def _filesystem(scheme: str, bucket: str, props: tuple[tuple[str, str], ...]) -> Any:
    """One wrapper per configuration: pyarrow's S3 client is costly to build (~50 ms)."""
    wrapped = ArrowFSWrapper(PyArrowFileIO(dict(props)).fs_by_scheme(scheme, bucket))
    if wrapped.protocol != scheme:  # DuckDB routes a path to the filesystem by its protocol
        raise ValueError(
            f"warehouse {scheme}://{bucket}: DuckDB reads it as {wrapped.protocol}://, not "
            f"{scheme}://; use a {wrapped.protocol}:// warehouse"
        )
    return wrapped


def register_filesystems(con: Any, home: Path) -> None:
    """Let a DuckDB connection read (and COPY to) the warehouse's data files.

    A no-op for a ``file://`` warehouse. Registering does not widen a sandbox: a connection
    with ``enable_external_access = false`` still opens only its ``allowed_directories``.

    Args:
        con: The DuckDB connection (its cursors share the registration).
        home: The mesh home (MESH_HOME).
    """
    known = set(con.list_filesystems())
    for fs in filesystems(home):
        if fs.protocol not in known:  # registering one protocol twice is an error
            con.register_filesystem(fs)
