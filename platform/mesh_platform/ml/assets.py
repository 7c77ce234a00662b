"""Dagster assets of ML products: train (tune, evaluate, register, gate) and score (publish)."""

from pathlib import Path

import dagster as dg
import duckdb

from mesh_platform.access.masking import columns_to_mask, masked_writer
from mesh_platform.catalog.metadata import port_attributes
from mesh_platform.contracts.checks import check_result, contract_check_spec, load_port_contract
from mesh_platform.contracts.validate import audit_for
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.lineage.emit import DagsterRun, emit, lineage_enabled, now
from mesh_platform.lineage.ml_events import scoring_events, training_events
from mesh_platform.ml import feature_sql, registry
from mesh_platform.ml.feature_lineage import feature_columns
from mesh_platform.ml.scoring import check_drift, score, write_parquet
from mesh_platform.ml.sources import pinned_sources
from mesh_platform.ml.training import train_and_register
from mesh_platform.ports import snapshots as ports
from mesh_platform.settings import MeshPaths

# LightGBM fits slow each other down ~100x on 2 cores (DESIGN.md): one at a time, mesh-wide.
LIGHTGBM_POOL = "lightgbm"
DRIFT_CHECK = "feature_drift"


def _emit(context: dg.AssetExecutionContext, paths: MeshPaths, build) -> None:
    """Emit lineage built by ``build(run)``; never fails the data run."""
    if not lineage_enabled():
        return
    try:
        run = DagsterRun(context.asset_key.path[0], context.run.job_name, context.run.run_id)
        emit(paths, build(run))
    except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal to data
        context.log.warning(f"lineage not emitted: {exc!r}")


def _input_keys(product: ProductSpec) -> list[dg.AssetKey]:
    return [dg.AssetKey(p.product.split("/")) for p in product.input_ports if p.product]


def _train_metadata(result) -> dict:
    table = "\n".join(f"| {f} | {g:.1f} |" for f, g in
                      sorted(result.importance.items(), key=lambda kv: -kv[1]))  # fmt: skip
    meta = {f"metric/{k}": float(v) for k, v in result.metrics.items()}
    meta |= {f"baseline/{k}": float(v) for k, v in result.baseline.items()}
    meta |= {
        "model_version": result.version.version, "promoted": result.decision.promoted,
        "decision": "; ".join(result.decision.reasons) or "promoted",
        "params": dg.MetadataValue.json(result.params),
        "data_snapshots": dg.MetadataValue.json(result.version.meta.get("data_snapshots", {})),
        "evaluation_window": str(result.split.evaluate), "rows": dg.MetadataValue.json(result.rows),
        "feature_importance": dg.MetadataValue.md("| feature | gain |\n|---|---|\n" + table),
    }  # fmt: skip
    meta |= {f"plot/{p.stem}": dg.MetadataValue.path(str(p)) for p in result.plots}
    return meta


def build_train_asset(domain: Domain, paths: MeshPaths, product: ProductSpec):
    """The training asset of an ML product: a new registry version, promoted only via gates."""
    spec = product.model
    assert spec is not None
    key = dg.AssetKey([domain.name, product.name])

    @dg.asset(
        key=key, deps=_input_keys(product), group_name=domain.name, kinds={"lightgbm", "optuna"},
        owners=domain.owners_of(product), description=product.description, pool=LIGHTGBM_POOL,
        tags={"mesh/domain": domain.name, "mesh/cpu": "heavy", "mesh/tier": product.tier},
    )  # fmt: skip
    def _train(context: dg.AssetExecutionContext):
        started = now()
        sources, snapshots = pinned_sources(paths, domain)
        result = train_and_register(sources, snapshots, spec, product.name, paths.registry,
                                    context.run.run_id)  # fmt: skip
        context.log.info(f"{product.name} v{result.version.version}: {result.decision.reasons}")
        features = result.version.meta.get("features", {})
        owners = domain.owners_of(product)
        columns = feature_columns(spec.kind, paths.contracts)
        _emit(context, paths, lambda run: training_events(
            paths, run, product.name, result.version.version, features, snapshots, owners,
            started, columns, mlflow_run_id=result.version.run_id))  # fmt: skip
        return dg.MaterializeResult(metadata=_train_metadata(result))

    return _train


def _drift_result(key: dg.AssetKey, report) -> dg.AssetCheckResult:
    """Drift of serving features from the champion's training data, features named."""
    if report is None:
        note = {"note": "champion has no reference profile"}
        return dg.AssetCheckResult(
            asset_key=key, check_name=DRIFT_CHECK, passed=True, metadata=note
        )
    rows = [f"| {f.feature} | {f.psi:.3f} | {f.p_value:.4f} | {'yes' if f.drifted else ''} |"
            for f in report.features.values()]  # fmt: skip
    table = "| feature | PSI | KS p-value | drifted |\n|---|---|---|---|\n" + "\n".join(rows)
    return dg.AssetCheckResult(
        asset_key=key, check_name=DRIFT_CHECK, passed=not report.drifted_features,
        severity=dg.AssetCheckSeverity.WARN,
        description="drifting: " + ", ".join(report.drifted_features) if report.drifted_features
        else "no feature drifted",
        metadata={"drifted_features": dg.MetadataValue.json(report.drifted_features),
                  "features": dg.MetadataValue.md(table), "rows": report.rows},
    )  # fmt: skip


def build_score_asset(domain: Domain, paths: MeshPaths, product: ProductSpec):
    """The predictions port of an ML product, scored by the champion, published via WAP."""
    spec, port = product.model, product.output_ports[0]
    assert spec is not None
    key = dg.AssetKey([domain.name, port.name])
    contract = load_port_contract(paths.contracts, domain.name, port.name, port.version)
    checks = [contract_check_spec(key, contract)] if contract else []
    about = "PSI and KS of serving features against the champion's training reference"
    checks.append(dg.AssetCheckSpec(DRIFT_CHECK, asset=key, description=about))
    code = {"feature SQL": Path(feature_sql.__file__)}
    attrs = port_attributes(domain, product, port, contract, code_files=code)

    @dg.asset(
        key=key, deps=[dg.AssetKey([domain.name, product.name]), *_input_keys(product)],
        group_name=domain.name, kinds={"lightgbm", *attrs.kinds}, owners=domain.owners_of(product),
        description=f"Predictions of the {product.name} champion (public output port).",
        check_specs=checks, pool=LIGHTGBM_POOL, metadata=attrs.metadata,
        freshness_policy=attrs.freshness_policy, tags={"mesh/domain": domain.name, **attrs.tags},
    )  # fmt: skip
    def _score(context: dg.AssetExecutionContext):
        started = now()
        champ = registry.champion(paths.registry, product.name)
        if champ is None:
            raise dg.Failure(f"{product.name} has no champion yet: no version passed its gates")
        sources, _ = pinned_sources(paths, domain)
        with duckdb.connect() as con:
            scored = score(con, sources, spec, product.name, champ)
        audit = audit_for(contract.model) if contract else None
        ref = ports.PortRef(domain.name, port.name, port.version)
        try:
            snap = ports.publish(
                paths.lake, ref, audit=audit, run_id=context.run.run_id,
                write=masked_writer(lambda folder: write_parquet(scored.predictions, folder),
                                    columns_to_mask(contract, product, port), context.log.info),
            )  # fmt: skip
        except ports.AuditFailed as exc:
            if contract and audit:
                yield check_result(key, contract, audit.last_report, published=False)
            raise dg.Failure(str(exc)) from exc
        inputs = [p.product for p in product.input_ports if p.product]
        columns = list(scored.predictions.columns)
        _emit(context, paths, lambda run: scoring_events(
            paths, run, product.name, champ.version, f"{domain.name}/{port.name}",
            snap.snapshot_id, columns, inputs, domain.owners_of(product), started,
            mlflow_run_id=champ.run_id))  # fmt: skip
        results = [_drift_result(key, check_drift(champ, scored.features, spec))]
        if contract and audit:
            results.insert(0, check_result(key, contract, audit.last_report, True))
        yield dg.MaterializeResult(check_results=results, metadata={
            "dagster/uri": dg.MetadataValue.path(snap.path), "dagster/row_count": snap.rows,
            "mesh/snapshot_id": snap.snapshot_id, "model_version": champ.version,
            "as_of_date": str(scored.as_of)})  # fmt: skip

    return _score
