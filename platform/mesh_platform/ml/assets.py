"""Dagster assets of ML products: train (tune, evaluate, register, gate) and score (publish)."""

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from mesh_platform import ports
from mesh_platform.access.masking import columns_to_mask, masked_writer
from mesh_platform.catalog.metadata import port_attributes
from mesh_platform.contracts.checks import check_result, contract_check_spec, load_port_contract
from mesh_platform.contracts.table_schema import publish_facts
from mesh_platform.contracts.validate import audit_for
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.lineage.emit import DagsterRun, emit, lineage_enabled, now
from mesh_platform.lineage.ml_events import scoring_events, training_events
from mesh_platform.lineage.naming import table_dataset
from mesh_platform.ml import registry
from mesh_platform.ml.dataset import load_training
from mesh_platform.ml.feature_lineage import feature_columns
from mesh_platform.ml.inputs import ModelInputError
from mesh_platform.ml.metadata import DRIFT_CHECK, drift_result, port_columns, train_metadata
from mesh_platform.ml.sources import check_access, pinned_snapshots
from mesh_platform.ports.object_store import filesystems
from mesh_platform.settings import MeshPaths
from mesh_platform.warehouse import DuckDBWarehouse

if TYPE_CHECKING:
    from mesh_platform.ml.scoring import Scored

# LightGBM fits slow each other down ~100x on 2 cores (DESIGN.md): one at a time, mesh-wide.
LIGHTGBM_POOL = "lightgbm"


def _emit(context: dg.AssetExecutionContext, paths: MeshPaths, build) -> None:
    """Emit lineage built by ``build(run)``; never fails the data run."""
    if not lineage_enabled():
        return
    try:
        run = DagsterRun(context.asset_key.path[0], context.run.job_name, context.run.run_id)
        emit(paths, build(run))
    except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal to data
        context.log.warning(f"lineage not emitted: {exc!r}")


def _table_key(domain: Domain, table: str) -> dg.AssetKey:
    """The asset of a dbt model of the domain (the dbt translator's key)."""
    return dg.AssetKey([domain.name, table])


def _descriptor(domain: Domain, product: ProductSpec) -> Path:
    return domain.path / "products" / f"{product.name}.yaml"


def _warehouse(paths: MeshPaths, domain: Domain) -> DuckDBWarehouse:
    return DuckDBWarehouse(paths.warehouse_file(domain.name), paths.home, filesystems(paths.home))


def _dbt_sql(domain: Domain, table: str) -> dict[str, Path]:
    """The dbt SQL of a table, to link from the predictions port."""
    found = sorted((domain.dbt_dir / "models").rglob(f"{table}.sql"))
    return {f"dbt model {table}": found[0]} if found else {}


def build_train_asset(domain: Domain, paths: MeshPaths, product: ProductSpec):
    """The training asset of an ML product: a new registry version, promoted only via gates."""
    spec = product.model
    assert spec is not None
    key = dg.AssetKey([domain.name, product.name])
    file = _descriptor(domain, product)

    @dg.asset(
        key=key,
        deps=[_table_key(domain, spec.training_table)],
        group_name=domain.name,
        kinds={"lightgbm", "optuna"},
        owners=domain.owners_of(product),
        description=product.description,
        pool=LIGHTGBM_POOL,
        tags={"mesh/domain": domain.name, "mesh/cpu": "heavy", "mesh/tier": product.tier},
    )
    def _train(context: dg.AssetExecutionContext):
        # Imported by the step, not with the definitions: LightGBM, Optuna, scikit-learn and
        # matplotlib cost every code server of a domain with models ~1 s and ~100 MiB for nothing.
        from mesh_platform.ml.training import train_and_register

        started = now()
        check_access(domain, product)
        snapshots = pinned_snapshots(paths, product, context.run.run_id)
        try:
            data = load_training(_warehouse(paths, domain), spec, file)
        except ModelInputError as exc:  # nothing registered: the champion keeps serving
            raise dg.Failure(str(exc)) from exc
        result = train_and_register(
            data, spec, product.name, paths.registry, snapshots, context.run.run_id
        )
        context.log.info(f"{product.name} v{result.version.version}: {result.decision.reasons}")
        schema = data.relation.split(".")[0].strip('"')
        table = table_dataset(paths, domain.name, schema, spec.training_table)
        events = partial(
            training_events,
            paths,
            name=product.name,
            version=result.version.version,
            features=data.feature_types,
            table=table,
            snapshots=snapshots,
            owners=domain.owners_of(product),
            started=started,
            feature_columns=feature_columns(table, data.features),
            mlflow_run_id=result.version.run_id,
        )
        _emit(context, paths, lambda run: events(run=run))
        return dg.MaterializeResult(metadata=train_metadata(result))

    return _train


def _score_asset_spec(domain: Domain, paths: MeshPaths, product: ProductSpec):
    """Key, contract and the asset's decoration (deps, checks, port attributes)."""
    spec, port = product.model, product.output_ports[0]
    assert spec is not None
    key = dg.AssetKey([domain.name, port.name])
    contract = load_port_contract(paths.contracts, domain.name, port.name, port.version)
    checks = [contract_check_spec(key, contract)] if contract else []
    about = "PSI and KS of serving features against the champion's evaluation-window reference"
    checks.append(dg.AssetCheckSpec(DRIFT_CHECK, asset=key, description=about))
    scored_table = spec.scoring_table or spec.training_table
    attrs = port_attributes(
        domain, product, port, contract, code_files=_dbt_sql(domain, scored_table)
    )
    decoration = {
        "key": key,
        "deps": [dg.AssetKey([domain.name, product.name]), _table_key(domain, scored_table)],
        "group_name": domain.name,
        "kinds": {"lightgbm", *attrs.kinds},
        "owners": domain.owners_of(product),
        "description": f"Predictions of the {product.name} champion (output port).",
        "check_specs": checks,
        "pool": LIGHTGBM_POOL,
        "metadata": attrs.metadata,
        "freshness_policy": attrs.freshness_policy,
        "tags": {"mesh/domain": domain.name, **attrs.tags},
    }
    return key, contract, decoration


def _publish(
    context,
    paths: MeshPaths,
    domain: Domain,
    product: ProductSpec,
    contract,
    audit,
    scored: "Scored",
) -> ports.Snapshot:
    """Publish the predictions as the port's next snapshot: write, mask PII, audit, publish."""
    from mesh_platform.ml.scoring import write_parquet  # in the step only (see _score)

    port = product.output_ports[0]
    ref = ports.PortRef(domain.name, port.name, port.version)
    mask = columns_to_mask(contract, product, port)
    write = masked_writer(lambda f: write_parquet(scored.predictions, f), mask, context.log.info)
    return ports.publish(
        paths.home, ref, write, audit, context.run.run_id, **publish_facts(contract)
    )


def build_score_asset(domain: Domain, paths: MeshPaths, product: ProductSpec):
    """The predictions port of an ML product, scored by the champion, published via WAP."""
    spec, port = product.model, product.output_ports[0]
    assert spec is not None
    key, contract, decoration = _score_asset_spec(domain, paths, product)
    file = _descriptor(domain, product)
    table = table_dataset(paths, domain.name, "main", spec.scoring_table or spec.training_table)

    @dg.asset(**decoration)
    def _score(context: dg.AssetExecutionContext):
        # Imported by the step, not with the definitions: the drift statistics import SciPy.
        from mesh_platform.ml.scoring import check_drift, score

        started = now()
        champ = registry.champion(paths.registry, product.name)
        if champ is None:
            raise dg.Failure(f"{product.name} has no champion yet: no version passed its gates")
        try:
            scored = score(_warehouse(paths, domain), spec, file, product.name, champ)
        except ModelInputError as exc:
            raise dg.Failure(str(exc)) from exc
        audit = audit_for(contract.model) if contract else None
        try:
            snap = _publish(context, paths, domain, product, contract, audit, scored)
        except ports.AuditFailed as exc:
            if contract and audit:
                yield check_result(key, contract, audit.last_report, published=False)
            raise dg.Failure(str(exc)) from exc
        events = partial(
            scoring_events,
            paths,
            name=product.name,
            version=champ.version,
            port=f"{domain.name}/{port.name}",
            snapshot=snap.snapshot_id,
            columns=port_columns(spec),
            table=table,
            owners=domain.owners_of(product),
            started=started,
            mlflow_run_id=champ.run_id,
        )
        _emit(context, paths, lambda run: events(run=run))
        results = [drift_result(key, check_drift(champ, scored.features, spec), champ.version)]
        if contract and audit:
            results.insert(0, check_result(key, contract, audit.last_report, True))
        metadata = {
            "dagster/uri": dg.MetadataValue.path(snap.path),
            "dagster/row_count": snap.rows,
            "mesh/snapshot_id": snap.snapshot_id,
            "model_version": champ.version,
            "as_of_date": str(scored.as_of),
        }
        yield dg.MaterializeResult(check_results=results, metadata=metadata)

    return _score
