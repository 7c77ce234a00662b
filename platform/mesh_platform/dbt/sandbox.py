"""DuckDB's own sandbox for a domain's dbt run: files outside its allowed ports are refused.

Defence in depth behind ``mesh_platform.access.rules``: the static check reads the project, this one
holds at run time whatever SQL a macro generates. DuckDB accepts ``allowed_directories`` only
while external access is on, and once it is off nobody can change it; dbt-duckdb applies profile
``settings`` on every cursor (the second cursor's SET then fails), so the platform sets both
once per database connection from a dbt-duckdb plugin that the rendered profile loads
(``mesh_platform.dbt.render``). The profile is the same for every run, and `dbt parse` reads it
too: dbt hashes the profile into its partial-parse state, so the folders a run may read reach the
plugin through ``MESH_DUCKDB_ALLOWED``, not through the profile. With the warehouse on an object
store the allowed folders are its ``s3://`` URIs, and ``MESH_DUCKDB_OBJECT_STORE`` tells the plugin
to register the store's filesystem (DuckDB's external access off still refuses other keys).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mesh_platform.access.rules import AccessDenied, allowed_directories, enforce
from mesh_platform.ports.lakehouse import local_path, warehouse
from mesh_platform.ports.object_store import filesystems

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.settings import MeshPaths

ALLOWED_ENV = "MESH_DUCKDB_ALLOWED"  # JSON list of folders the dbt run may read
SANDBOX_ENV = "MESH_DUCKDB_SANDBOX"  # "off" leaves DuckDB unsandboxed (the static check stays)
OBJECT_STORE_ENV = "MESH_DUCKDB_OBJECT_STORE"  # MESH_HOME when ports are on an object store


def allowed_spellings(allowed: list[str], home: Path) -> list[str]:
    """Each allowed folder absolute and relative to MESH_HOME, with a trailing slash.

    DuckDB checks a path as written (relative to ``file_search_path``, MESH_HOME here) and again
    every file its glob resolves to: both spellings of a local folder must be allowed (measured).
    An object store's URI (``s3://bucket/lake/...``) has one spelling.
    """
    local = [Path(d) for d in allowed if "://" not in d]
    rel = [str(d.relative_to(home)) for d in local if d.is_relative_to(home)]
    return [str(d).rstrip("/") + "/" for d in [*allowed, *rel]]


def guard_build(domain: Domain, project: DbtProject, paths: MeshPaths, target: Path) -> Path:
    """Refuse a build whose project reads what it may not; return the profiles folder to use.

    Raises:
        dagster.Failure: naming the consumer, each refused port or warehouse, and why.
    """
    import dagster as dg

    manifest = json.loads(Path(project.manifest_path).read_text(encoding="utf-8"))
    try:
        enforce(domain, manifest)
    except AccessDenied as exc:
        raise dg.Failure(description=str(exc), metadata={"mesh/access": "refused"}) from exc
    # the run's own process: the dbt subprocess it starts next inherits these
    if filesystems(paths.home):
        os.environ[OBJECT_STORE_ENV] = str(paths.home)
    else:
        os.environ.pop(OBJECT_STORE_ENV, None)
    if os.environ.get(SANDBOX_ENV, "on").lower() in ("off", "0", "false"):
        os.environ.pop(ALLOWED_ENV, None)
    else:
        lake = local_path(warehouse(paths.home))
        dirs = allowed_spellings(allowed_directories(domain, lake), paths.home)
        os.environ[ALLOWED_ENV] = json.dumps(dirs)
    return Path(project.project_dir)  # its rendered profile loads the sandbox plugin
