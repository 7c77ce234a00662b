"""Code locations of the domains: workspace.yaml names a domain as this module's attribute.

``attribute: billing`` loads ``domains/billing/defs.yaml`` of the mesh (``settings.project_root``).
Dagster only puts a location's working directory on ``sys.path`` and never changes the current
directory, so the domain is named by the attribute rather than found from the working directory.
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.orchestration.component import DEFS_FILE, load_domain_defs
from mesh_platform.settings import mesh_paths


def __getattr__(name: str):
    """The domain ``name``'s Definitions, loaded lazily (PEP 562: looked up when Dagster asks).

    Dagster looks a location's attribute up twice (``hasattr``, then ``getattr``): a lazy
    ``dg.definitions`` loader makes the lookups free and the definitions built once per load
    (eager, every code server and run process built each domain's definitions twice; the
    second build measured 0.07-0.27 s on the demo's domains).
    """
    folder = mesh_paths().domains / name
    if name.startswith("_") or not (folder / DEFS_FILE).is_file():
        raise AttributeError(f"no domain '{name}' with a {DEFS_FILE} under {folder.parent}")

    @dg.definitions
    def defs() -> dg.Definitions:
        return load_domain_defs(folder)

    return defs
