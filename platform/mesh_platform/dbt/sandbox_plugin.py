"""The dbt-duckdb plugin of the sandbox (see ``mesh_platform.dbt.sandbox``); loaded by dbt."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    """Register the warehouse's filesystem, allow only the configured folders, then lock."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Read the folders the run may read, set by the platform (none: not sandboxed)."""
        raw = os.environ.get("MESH_DUCKDB_ALLOWED")
        self.allowed: list[str] | None = [str(d) for d in json.loads(raw)] if raw else None

    def configure_connection(self, conn: Any) -> None:
        """Once per database connection, before any model runs; cursors inherit it."""
        home = os.environ.get("MESH_DUCKDB_OBJECT_STORE")  # set by the platform: s3:// ports
        if home:  # imported only then: pyiceberg adds ~1.3 s to every dbt process (measured)
            from mesh_platform.ports.object_store import register_filesystems

            register_filesystems(conn, Path(home))  # the port views read their files through it
        if self.allowed is None:  # a plain `dbt build` by hand, or MESH_DUCKDB_SANDBOX=off
            return
        quoted = ", ".join("'" + d.replace("'", "''") + "'" for d in self.allowed)
        conn.execute(f"SET allowed_directories = [{quoted}]")
        conn.execute("SET enable_external_access = false")
