"""Drift triggers retraining: once per champion whose drift check failed, never in a loop."""

from __future__ import annotations

import json

import dagster as dg
from mesh_platform.ml.assets import DRIFT_CHECK
from mesh_platform.ml.sensors import build_drift_sensor

KEY = dg.AssetKey(["shop", "scores"])
JOB = dg.define_asset_job("shop_retrain", selection=[KEY])
SENSOR = build_drift_sensor("shop", {"scorer": KEY}, JOB)


@dg.asset(key=KEY)
def scores():
    return None


def drift_evaluation(
    instance: dg.DagsterInstance,
    passed: bool,
    champion: int | None = 1,
    tags: dict | None = None,
    drifted: tuple[str, ...] = ("age",),
    version_on_check: bool = True,
) -> None:
    """Record a drift check evaluation inside a run, as the scoring asset does."""
    version = {} if champion is None else {"model_version": champion}
    check_meta = {"drifted_features": dg.MetadataValue.json([] if passed else list(drifted))}

    @dg.asset(key=KEY, check_specs=[dg.AssetCheckSpec(DRIFT_CHECK, asset=KEY)])
    def scored():
        result = dg.AssetCheckResult(
            check_name=DRIFT_CHECK, passed=passed, severity=dg.AssetCheckSeverity.WARN,
            metadata=check_meta | (version if version_on_check else {}),
        )  # fmt: skip
        return dg.MaterializeResult(check_results=[result], metadata=version)

    assert dg.materialize([scored], instance=instance, tags=tags or {}).success


def tick(instance, cursor):
    result = SENSOR.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result.run_requests or [], result.cursor


def test_fresh_demo_with_passing_checks_does_not_retrain():
    with dg.instance_for_test() as instance:
        assert tick(instance, None)[0] == []  # nothing scored yet
        drift_evaluation(instance, passed=True)
        requests, cursor = tick(instance, None)  # the UI starts: a sensor without a cursor
        assert requests == []
        assert tick(instance, cursor)[0] == []


def test_failed_drift_check_requests_one_retraining():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False)
        requests, cursor = tick(instance, None)
        assert len(requests) == 1 and requests[0].tags["mesh/trigger"] == "drift"
        assert requests[0].tags["mesh/drift_champion"] == "1"
        assert tick(instance, cursor)[0] == []  # the same report does not retrain twice
        assert tick(instance, cursor)[0] == []  # nor does a restarted UI (cursor kept)


def test_once_per_champion():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False, champion=1)
        requests, cursor = tick(instance, None)
        assert len(requests) == 1
        drift_evaluation(instance, passed=False, champion=1)  # not promoted: same champion
        requests, cursor = tick(instance, cursor)
        assert requests == []
        drift_evaluation(instance, passed=False, champion=2)  # a new champion drifts
        requests, cursor = tick(instance, cursor)
        assert [r.tags["mesh/drift_champion"] for r in requests] == ["2"]


def test_champion_read_from_the_scoring_output_when_the_check_lacks_it():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False, champion=7, version_on_check=False)
        requests, _ = tick(instance, None)
        assert [r.tags["mesh/drift_champion"] for r in requests] == ["7"]


def test_failure_without_champion_or_drifted_features_is_not_acted_on():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False, champion=None)
        assert tick(instance, None)[0] == []
        drift_evaluation(instance, passed=False, drifted=())
        assert tick(instance, None)[0] == []


def test_drift_left_after_a_drift_retrain_does_not_loop():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False, tags={"mesh/trigger": "drift"})
        assert tick(instance, None)[0] == []


def test_cursor_of_the_previous_format_is_read():
    with dg.instance_for_test() as instance:
        drift_evaluation(instance, passed=False)
        _, cursor = tick(instance, None)
        report = json.loads(cursor or "{}")["scorer"]["report"]
        assert tick(instance, json.dumps({"scorer": report}))[0] == []  # already acted on
        assert len(tick(instance, json.dumps({"scorer": 0}))[0]) == 1
