"""Retraining on drift: a champion whose drift check failed gets one new training.

The sensor acts only on a real drift report (a failed evaluation of the predictions port's drift
check that names drifted features) of a known champion version, and at most once per champion:
while that champion stays (the retraining was not promoted), later failing reports of it wait
for a person. A failure recorded by a drift-triggered run never retrains again (no loop). The
cursor lives in the Dagster instance, so restarting the UI does not act on a report twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg

from mesh_platform.ml.assets import DRIFT_CHECK
from mesh_platform.settings import sensor_status

VERSION_KEY = "model_version"  # metadata naming the champion that scored (check or asset)


def _value(metadata: Mapping[str, Any], name: str) -> Any:
    item = metadata.get(name)
    return getattr(item, "value", item)


def _champion(instance: dg.DagsterInstance, run_id: str, key: dg.AssetKey, data) -> str | None:
    """The champion version a drift evaluation judged: its own metadata, else its run's output."""
    version = _value(data.metadata, VERSION_KEY)
    if version is None:
        events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        for entry in events:
            mat = entry.asset_materialization
            if mat is not None and mat.asset_key == key:
                version = _value(mat.metadata, VERSION_KEY)
    return None if version is None else str(version)


def _drift_failure(context: dg.SensorEvaluationContext, key: dg.AssetKey) -> tuple[int, str] | None:
    """(storage id, champion version) of the latest drift evaluation, if actionable.

    Actionable: failed, names drifted features, a champion is known, not from a drift retraining.
    """
    check = dg.AssetCheckKey(key, DRIFT_CHECK)
    storage = context.instance.event_log_storage
    record = storage.get_latest_asset_check_execution_by_key([check]).get(check)
    if record is None or record.event is None or record.event.dagster_event is None:
        return None
    data = record.event.dagster_event.event_specific_data
    if not isinstance(data, dg.AssetCheckEvaluation) or data.passed:
        return None
    if not _value(data.metadata, "drifted_features"):
        return None  # not a drift report (no feature named): nothing a retraining could fix
    run = context.instance.get_run_by_id(record.run_id)
    if run is not None and run.tags.get("mesh/trigger") == "drift":
        # Retraining did not remove the drift: retraining again would loop; the failed check
        # stays visible for a person to decide.
        context.log.warning(f"{key.to_user_string()}: still drifting after a drift retrain")
        return None
    champion = _champion(context.instance, record.run_id, key, data)
    if champion is None:
        context.log.warning(f"{key.to_user_string()}: drift check names no champion version")
        return None
    return record.id, champion


def _seen(cursor: str | None) -> dict[str, dict[str, Any]]:
    """Per model: the last report acted on and the champion retrained for."""
    data = json.loads(cursor) if cursor else {}
    return {name: v if isinstance(v, dict) else {"report": v} for name, v in data.items()}


def build_drift_sensor(domain_name: str, models: dict[str, dg.AssetKey], job):
    """Request one retraining (train + score) per champion whose drift check failed.

    Args:
        domain_name: the domain (sensor name).
        models: model product name -> asset key of its predictions port.
        job: the retraining job (training and scoring assets).
    """

    @dg.sensor(name=f"{domain_name}_drift_retrain", job=job, minimum_interval_seconds=60,
               default_status=sensor_status(),
               description="Retrains a model whose serving features drifted, once per champion; "
               "promotion still goes through the model's gates.")  # fmt: skip
    def _sensor(context: dg.SensorEvaluationContext):
        seen, requests = _seen(context.cursor), []
        for name, key in models.items():
            failure = _drift_failure(context, key)
            last = seen.get(name, {})
            if failure is None or failure[0] <= last.get("report", 0):
                continue
            report, champion = failure
            seen[name] = {"report": report, "champion": champion}
            if champion == last.get("champion"):
                context.log.info(f"{name}: champion v{champion} was already retrained for drift")
                continue
            requests.append(dg.RunRequest(run_key=f"drift-{name}-v{champion}-{report}",
                                          tags={"mesh/trigger": "drift",
                                                "mesh/drift_champion": champion}))  # fmt: skip
        context.update_cursor(json.dumps(seen))
        return requests or dg.SkipReason("no new drift of a champion")

    return _sensor
