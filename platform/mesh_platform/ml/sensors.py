"""Retraining on drift: a failed drift check on a predictions port requests a new training."""

import json

import dagster as dg

from mesh_platform.ml.assets import DRIFT_CHECK


def _new_failure(context: dg.SensorEvaluationContext, key: dg.AssetKey, after: int) -> int | None:
    """Storage id of the latest drift evaluation if it failed and is newer than ``after``."""
    check = dg.AssetCheckKey(key, DRIFT_CHECK)
    storage = context.instance.event_log_storage
    record = storage.get_latest_asset_check_execution_by_key([check]).get(check)
    if record is None or record.event is None or record.event.dagster_event is None:
        return None
    data = record.event.dagster_event.event_specific_data
    if not isinstance(data, dg.AssetCheckEvaluation) or data.passed or record.id <= after:
        return None
    run = context.instance.get_run_by_id(record.run_id)
    if run is not None and run.tags.get("mesh/trigger") == "drift":
        # Retraining did not remove the drift (e.g. a feature that trends with time): retraining
        # again would loop; the failed check stays visible for a person to decide.
        context.log.warning(f"{key.to_user_string()}: still drifting after a drift retrain")
        return None
    return record.id


def build_drift_sensor(domain_name: str, models: dict[str, dg.AssetKey], job):
    """Request one retraining (train + score) per new failed drift evaluation of each model.

    Args:
        domain_name: the domain (sensor name).
        models: model product name -> asset key of its predictions port.
        job: the retraining job (training and scoring assets).
    """

    @dg.sensor(name=f"{domain_name}_drift_retrain", job=job, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Retrains a model whose serving features drifted; promotion still "
               "goes through the model's gates.")  # fmt: skip
    def _sensor(context: dg.SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else {}
        requests = []
        for name, key in models.items():
            failed = _new_failure(context, key, seen.get(name, 0))
            if failed is None:
                continue
            seen[name] = failed
            requests.append(dg.RunRequest(run_key=f"drift-{name}-{failed}",
                                          tags={"mesh/trigger": "drift"}))  # fmt: skip
        context.update_cursor(json.dumps(seen))
        return requests or dg.SkipReason("no new drift")

    return _sensor
