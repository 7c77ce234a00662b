"""Dagster's freshness of a port: a ``freshness`` asset check computed by the one verdict.

Why a check and not Dagster's own freshness machinery (Dagster 1.13):
``FreshnessPolicy.time_window`` judges materialisation times only, so for an SLA with an
``element`` it disagrees with the data. ``build_last_update_freshness_checks`` does honour a
``dagster/last_updated_timestamp`` on materialisations and observations, but it would be a second
implementation of the rule (its own window arithmetic, no DATE midnight, no never-published), and
the ports the ML assets publish would not carry that timestamp. So every port gets this check,
computed by ``catalog.freshness`` like the catalog and ``mesh govern``: one verdict everywhere.
A sensor in the platform's code location evaluates it every few minutes; it reports a port when
its status or snapshot changed, and the check can be run by hand from the UI.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from mesh_platform import ports
from mesh_platform.catalog.freshness import Verdict, port_verdict
from mesh_platform.contracts.checks import load_port_contract
from mesh_platform.contracts.odcs import Contract
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.settings import MeshPaths

CHECK_NAME = "freshness"
# How often the sensor re-judges (s); tests set it lower so the UI shows a verdict sooner.
SENSOR_INTERVAL_ENV, SENSOR_INTERVAL_SECONDS = "MESH_FRESHNESS_SENSOR_SECONDS", 300


@dataclass(frozen=True)
class PortTarget:
    """One published-or-not port the check judges, and the asset that is it."""

    key: dg.AssetKey
    ref: ports.PortRef
    product: ProductSpec
    contract: Contract | None


def port_targets(paths: MeshPaths) -> list[PortTarget]:
    """Every port of the mesh that is still published (not retired), by asset key.

    A dbt port's asset is its model's, an ML port's is named after the port.
    """
    domains, _ = load_mesh(paths.domains)  # errors are `mesh validate`'s to report
    found = []
    for domain in domains.values():
        for product in domain.products.values():
            for port in product.output_ports:
                if ports.retired(port):
                    continue
                try:
                    contract = load_port_contract(
                        paths.contracts, domain.name, port.name, port.version
                    )
                except SpecErrors:
                    continue
                key = dg.AssetKey([domain.name, port.model or port.name])
                ref = ports.PortRef(domain.name, port.name, port.version)
                found.append(PortTarget(key, ref, product, contract))
    return found


def verdict_metadata(verdict: Verdict) -> dict[str, dg.RawMetadataValue]:
    """The verdict as check (or materialisation) metadata."""
    meta: dict[str, dg.RawMetadataValue] = {
        "mesh/freshness": verdict.status,
        "mesh/freshness_basis": verdict.basis,
        "mesh/freshness_hours": verdict.promised_hours,
    }
    if verdict.newest is not None:
        meta["mesh/freshness_newest"] = verdict.newest
    if verdict.age_hours is not None:
        meta["mesh/freshness_age_hours"] = verdict.age_hours
    return meta


def evaluate(target: PortTarget, paths: MeshPaths, now: datetime) -> dg.AssetCheckEvaluation:
    """The check's result for one port now: passed only while fresh (a warning otherwise)."""
    verdict = port_verdict(paths.home, target.ref, target.product, target.contract, now)
    return dg.AssetCheckEvaluation(
        asset_key=target.key, check_name=CHECK_NAME, passed=verdict.fresh,
        metadata=verdict_metadata(verdict), severity=dg.AssetCheckSeverity.WARN,
        description=verdict.describe(),
    )  # fmt: skip


def freshness_checks(paths: MeshPaths) -> dg.AssetChecksDefinition | None:
    """One ``freshness`` check per port, run together; None for a mesh without ports."""
    targets = port_targets(paths)
    if not targets:
        return None
    specs = [dg.AssetCheckSpec(CHECK_NAME, asset=t.key, description="ODCS freshness SLA kept")
             for t in targets]  # fmt: skip

    @dg.multi_asset_check(specs=specs, name="port_freshness", can_subset=True)
    def check(context):  # no hint: postponed annotations are strings to Dagster
        now = datetime.now(UTC)
        for target in targets:
            if any(k.asset_key == target.key for k in context.selected_asset_check_keys):
                ev = evaluate(target, paths, now)
                yield dg.AssetCheckResult(
                    asset_key=ev.asset_key, check_name=CHECK_NAME, passed=ev.passed,
                    metadata=dict(ev.metadata), severity=ev.severity, description=ev.description,
                )  # fmt: skip

    return check


def freshness_sensor(paths: MeshPaths) -> dg.SensorDefinition:
    """Re-judges every published port each tick; reports those whose status or snapshot moved."""
    interval = int(os.environ.get(SENSOR_INTERVAL_ENV) or SENSOR_INTERVAL_SECONDS)

    @dg.sensor(name="port_freshness", minimum_interval_seconds=interval,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Judges each port by catalog.freshness.")  # fmt: skip
    def sensor(context):  # no hint, as for the check
        events, cursor = sensor_tick(paths, json.loads(context.cursor or "{}"))
        return dg.SensorResult(asset_events=events, cursor=json.dumps(cursor))

    return sensor


def sensor_tick(
    paths: MeshPaths, seen: dict[str, str], now: datetime | None = None
) -> tuple[list[dg.AssetCheckEvaluation], dict[str, str]]:
    """Evaluations of the published ports whose (status, snapshot) differs from ``seen``.

    Args:
        paths: the mesh.
        seen: the last reported ``status@snapshot`` per asset key (the sensor's cursor).
        now: the moment judged at (default: now, UTC).

    Returns:
        The evaluations to report and the new cursor.
    """
    now = now or datetime.now(UTC)
    events, cursor = [], dict(seen)
    for target in port_targets(paths):
        snap = ports.current_snapshot(paths.home, target.ref)
        if snap is None:
            continue
        ev = evaluate(target, paths, now)
        state = f"{'fresh' if ev.passed else 'stale'}@{snap.snapshot_id}"
        name = target.key.to_user_string()
        if cursor.get(name) != state:
            events.append(ev)
            cursor[name] = state
    return events, cursor
