"""The dbt asset factory: one step builds the domain with dbt, then publishes its output ports."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtProject, dbt_assets

from mesh_platform import ports
from mesh_platform.access.masking import columns_to_mask, masked_writer
from mesh_platform.catalog.column_lineage import lineage_metadata
from mesh_platform.catalog.freshness import freshness_sla, judge
from mesh_platform.catalog.freshness_check import verdict_metadata
from mesh_platform.contracts.checks import (
    blocked_result,
    check_result,
    contract_check_spec,
    load_port_contract,
)
from mesh_platform.contracts.table_schema import publish_facts
from mesh_platform.contracts.validate import audit_for
from mesh_platform.dbt.cli_resource import MeshDbtCli, dbt_executable
from mesh_platform.dbt.errors import contract_mismatches
from mesh_platform.dbt.port_inputs import inputs_first, refused_input
from mesh_platform.dbt.port_views import pin_port_views
from mesh_platform.dbt.project import run_target_path
from mesh_platform.dbt.sandbox import guard_build
from mesh_platform.dbt.translator import MeshTranslator
from mesh_platform.descriptors.loader import Domain
from mesh_platform.lineage.dbt_events import dbt_model_events
from mesh_platform.lineage.emit import (
    DagsterRun,
    Publication,
    asset_events,
    emit,
    lineage_enabled,
)
from mesh_platform.lineage.naming import port_dataset
from mesh_platform.lineage.publication import publication
from mesh_platform.ports.object_store import filesystems
from mesh_platform.settings import MeshPaths
from mesh_platform.warehouse import DuckDBWarehouse, duckdb_schema

DbtEvent = Any  # Output | AssetMaterialization | AssetCheckResult | AssetObservation
TIMING_PREFIX = "mesh/timing "  # + JSON seconds per part of the step, one log entry per run


class Laps:
    """Seconds between successive marks of one step: where its time goes, for the run's log."""

    def __init__(self) -> None:
        """Start the first lap now."""
        self.last, self.seconds = time.perf_counter(), {}

    def lap(self, name: str) -> None:
        """End the lap ``name`` (added to a lap of the same name) and start the next."""
        now = time.perf_counter()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self.last, 3)
        self.last = now

    def __str__(self) -> str:
        return TIMING_PREFIX + json.dumps(self.seconds)


def _node(manifest: Mapping[str, Any], model: str) -> dict[str, Any]:
    return next((n for n in manifest["nodes"].values() if n.get("name") == model), {})


def _model_relations(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Dbt model name -> fully qualified relation, for every model dbt leaves a relation of.

    A port is published from a view as from a table (or an incremental model): the snapshot is
    the view's rows queried once, after dbt has exited, so consumers never see the view's
    laziness, and how a model is materialised stays the domain's private choice. dbt's default
    materialisation is a view, so an imported project's marts often are views. Only an
    ephemeral model has no relation (dbt inlines it as a CTE); it cannot be published.
    """
    return {
        node["name"]: node["relation_name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("relation_name")
    }


class DomainBuild:
    """Runs one domain's dbt build and publishes the port models it produced."""

    def __init__(
        self, domain: Domain, paths: MeshPaths, project: DbtProject, translator: MeshTranslator
    ):
        self.domain, self.paths, self.project, self.translator = domain, paths, project, translator
        self.warehouse = DuckDBWarehouse(
            paths.warehouse_file(domain.name), paths.home, filesystems(paths.home)
        )
        self.contracts = {
            model: contract
            for model, (_, port) in translator.ports.items()
            if (
                contract := load_port_contract(
                    paths.contracts, domain.name, port.name, port.version
                )
            )
        }

    def run(self, context: dg.AssetExecutionContext) -> Iterator[DbtEvent]:
        """Build, then publish every port whose model was built; fail the step on any error."""
        laps = Laps()  # recorded in the run's event log: benchmarks read where the step's time goes
        self.warehouse.path.parent.mkdir(parents=True, exist_ok=True)  # DuckDB won't create it
        target = run_target_path(self.project, context.run.run_id)
        profiles = guard_build(self.domain, self.project, self.paths, target)  # refuses bad reads
        # Every input port read at the snapshot current now, whatever its producer publishes next.
        pins = pin_port_views(self.domain, self.paths, self.warehouse.path, context.run.run_id)
        # dagster-dbt documents project_dir=DbtProject; its pydantic annotation only says str.
        dbt = MeshDbtCli(
            project_dir=self.project,  # pyright: ignore[reportArgumentType]
            profiles_dir=str(profiles),
            dbt_executable=dbt_executable(),
        )
        laps.lap("prepare")  # sandbox guard, input pins and their views
        invocation = dbt.cli(["build"], context=context, raise_on_error=False, target_path=target)
        # Drain dbt completely first: DuckDB lets no other process open the file while dbt writes.
        events = list(invocation.stream())
        laps.lap("dbt")  # the `dbt build` subprocess: start-up, parse, models and tests
        relations = _model_relations(invocation.manifest)
        built = [self._model_of(context, e) for e in events if isinstance(e, dg.Output)]
        materialised = [relations[m] for m in built if m in relations]
        counts = self.warehouse.row_counts(materialised) if materialised else {}
        ported = [m for m in built if m in self.translator.ports]
        lineage = lineage_metadata(target, self.warehouse.path, ported,
                                   self.translator.get_asset_key, context.log,
                                   self.paths.column_lineage_cache)  # fmt: skip
        laps.lap("metadata")  # row counts and column lineage of the built models
        failures: list[str] = []
        pubs: dict[str, Publication] = {}
        # Publish before yielding, each port after the same-domain ports it reads, so that a
        # refused input is known before the port built from it could be published.
        order = inputs_first(self.domain.name, self.translator.ports, ported)
        outcomes = {m: self._publish(context, m, relations[m], failures, pubs, invocation.manifest)
                    for m in order}  # fmt: skip
        laps.lap("publish")  # write, contract check and commit of every port
        for event in events:
            if isinstance(event, dg.Output):
                model = self._model_of(context, event)
                extra = {"dagster/row_count": counts.get(relations.get(model, ""), 0),
                         **lineage.get(model, {})}  # fmt: skip
                if model in outcomes:
                    published, check = outcomes[model]
                    if published is not None:
                        yield event.with_metadata({**event.metadata, **extra, **published})
                    if check is not None:
                        yield check  # after the materialisation it judges
                    continue  # a port that was not published is not materialised
                event = event.with_metadata({**event.metadata, **extra})
            yield event
        laps.lap("records")  # Dagster storing the materialisations and checks yielded
        versions = {port_dataset(self.paths, r.domain, r.product, r.version): pin.snapshot_id
                    for r, pin in pins.items()}  # fmt: skip
        self._emit_lineage(context, target, pubs, versions)
        laps.lap("lineage")
        context.log.info(str(laps))
        if not invocation.is_successful():
            error = invocation.get_error()
            # A port model's SQL against its contract is a person's fix: say which file and column.
            mismatches = contract_mismatches(str(error or ""), f"domains/{self.domain.name}/dbt")
            failures += mismatches or [
                f"dbt build failed: {error or 'see the logs'} (dbt logs in {target})"
            ]
        if failures:
            raise dg.Failure(description="; ".join(failures))

    def _publication(self, product, port, contract, report, manifest, model, snap) -> Publication:
        owners = self.domain.owners_of(product)
        node = _node(manifest, model)
        return publication(self.paths, self.domain.name, port, owners, product.description,
                           contract, report, node, snap)  # fmt: skip

    def _model_of(self, context: dg.AssetExecutionContext, event: dg.Output) -> str:
        return context.asset_key_for_output(event.output_name).path[-1]

    def _emit_lineage(
        self, context, target: Path, pubs: dict[str, Publication], versions: dict
    ) -> None:
        """OpenLineage events of every model built, with ports; never fails the data run."""
        if not lineage_enabled():
            return
        try:
            run = DagsterRun(self.domain.name, context.run.job_name, context.run.run_id)
            schema = duckdb_schema(self.warehouse.path)  # dbt has exited: the file is free
            dbt_events = dbt_model_events(
                self.paths, self.domain.name, self.project.project_dir, target, schema, versions
            )
            code_dir = str(self.project.project_dir / "models")
            owners = list(self.domain.spec.owners)
            emit(self.paths, asset_events(self.paths, run, dbt_events, pubs, owners, code_dir))
        except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal to data
            context.log.warning(f"lineage not emitted for {self.domain.name}: {exc!r}")

    def _publish(
        self, context: dg.AssetExecutionContext, model: str, relation: str, failures: list[str],
        pubs: dict[str, Publication], manifest: Mapping[str, Any],
    ) -> tuple[dict[str, Any] | None, dg.AssetCheckResult | None]:  # fmt: skip
        """Write-audit-publish one port: (materialisation metadata or None, contract check)."""
        product, port = self.translator.ports[model]
        if ports.retired(port):  # past its deprecation date: consumers have moved to a newer major
            context.log.warning(
                f"{self.domain.name}/{port.name} v{port.version} retired after "
                f"{port.deprecation_date}: not published"
            )
            return None, None
        ref = ports.PortRef(self.domain.name, port.name, port.version)
        contract = self.contracts.get(model)
        audit = audit_for(contract.model) if contract else None
        key = dg.AssetKey([self.domain.name, model])
        unpublished = {m for m, pub in pubs.items() if pub.snapshot_id is None}
        if refused := refused_input(self.domain.name, self.translator.ports, model, unpublished):
            source = f"{self.domain.name}/{self.translator.ports[refused][1].name}"
            reason = (f"{ref.relative_dir} not published: its input port {source} was refused "
                      "by its contract in this run")  # fmt: skip
            failures.append(reason)
            pubs[model] = self._publication(product, port, contract, None, manifest, model, None)
            return None, blocked_result(key, reason) if contract else None
        try:
            snap = ports.publish(
                self.paths.home,
                ref,
                write=masked_writer(
                    lambda folder: self.warehouse.export_parquet(relation, folder),
                    columns_to_mask(contract, product, port),
                    context.log.info,
                ),
                audit=audit,
                run_id=context.run.run_id,
                **publish_facts(contract),
            )
        except ports.AuditFailed as exc:
            failures.append(str(exc))
            report = audit.last_report if audit else None
            pubs[model] = self._publication(product, port, contract, report, manifest, model, None)
            return None, check_result(key, contract, report, published=False) if contract else None
        report = audit.last_report if audit else None
        pubs[model] = self._publication(product, port, contract, report, manifest, model, snap)
        context.log.info(
            f"published {ref.relative_dir} snapshot {snap.snapshot_id} ({snap.rows} rows)"
        )
        check = check_result(key, contract, audit.last_report, True) if contract and audit else None
        return {
            "dagster/uri": dg.MetadataValue.path(snap.path),
            "dagster/row_count": snap.rows,
            "mesh/snapshot_id": snap.snapshot_id,
            "mesh/published_at": snap.published_at,
            # the one freshness verdict at publish: the SLA element's newest value and its age
            **verdict_metadata(
                judge(
                    freshness_sla(product, contract), snap, datetime.now(UTC), home=self.paths.home
                )
            ),  # fmt: skip
        }, check


def build_dbt_assets(domain: Domain, paths: MeshPaths, project: DbtProject) -> dg.AssetsDefinition:
    """The dbt assets of a domain: every model in one step, ports published inside it.

    dagster-dbt derives the specs (and dbt tests as checks) from the manifest; the platform adds a
    blocking ``contract`` check per contracted port, evaluated between write and publish.
    """
    translator = MeshTranslator(domain, paths.contracts)
    build = DomainBuild(domain, paths, project, translator)

    def run(context):  # no hint: postponed annotations are strings to Dagster
        yield from build.run(context)

    from_dbt = dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name=f"{domain.name}_dbt_build",
        op_tags={"mesh/domain": domain.name},
    )(run)
    contract_checks = [
        contract_check_spec(dg.AssetKey([domain.name, model]), contract)
        for model, contract in build.contracts.items()
    ]
    return dg.multi_asset(
        name=f"{domain.name}_dbt_build",
        specs=list(from_dbt.specs),
        check_specs=[*from_dbt.check_specs, *contract_checks],
        can_subset=True,
        op_tags=dict(from_dbt.op.tags),
    )(run)
