"""Cross-domain automation: consumers rebuild on their producers' publishes; models on a schedule.

A consumer's code location holds a sensor on the asset keys of the ports it reads (its assets'
dependencies owned by other domains). A port's asset is materialised only when its blocking
contract check passed, so a refused publish (no materialisation) triggers nothing, and a
consumer never starts on a port whose check failed.

Why a sensor and not ``AutomationCondition.eager()`` on the consumer's assets: eager conditions
silently stopped firing after a code location reload (dagster issue #33656), and reloading one
domain's location alone is how this mesh deploys a domain. The sensor's state is a cursor of
event-log storage ids kept in the instance, so a reload or a restart of the daemon loses nothing
(tests/orchestration/test_automation.py reloads the definitions between publishes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import dagster as dg

from mesh_platform.settings import schedule_status, sensor_status

# A rebuild queued but not started will read every port as current when it starts: one is enough.
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
TRIGGER_TAG = "mesh/trigger"
DOMAIN_TAG = "mesh/domain"


def upstream_ports(domain: str, assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The other domains' assets that a domain's assets depend on: the ports it reads.

    Args:
        domain: the domain (the first part of its asset keys).
        assets: the domain's assets definitions.
    """
    found = {key for a in assets for key in a.dependency_keys if key.path[0] != domain}
    return sorted(found, key=lambda k: k.to_user_string())


def _latest_ids(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]) -> dict[str, int]:
    """Asset (user string) -> storage id of its newest materialisation, for those that have one."""
    ids = {}
    for key in keys:
        records = instance.fetch_materializations(key, limit=1).records
        if records:
            ids[key.to_user_string()] = records[0].storage_id
    return ids


def _baseline(instance: dg.DagsterInstance, own: Iterable[dg.AssetKey]) -> int:
    """The newest materialisation of the consumer's own assets: what it has already built on."""
    return max(_latest_ids(instance, own).values(), default=0)


def _waiting_run(instance: dg.DagsterInstance, job_name: str, domain: str) -> str | None:
    """The id of a run of the job that is queued and not yet started, if any."""
    runs = instance.get_run_records(
        dg.RunsFilter(job_name=job_name, statuses=WAITING, tags={DOMAIN_TAG: domain}), limit=1
    )
    return runs[0].dagster_run.run_id if runs else None


def new_publishes(
    seen: Mapping[str, int], latest: Mapping[str, int], baseline: int
) -> dict[str, int]:
    """The ports whose newest publish the consumer has not reacted to yet.

    Args:
        seen: port -> storage id already reacted to (the sensor's cursor).
        latest: port -> storage id of its newest publish.
        baseline: for a port not in ``seen`` (first tick), publishes older than the consumer's
            own newest materialisation were already built on.
    """
    return {port: sid for port, sid in latest.items() if sid > seen.get(port, baseline)}


def build_port_sensor(domain: str, job, upstream: list, own: list) -> dg.SensorDefinition:
    """A sensor that requests one rebuild of ``job`` when a port the domain reads is published.

    Args:
        domain: the consumer domain.
        job: the rebuild job (the domain's dbt assets and what depends on them, no training).
        upstream: asset keys of the ports the domain reads.
        own: asset keys of the job's assets (the baseline on the sensor's first tick).
    """

    @dg.sensor(
        name=f"{domain}_on_port_publish", job=job, minimum_interval_seconds=5,
        default_status=sensor_status(),
        description=f"Rebuilds {domain} when a port it reads publishes a new snapshot "
        "(a refused publish is not a materialisation: it triggers nothing).",
    )  # fmt: skip
    def _sensor(context: dg.SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else {}
        latest = _latest_ids(context.instance, upstream)
        fresh = new_publishes(seen, latest, 0 if seen else _baseline(context.instance, own))
        context.update_cursor(json.dumps({**seen, **latest}, sort_keys=True))
        if not fresh:
            return dg.SkipReason("no new publish of a port this domain reads")
        waiting = _waiting_run(context.instance, job.name, domain)
        if waiting:
            return dg.SkipReason(f"run {waiting} is queued and will read {', '.join(fresh)}")
        run_key = "publish-" + "-".join(f"{p}@{sid}" for p, sid in sorted(fresh.items()))
        return dg.RunRequest(
            run_key=run_key,
            tags={TRIGGER_TAG: "port-publish", DOMAIN_TAG: domain,
                  "mesh/upstream": ",".join(sorted(fresh))},
        )  # fmt: skip

    return _sensor


def on_port_publish(domain: str, dbt: dg.AssetsDefinition, training: dg.AssetSelection) -> tuple:
    """The rebuild job and its sensor of a domain that reads other domains' ports.

    Args:
        domain: the consumer domain.
        dbt: its dbt assets (the step that reads the ports).
        training: its training assets, left out (models retrain on their schedule, or by drift).

    Returns:
        ([job], [sensor]), or ([], []) for a domain that reads no port.
    """
    upstream = upstream_ports(domain, [dbt])
    if not upstream:
        return [], []
    selection = dg.AssetSelection.assets(dbt).downstream() - training
    job = dg.define_asset_job(
        f"{domain}_rebuild", selection=selection, tags={DOMAIN_TAG: domain},
        description="Rebuild the domain's dbt models and re-score its models on the champion, "
        "after a port it reads was published.",
    )  # fmt: skip
    own = list(dbt.keys)
    return [job], [build_port_sensor(domain, job, upstream, own)]


def retrain_schedule(domain: str, product: str, cron: str, assets: list) -> dg.ScheduleDefinition:
    """The declared retraining of one model: train (gates decide promotion), then score.

    Args:
        domain: the domain owning the model.
        product: the model product.
        cron: its ``model.retrain_schedule`` (UTC).
        assets: its training and scoring assets.
    """
    return dg.ScheduleDefinition(
        name=f"{domain}_{product}_retrain_schedule", cron_schedule=cron, execution_timezone="UTC",
        target=dg.AssetSelection.assets(*assets), default_status=schedule_status(),
        tags={TRIGGER_TAG: "schedule", DOMAIN_TAG: domain},
        description=f"Retrains {product} as its descriptor declares (model.retrain_schedule).",
    )  # fmt: skip
