"""Is lineage complete? Every asset's last run logged, every cross-domain edge in the graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mesh_platform.lineage.naming import port_dataset, table_dataset
from mesh_platform.lineage.store import LineageStore
from mesh_platform.settings import MeshPaths


@dataclass(frozen=True)
class CrossEdge:
    """A consumer asset (``finance/stg_billing__invoices``) reading a port."""

    producer: str
    consumer: str


@dataclass
class AssetGraph:
    """Asset keys (``<domain>/<name>``) per domain that should leave lineage, and their edges."""

    assets: dict[str, list[str]] = field(default_factory=dict)
    cross_edges: list[CrossEdge] = field(default_factory=list)


@dataclass(frozen=True)
class MissingRun:
    """An asset whose last Dagster run left no final (COMPLETE/FAIL) lineage event."""

    asset: str
    run_id: str
    reason: str


@dataclass(frozen=True)
class MissingEdge:
    """A cross-domain edge with no port -> staging table edge in the lineage graph."""

    producer: str
    consumer: str
    source: str
    target: str


@dataclass
class CompletenessReport:
    """The gaps found; ``ok`` when there are none."""

    missing_runs: list[MissingRun] = field(default_factory=list)
    missing_edges: list[MissingEdge] = field(default_factory=list)
    checked_assets: int = 0
    checked_edges: int = 0

    @property
    def ok(self) -> bool:
        """True when lineage is complete."""
        return not (self.missing_runs or self.missing_edges)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "ok": self.ok}


def _job(asset: str) -> str:
    return asset.replace("/", ".")


def _run_gap(store: LineageStore, asset: str, run_id: str) -> MissingRun | None:
    kinds = {row["event_type"] for row in store.query(
        "SELECT DISTINCT event_type FROM run_events WHERE job_name = ? AND parent_run_id = ?",
        [_job(asset), run_id])}  # fmt: skip
    if kinds & {"COMPLETE", "FAIL"}:
        return None
    why = "a START but no COMPLETE/FAIL event" if kinds else "no lineage event"
    return MissingRun(asset, run_id, f"{why} for Dagster run {run_id}")


def _edge_seen(store: LineageStore, source: str, target: str, consumer: str) -> bool:
    """A dbt consumer shows the edge port -> its staging table; a model's job reads the port."""
    if store.query(
        "SELECT 1 FROM dataset_edges WHERE src = ? AND dst = ? LIMIT 1", [source, target]
    ):
        return True
    read = store.query(
        "SELECT 1 FROM dataset_io i JOIN run_events r USING (run_id) "
        "WHERE i.ds = ? AND i.direction = 'input' AND r.job_name = ? LIMIT 1",
        [source, _job(consumer)],
    )
    return bool(read)


def check(
    paths: MeshPaths, store: LineageStore, asset_graph: AssetGraph,
    last_runs: Mapping[str, str], port_versions: Mapping[str, int] | None = None,
) -> CompletenessReport:  # fmt: skip
    """Find assets whose last run left no lineage, and cross-domain edges lineage does not show.

    Args:
        paths: the mesh (dataset names depend on MESH_HOME).
        store: a synced lineage store.
        asset_graph: the assets and cross-domain edges expected.
        last_runs: asset key -> id of the Dagster run of its latest materialization. Assets
            never materialized are not checked, nor edges into a consumer that never ran.
        port_versions: ``<domain>/<product>`` -> port major version (default 1).

    Returns:
        The gaps.
    """
    report = CompletenessReport()
    for keys in asset_graph.assets.values():
        for asset in keys:
            if asset in last_runs:
                report.checked_assets += 1
                gap = _run_gap(store, asset, last_runs[asset])
                report.missing_runs += [gap] if gap else []
    for edge in asset_graph.cross_edges:
        if edge.consumer not in last_runs:
            continue
        report.checked_edges += 1
        domain, product = edge.producer.split("/", 1)
        version = (port_versions or {}).get(edge.producer, 1)
        source = str(port_dataset(paths, domain, product, version))
        consumer, name = edge.consumer.split("/", 1)
        target = str(table_dataset(paths, consumer, "main", name))
        if not _edge_seen(store, source, target, edge.consumer):
            report.missing_edges.append(MissingEdge(edge.producer, edge.consumer, source, target))
    return report


def last_run_ids(paths: MeshPaths, asset_graph: AssetGraph) -> dict[str, str]:
    """Asset key -> Dagster run id of its latest materialization, from the instance in MESH_HOME."""
    if not paths.dagster_home.exists():
        return {}
    import dagster as dg

    found: dict[str, str] = {}
    with dg.DagsterInstance.get() as instance:
        for keys in asset_graph.assets.values():
            for asset in keys:
                event = instance.get_latest_materialization_event(dg.AssetKey(asset.split("/")))
                if event is not None:
                    found[asset] = event.run_id
    return found
