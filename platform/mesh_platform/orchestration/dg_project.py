"""A `dg` project per domain under MESH_HOME, so `dg list defs` / `dg check defs` work on it."""

from __future__ import annotations

from pathlib import Path

from mesh_platform.orchestration.component import DEFS_FILE
from mesh_platform.settings import MeshPaths

PACKAGE = "mesh_domain"

_DG_TOML = """\
# Rendered by the platform for `dg` (dagster-dg-cli); edit domains/{domain}/defs.yaml instead.
directory_type = "project"

[project]
root_module = "{package}"
code_location_target_module = "{package}"
code_location_name = "{domain}"

[cli.telemetry]
enabled = false
"""

_INIT = '''\
"""The definitions of domain {domain}, loaded from its defs.yaml (rendered by the platform)."""

import os
from pathlib import Path

from mesh_platform.orchestration.component import load_domain_defs

os.environ.setdefault("MESH_PROJECT_ROOT", {root!r})
os.environ.setdefault("MESH_HOME", {home!r})
defs = load_domain_defs(Path({folder!r}))
'''


def domain_names(paths: MeshPaths) -> list[str]:
    """The domains of the mesh: folders of ``domains/`` holding a defs.yaml."""
    return sorted(p.parent.name for p in paths.domains.glob(f"*/{DEFS_FILE}"))


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def render_dg_project(paths: MeshPaths, domain: str) -> Path:
    """Render ``$MESH_HOME/dg/<domain>/``, a dg project whose definitions are the domain's.

    dg wants a project to be a Python package with a ``defs`` folder inside it, which a domain
    (declarations and SQL only) is not. So the package lives under MESH_HOME, like the prepared
    dbt project: its ``defs`` is the domain's Definitions, built exactly as the workspace's code
    location builds them, and its ``defs/<domain>`` links to the domain folder so that
    `dg check defs` validates the domain's defs.yaml against DomainComponent's schema (a YAML
    check only: the definitions come from the package, never from walking that folder).

    Returns:
        The project folder, where `dg` is run.
    """
    folder = paths.domains / domain
    if not (folder / DEFS_FILE).is_file():
        raise FileNotFoundError(f"no domain '{domain}': {folder / DEFS_FILE} does not exist")
    project = paths.home / "dg" / domain
    (project / PACKAGE / "defs").mkdir(parents=True, exist_ok=True)
    _write(project / "dg.toml", _DG_TOML.format(domain=domain, package=PACKAGE))
    init = _INIT.format(domain=domain, root=str(paths.root), home=str(paths.home),
                        folder=str(folder.resolve()))  # fmt: skip
    _write(project / PACKAGE / "__init__.py", init)
    link = project / PACKAGE / "defs" / domain
    if not (link.is_symlink() and link.resolve() == folder.resolve()):
        link.unlink(missing_ok=True)
        link.symlink_to(folder.resolve(), target_is_directory=True)
    return project
