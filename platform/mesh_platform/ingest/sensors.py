"""Event-driven ingestion: a sensor per domain launches ingestion of newly landed files only."""

import hashlib
import json
from collections.abc import Sequence

import dagster as dg

from mesh_platform.descriptors.loader import Domain
from mesh_platform.ingest.assets import fingerprint, ingested_manifest, landed_files, landing_ports
from mesh_platform.ingest.bus import Feed, pull_feeds
from mesh_platform.settings import MeshPaths, sensor_status


def new_files(paths: MeshPaths, domain: Domain, requested: dict[str, list[int]]) -> dict[str, dict]:
    """Entity -> {file: fingerprint} of landed files neither ingested nor already requested."""
    found: dict[str, dict] = {}
    for entity, port in landing_ports(domain).items():
        manifest = ingested_manifest(paths, domain.name, entity)
        ingested = json.loads(manifest.read_text()) if manifest.exists() else {}
        for path in landed_files(paths, port):
            rel, fp = path.relative_to(paths.landing).as_posix(), fingerprint(path)
            if ingested.get(rel) != fp and requested.get(rel) != fp:
                found.setdefault(entity, {})[rel] = fp
    return found


def build_landing_sensor(
    domain: Domain, paths: MeshPaths, job, op_names: dict[str, str], feeds: Sequence[Feed] = ()
):
    """A sensor that requests one ingestion run for each batch of new or changed landed files.

    With an event bus configured (MESH_EVENTS_URL), each tick first lands the events the
    broker holds for ``feeds`` as files (`mesh_platform.ingest.bus`), then looks as usual.

    Args:
        domain: the source-aligned domain.
        paths: mesh paths.
        job: the domain's ingestion job (ingestion assets and everything downstream of them).
        op_names: entity -> op name of its ingestion asset, for the run config.
        feeds: (landing folder, prefix) of the serving event feeds the domain reads.

    """

    # 10 s: a tick only stats the landing files (size, mtime); the real-time loop waits on it.
    @dg.sensor(
        name=f"{domain.name}_landing_sensor", job=job, minimum_interval_seconds=10,
        default_status=sensor_status(),
        description=f"Ingests files newly delivered to landing/{domain.name}/ (micro-batches).",
    )  # fmt: skip
    def _sensor(context: dg.SensorEvaluationContext):
        requested = json.loads(context.cursor) if context.cursor else {}
        pull_feeds(paths, feeds, context.log)
        batch = new_files(paths, domain, requested)
        if not batch:
            return dg.SkipReason("no new landed files")
        ops = {op: {"config": {"files": sorted(batch.get(entity, {}))}}
               for entity, op in op_names.items()}  # fmt: skip
        flat = {rel: fp for files in batch.values() for rel, fp in files.items()}
        run_key = hashlib.sha256(json.dumps(flat, sort_keys=True).encode()).hexdigest()[:16]
        context.update_cursor(json.dumps({**requested, **flat}, sort_keys=True))
        return dg.RunRequest(run_key=run_key, run_config={"ops": ops},
                             tags={"mesh/trigger": "landing-sensor"})  # fmt: skip

    return _sensor
