"""build_domain_definitions(domain_dir): a code location built from its descriptors."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from mesh_platform.dbt.assets import build_dbt_assets
from mesh_platform.dbt.project import domain_dbt_project
from mesh_platform.descriptors.loader import Domain, load_domain
from mesh_platform.governance.checks import with_governance_checks
from mesh_platform.ingest.assets import build_ingest_asset, landing_key, landing_ports
from mesh_platform.ingest.sensors import build_landing_sensor
from mesh_platform.settings import MeshPaths, mesh_paths

_LANDING_KINDS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".json": "json"}


def _landing_specs(domain: Domain) -> list[dg.AssetSpec]:
    """External assets for the files source systems deliver to the domain's landing zone."""
    specs = []
    for entity, port in landing_ports(domain).items():
        location = port.location or ""
        kind = next((k for ext, k in _LANDING_KINDS.items() if location.endswith(ext)), "file")
        specs.append(
            dg.AssetSpec(
                key=landing_key(domain.name, entity),
                description=f"Files delivered to landing/{location} by the source system.",
                group_name=domain.name,
                owners=list(domain.spec.owners),
                kinds={kind},
                tags={"mesh/domain": domain.name, "mesh/layer": "landing"},
                metadata={"mesh/landing_location": dg.MetadataValue.text(f"landing/{location}")},
            )
        )
    return specs


def _ingestion(domain: Domain, paths: MeshPaths) -> tuple[list, list, list]:
    """Ingestion assets, their job and the landing sensor of a source-aligned domain."""
    ports = landing_ports(domain)
    if not ports:
        return [], [], []
    assets = {
        entity: build_ingest_asset(domain, paths, entity, port) for entity, port in ports.items()
    }
    job = dg.define_asset_job(
        f"{domain.name}_ingest",
        selection=dg.AssetSelection.assets(*assets.values()).downstream(),
        description="Ingest landed files and rebuild everything downstream in the domain.",
    )
    op_names = {entity: asset.op.name for entity, asset in assets.items()}
    return list(assets.values()), [job], [build_landing_sensor(domain, paths, job, op_names)]


def _ml(domain: Domain, paths: MeshPaths) -> tuple[list, list, list]:
    """Training and scoring assets of the domain's ML products, their retrain job and sensor."""
    products = [p for p in domain.products.values() if p.model is not None]
    # MESH_ML=off leaves models out (a laptop without time for training; the SQL benchmark).
    if not products or os.environ.get("MESH_ML", "on").lower() in ("off", "0", "false"):
        return [], [], []
    # Imported only here: LightGBM, optuna, scikit-learn and matplotlib cost every code location
    # without models seconds of start-up for nothing.
    from mesh_platform.ml.assets import build_score_asset, build_train_asset
    from mesh_platform.ml.sensors import build_drift_sensor

    assets, scored = [], {}
    for product in products:
        train, score = (
            build_train_asset(domain, paths, product),
            build_score_asset(domain, paths, product),
        )
        assets += [train, score]
        scored[product.name] = score.key
    job = dg.define_asset_job(f"{domain.name}_retrain", selection=dg.AssetSelection.assets(*assets),
                              description="Train, gate and score the domain's models.")  # fmt: skip
    return assets, [job], [build_drift_sensor(domain.name, scored, job)]


def build_domain_definitions(domain_path: str | Path) -> dg.Definitions:
    """Build a domain's Dagster Definitions from its folder.

    Args:
        domain_path: the domain folder, or any file in it.

    Returns:
        Definitions with the domain's dbt assets (ports published inside their step) and its
        landing sources, run in-process so a run pays Python's start-up once.

    """
    path = Path(domain_path).resolve()
    domain = load_domain(path if path.is_dir() else path.parent)
    paths = mesh_paths()
    project = domain_dbt_project(domain, paths)
    ingest_assets, jobs, sensors = _ingestion(domain, paths)
    ml_assets, ml_jobs, ml_sensors = _ml(domain, paths)
    defs = dg.Definitions(
        assets=[
            build_dbt_assets(domain, paths, project),
            *ingest_assets,
            *ml_assets,
            *_landing_specs(domain),
        ],  # fmt: skip
        jobs=[*jobs, *ml_jobs],
        sensors=[*sensors, *ml_sensors],
        executor=dg.in_process_executor,
    )
    return with_governance_checks(defs, domain, paths)  # findings of each product, in the UI
