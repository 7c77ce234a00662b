"""build_domain_definitions(domain_dir): a code location built from its descriptors."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from mesh_platform.dbt.assets import build_dbt_assets
from mesh_platform.dbt.project import domain_dbt_project
from mesh_platform.descriptors.loader import Domain, load_domain, load_mesh
from mesh_platform.events.config import bus_config
from mesh_platform.governance.checks import with_governance_checks
from mesh_platform.ingest.assets import build_ingest_asset, landing_key, landing_ports
from mesh_platform.ingest.bus import bus_feeds
from mesh_platform.ingest.sensors import build_landing_sensor
from mesh_platform.orchestration.automation import DOMAIN_TAG, on_port_publish, retrain_schedule
from mesh_platform.orchestration.profile import domain_executor
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


def _ingestion(domain: Domain, paths: MeshPaths, training: dg.AssetSelection) -> tuple:
    """Ingestion assets, their job and the landing sensor of a source-aligned domain.

    The job rebuilds everything downstream of the landed files but the models' training, which
    runs on its own schedule: new data are scored by the champion.
    """
    ports = landing_ports(domain)
    if not ports:
        return [], [], []
    assets = {
        entity: build_ingest_asset(domain, paths, entity, port) for entity, port in ports.items()
    }
    job = dg.define_asset_job(
        f"{domain.name}_ingest",
        selection=dg.AssetSelection.assets(*assets.values()).downstream() - training,
        tags={DOMAIN_TAG: domain.name},  # one run per domain at a time (dagster.yaml)
        description="Ingest landed files and rebuild everything downstream in the domain.",
    )
    op_names = {entity: asset.op.name for entity, asset in assets.items()}
    # The whole mesh is read only with a bus: which serving blocks' events this domain lands.
    feeds = bus_feeds(domain, load_mesh(paths.domains)[0]) if bus_config() else []
    sensor = build_landing_sensor(domain, paths, job, op_names, feeds)
    return list(assets.values()), [job], [sensor]


def _ml(domain: Domain, paths: MeshPaths) -> tuple[list, list, list, list]:
    """Training and scoring assets of the domain's ML products, their jobs, sensor and schedules."""
    products = [p for p in domain.products.values() if p.model is not None]
    # MESH_ML=off leaves models out (a laptop without time for training; the SQL benchmark).
    if not products or os.environ.get("MESH_ML", "on").lower() in ("off", "0", "false"):
        return [], [], [], []
    # Imported only here: LightGBM, optuna, scikit-learn and matplotlib cost every code location
    # without models seconds of start-up for nothing.
    from mesh_platform.ml.assets import build_score_asset, build_train_asset
    from mesh_platform.ml.sensors import build_drift_sensor

    assets, scored, schedules = [], {}, []
    for product in products:
        train, score = (
            build_train_asset(domain, paths, product),
            build_score_asset(domain, paths, product),
        )
        assets += [train, score]
        scored[product.name] = score.key
        cron = product.model.retrain_schedule if product.model else None
        if cron:
            schedules.append(retrain_schedule(domain.name, product.name, cron, [train, score]))
    job = dg.define_asset_job(
        f"{domain.name}_retrain",
        selection=dg.AssetSelection.assets(*assets),
        tags={DOMAIN_TAG: domain.name},
        description="Train, gate and score the domain's models.",
    )
    return assets, [job], [build_drift_sensor(domain.name, scored, job)], schedules


def _training_keys(domain: Domain) -> dg.AssetSelection:
    """The domain's training assets ([domain, model product]): left out of data-driven runs."""
    keys = [dg.AssetKey([domain.name, p.name]) for p in domain.products.values() if p.model]
    return dg.AssetSelection.assets(*keys)


def build_domain_definitions(domain_path: str | Path) -> dg.Definitions:
    """Build a domain's Dagster Definitions from its folder.

    Args:
        domain_path: the domain folder, or any file in it.

    Returns:
        Definitions with the domain's dbt assets (ports published inside their step) and its
        landing sources, run in-process so a run pays Python's start-up once (on the
        distributed profile, each step on a Celery worker).

    """
    path = Path(domain_path).resolve()
    domain = load_domain(path if path.is_dir() else path.parent)
    paths = mesh_paths()
    project = domain_dbt_project(domain, paths)
    training = _training_keys(domain)
    dbt = build_dbt_assets(domain, paths, project)
    ingest_assets, jobs, sensors = _ingestion(domain, paths, training)
    ml_assets, ml_jobs, ml_sensors, schedules = _ml(domain, paths)
    rebuild_jobs, rebuild_sensors = on_port_publish(domain.name, dbt, training)
    defs = dg.Definitions(
        assets=[dbt, *ingest_assets, *ml_assets, *_landing_specs(domain)],
        jobs=[*jobs, *ml_jobs, *rebuild_jobs],
        sensors=[*sensors, *ml_sensors, *rebuild_sensors],
        schedules=schedules,
        executor=domain_executor(),  # in-process; Celery workers on the distributed profile
    )
    return with_governance_checks(defs, domain, paths)  # findings of each product, in the UI
