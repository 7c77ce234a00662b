"""build_domain_definitions(domain_dir): a code location built from its descriptors."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from mesh_platform.dbt.assets import build_dbt_assets
from mesh_platform.dbt.project import domain_dbt_project
from mesh_platform.settings import mesh_paths
from mesh_platform.spec.loader import Domain, load_domain

_LANDING_KINDS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".json": "json"}


def _landing_specs(domain: Domain, manifest_path: Path) -> list[dg.AssetSpec]:
    """External assets for the landing-zone files the domain's dbt sources read."""
    manifest = json.loads(manifest_path.read_text())
    specs = []
    for source in manifest["sources"].values():
        location = source.get("meta", {}).get("external_location") or source.get(
            "source_meta", {}
        ).get("external_location", "")
        if "mesh_port" in {**source.get("source_meta", {}), **source.get("meta", {})}:
            continue  # another domain's port: defined in the producer's code location
        kind = next((k for ext, k in _LANDING_KINDS.items() if ext in location), "file")
        specs.append(
            dg.AssetSpec(
                key=[domain.name, "landing", source["source_name"], source["name"]],
                description=source.get("description") or f"Landed files: {location}",
                group_name=domain.name,
                owners=list(domain.spec.owners),
                kinds={kind},
                tags={"mesh/domain": domain.name, "mesh/layer": "landing"},
                metadata={"mesh/landing_location": dg.MetadataValue.text(location)},
            )
        )
    return specs


def build_domain_definitions(domain_path: str | Path) -> dg.Definitions:
    """Build a domain's Dagster Definitions from its folder.

    Args:
        domain_path: the domain folder, or any file in it (a domain's definitions.py passes
            ``__file__``).

    Returns:
        Definitions with the domain's dbt assets (ports published inside their step) and its
        landing sources, run in-process so a run pays Python's start-up once.

    """
    path = Path(domain_path).resolve()
    domain = load_domain(path if path.is_dir() else path.parent)
    paths = mesh_paths()
    project = domain_dbt_project(domain.dbt_dir)
    return dg.Definitions(
        assets=[
            build_dbt_assets(domain, paths, project),
            *_landing_specs(domain, project.manifest_path),
        ],
        executor=dg.in_process_executor,
    )
