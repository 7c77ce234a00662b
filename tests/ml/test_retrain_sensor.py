"""Drift triggers retraining: one run per new failed drift check, and no retraining loop."""

from __future__ import annotations

import dagster as dg
from mesh_platform.ml.assets import DRIFT_CHECK
from mesh_platform.ml.sensors import build_drift_sensor

KEY = dg.AssetKey(["personalization", "churn_scores"])


@dg.asset(key=KEY)
def churn_scores():
    return None


JOB = dg.define_asset_job("personalization_retrain", selection=[KEY])
SENSOR = build_drift_sensor("personalization", {"churn_model": KEY}, JOB)


def drift_evaluation(instance: dg.DagsterInstance, passed: bool, tags: dict | None = None) -> None:
    """Record a drift check evaluation inside a run, as the scoring asset does."""

    @dg.asset(key=KEY, check_specs=[dg.AssetCheckSpec(DRIFT_CHECK, asset=KEY)])
    def scored():
        result = dg.AssetCheckResult(
            check_name=DRIFT_CHECK, passed=passed, severity=dg.AssetCheckSeverity.WARN
        )
        return dg.MaterializeResult(check_results=[result])

    assert dg.materialize([scored], instance=instance, tags=tags or {}).success


def tick(instance, cursor):
    result = SENSOR.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result.run_requests or [], result.cursor


def test_failed_drift_check_requests_one_retraining():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=True)
        assert tick(instance, None)[0] == []  # no drift, no retraining
        drift_evaluation(instance, passed=False)
        requests, cursor = tick(instance, None)
        assert len(requests) == 1 and requests[0].tags["mesh/trigger"] == "drift"
        assert tick(instance, cursor)[0] == []  # the same failure does not retrain twice


def test_drift_left_after_a_drift_retrain_does_not_loop():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False, tags={"mesh/trigger": "drift"})
        assert tick(instance, None)[0] == []
