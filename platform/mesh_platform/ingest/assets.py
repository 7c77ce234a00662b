"""Dagster ingestion assets: one per landing input port, loading new files into raw.<entity>."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import InputPort
from mesh_platform.ingest.loader import FileResult, ensure_tables, ingest_file
from mesh_platform.ingest.shape import load_source_shape
from mesh_platform.lineage.emit import DagsterRun, emit, lineage_enabled, now
from mesh_platform.lineage.ingest_events import ingestion_events
from mesh_platform.lineage.naming import ingest_asset_name
from mesh_platform.settings import MeshPaths
from mesh_platform.warehouse import writer_pool


class IngestConfig(dg.Config):
    """Files to ingest, relative to the landing zone; None = every file of the port."""

    files: list[str] | None = None


def landing_ports(domain: Domain) -> dict[str, InputPort]:
    """Entity name -> landing input port, over all products of a domain."""
    return {
        port.name: port
        for product in domain.products.values()
        for port in product.input_ports
        if port.kind == "landing"
    }


def landed_files(paths: MeshPaths, port: InputPort) -> list[Path]:
    """The files currently in the landing zone for a port, in name order."""
    return sorted(p for p in paths.landing.glob(port.location or "") if p.is_file())


def fingerprint(path: Path) -> list[int]:
    """Cheap identity of a delivery for the sensor: size and modification time."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def ingested_manifest(paths: MeshPaths, domain: str, entity: str) -> Path:
    """Fingerprints of the files ingestion has seen, read by the landing sensor."""
    return paths.home / "ingest" / domain / f"{entity}.json"


def _move_aside(paths: MeshPaths, path: Path, reason: str) -> Path:
    """Keep a file that cannot be read, with the reason, out of the landing glob."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = path.parent / "_rejected" / f"{stamp}-{path.name}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, dest)
    dest.with_name(dest.name + ".reason.txt").write_text(reason + "\n")
    return dest


def _record_seen(paths: MeshPaths, domain: str, entity: str, seen: dict[str, list[int]]) -> None:
    manifest = ingested_manifest(paths, domain, entity)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(manifest.read_text()) if manifest.exists() else {}
    manifest.write_text(json.dumps({**known, **seen}, indent=1, sort_keys=True))


def _table(results: list[FileResult]) -> str:
    lines = [
        "| file | status | received | accepted | quarantined | reason |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = (r.file, r.status, r.received, r.accepted, r.quarantined, r.reason)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def landing_key(domain: str, entity: str) -> dg.AssetKey:
    """Asset key of the landed files of an entity (an external asset)."""
    return dg.AssetKey([domain, f"landing_{entity}"])


def raw_key(domain: str, entity: str) -> dg.AssetKey:
    """Asset key of the ingested, contract-checked table raw.<entity>."""
    return dg.AssetKey([domain, ingest_asset_name(entity)])


def _ingest_files(paths: MeshPaths, domain: str, shape, files: list[Path], log) -> list[FileResult]:
    paths.warehouse.mkdir(parents=True, exist_ok=True)
    results, seen = [], {}
    with duckdb.connect(str(paths.warehouse_file(domain))) as con:
        ensure_tables(con, shape)  # even with no files: dbt's sources must exist
        for path in files:
            rel = path.relative_to(paths.landing).as_posix()
            seen[rel] = fingerprint(path)
            result = ingest_file(con, shape, path, rel)
            if result.status == "rejected":
                kept = _move_aside(paths, path, result.reason)
                log.warning(f"{rel} cannot be read and was moved to {kept}: {result.reason}")
            results.append(result)
    _record_seen(paths, domain, shape.entity, seen)
    return results


def _table_counts(paths: MeshPaths, domain: str, entity: str) -> tuple[int, int]:
    with duckdb.connect(str(paths.warehouse_file(domain))) as con:
        row = con.execute(f"SELECT (SELECT count(*) FROM raw.{entity}), "
                          f"(SELECT count(*) FROM quarantine.{entity})").fetchone()  # fmt: skip
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _result(results: list[FileResult], total: int, quarantined_total: int) -> dg.MaterializeResult:
    """Materialisation metadata and check results of one ingestion: counts must add up."""
    received = sum(r.received for r in results)
    accepted = sum(r.accepted for r in results)
    quarantined = sum(r.quarantined for r in results)
    rejected = [r for r in results if r.status == "rejected"]
    counts = {"received": received, "accepted": accepted, "quarantined": quarantined}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            **{f"mesh/{k}": v for k, v in counts.items()},
            "mesh/quarantine_total": quarantined_total,
            "mesh/rejected_files": len(rejected),
            "mesh/files": dg.MetadataValue.md(_table(results) if results else "no new files"),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="counts_add_up",
                passed=received == accepted + quarantined,
                metadata=counts,
            ),
            dg.AssetCheckResult(
                check_name="files_readable",
                passed=not rejected,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"rejected": dg.MetadataValue.md(_table(rejected))},
            ),
        ],
    )


def _emit_lineage(context, paths, domain, entity, port, shape, results, started) -> None:
    """The ingestion's OpenLineage events; a lineage problem never fails the ingestion."""
    if not lineage_enabled():
        return
    try:
        run = DagsterRun(domain.name, context.run.job_name, context.run.run_id)
        accepted = sum(r.accepted for r in results)
        quarantined = sum(r.quarantined for r in results)
        owners = list(domain.spec.owners)
        location = port.location or ""
        events = ingestion_events(
            paths, run, entity, location, shape.columns, owners, accepted, quarantined, started
        )
        emit(paths, events)
    except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal to data
        context.log.warning(f"lineage not emitted for {domain.name}/{entity}: {exc!r}")


def build_ingest_asset(domain: Domain, paths: MeshPaths, entity: str, port: InputPort):
    """The ingestion asset of one landing input port, checked against its source contract."""
    shape = load_source_shape(paths.contracts, domain.name, entity)
    key = raw_key(domain.name, entity)
    checks = [
        dg.AssetCheckSpec("counts_add_up", asset=key,
                          description="accepted + quarantined = received, for every file"),
        dg.AssetCheckSpec("files_readable", asset=key,
                          description="every landed file could be read (else moved aside)"),
    ]  # fmt: skip

    @dg.asset(
        key=key, deps=[landing_key(domain.name, entity)], group_name=domain.name,
        owners=list(domain.spec.owners), kinds={"duckdb"}, check_specs=checks,
        pool=writer_pool(domain.name),  # one writer of the warehouse, on any executor
        tags={"mesh/domain": domain.name, "mesh/layer": "raw"},
        description=f"Landed {entity} rows accepted by the source contract "
        f"urn:datacontract:{domain.name}:source:{entity}; bad rows go to quarantine.{entity}.",
    )  # fmt: skip
    def _ingest(context: dg.AssetExecutionContext, config: IngestConfig):
        started = now()
        files = landed_files(paths, port)
        if config.files is not None:
            wanted = set(config.files)
            files = [p for p in files if p.relative_to(paths.landing).as_posix() in wanted]
        results = _ingest_files(paths, domain.name, shape, files, context.log)
        total, quarantined_total = _table_counts(paths, domain.name, entity)
        _emit_lineage(context, paths, domain, entity, port, shape, results, started)
        return _result(results, total, quarantined_total)

    return _ingest
