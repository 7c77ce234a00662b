"""DuckDB's own sandbox for a domain's dbt run: files outside its allowed ports are refused.

Defence in depth behind ``mesh_platform.access.rules``: the static check reads the project, this one
holds at run time whatever SQL a macro generates. DuckDB accepts ``allowed_directories`` only
while external access is on, and once it is off nobody can change it; dbt-duckdb applies profile
``settings`` on every cursor (the second cursor's SET then fails), so the platform sets both
once per database connection from a dbt-duckdb plugin, added to a per-run copy of the profile.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mesh_platform.access.rules import AccessDenied, allowed_directories, enforce

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.settings import MeshPaths

PLUGIN_MODULE = "mesh_platform.dbt.sandbox_plugin"
PROFILES = "profiles.yml"
ALLOWED_ENV = "MESH_DUCKDB_ALLOWED"  # JSON list of folders the dbt run may read
SANDBOX_ENV = "MESH_DUCKDB_SANDBOX"  # "off" leaves DuckDB unsandboxed (the static check stays)


def sandboxed_profiles_dir(project_dir: Path) -> Path:
    """The project's profile plus the sandbox plugin, in ``target/sandbox/``; returns the folder.

    The copy is the same for every run, and `dbt parse` reads it too: dbt hashes the profile
    (plugins included) into its partial-parse state, and a per-run profile made every run
    re-parse its whole project (seen: "Unable to do partial parsing because profile has
    changed"). The directories a run may read therefore reach the plugin through
    ``MESH_DUCKDB_ALLOWED``, not through the profile.
    """
    project_dir = Path(project_dir)
    profiles = yaml.safe_load((project_dir / PROFILES).read_text(encoding="utf-8"))
    for profile in profiles.values():
        if not isinstance(profile, dict):
            continue  # e.g. a top-level `config:` block
        for output in (profile.get("outputs") or {}).values():
            plugins = [p for p in output.get("plugins") or [] if p.get("module") != PLUGIN_MODULE]
            output["plugins"] = [*plugins, {"module": PLUGIN_MODULE}]
    folder = project_dir / "target" / "sandbox"
    folder.mkdir(parents=True, exist_ok=True)
    text = "# Written by mesh_platform.dbt.sandbox from ../../profiles.yml\n"
    text += yaml.safe_dump(profiles, sort_keys=False)
    if not (folder / PROFILES).exists() or (folder / PROFILES).read_text() != text:
        (folder / PROFILES).write_text(text, encoding="utf-8")
    return folder


def allowed_spellings(allowed: list[Path], home: Path) -> list[str]:
    """Each allowed folder absolute and relative to MESH_HOME, with a trailing slash.

    DuckDB checks a path as written (relative to ``file_search_path``, MESH_HOME here) and again
    every file its glob resolves to: both spellings must be allowed (measured).
    """
    rel = [Path(d).relative_to(home) for d in allowed if Path(d).is_relative_to(home)]
    return [str(d).rstrip("/") + "/" for d in [*allowed, *rel]]


def guard_build(domain: Domain, project: DbtProject, paths: MeshPaths, target: Path) -> Path:
    """Refuse a build whose project reads what it may not; return the sandboxed profiles folder.

    Raises:
        dagster.Failure: naming the consumer, each refused port or warehouse, and why.
    """
    import dagster as dg

    manifest = json.loads(Path(project.manifest_path).read_text(encoding="utf-8"))
    try:
        enforce(domain, manifest)
    except AccessDenied as exc:
        raise dg.Failure(description=str(exc), metadata={"mesh/access": "refused"}) from exc
    if os.environ.get(SANDBOX_ENV, "on").lower() in ("off", "0", "false"):
        os.environ.pop(ALLOWED_ENV, None)
    else:  # the run's own process: the dbt subprocess it starts next inherits it
        dirs = allowed_spellings(allowed_directories(domain, paths.lake), paths.home)
        os.environ[ALLOWED_ENV] = json.dumps(dirs)
    return sandboxed_profiles_dir(project.project_dir)
