"""Consumers rebuild on their producers' publishes: the port sensor on a real Dagster instance."""

from __future__ import annotations

import dagster as dg
import pytest
from mesh_platform.orchestration.automation import (
    build_port_sensor,
    new_publishes,
    upstream_ports,
)

PORT = dg.AssetKey(["producer", "orders"])
OTHER = dg.AssetKey(["producer", "customers"])
OWN = dg.AssetKey(["consumer", "features"])


@dg.asset(key=OWN, deps=[PORT, OTHER, dg.AssetKey(["consumer", "raw"])])
def _features() -> None:
    """A consumer model reading two ports of another domain and one table of its own."""


def _defs() -> dg.Definitions:
    """The consumer's definitions, built anew: what a reload of its code location does."""
    job = dg.define_asset_job("consumer_rebuild", selection=[OWN], tags={"mesh/domain": "consumer"})
    sensor = build_port_sensor("consumer", job, upstream_ports("consumer", [_features]), [OWN])
    return dg.Definitions(assets=[_features], jobs=[job], sensors=[sensor])


def _tick(instance: dg.DagsterInstance, cursor: str | None):
    """Evaluate the sensor once, as the daemon does: (run requests, skip reason, new cursor)."""
    defs = _defs()
    sensor = next(s for s in defs.sensors or [] if s.name == "consumer_on_port_publish")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    result = sensor.evaluate_tick(context)
    return result.run_requests or [], result.skip_message, result.cursor


def _publish(instance: dg.DagsterInstance, key: dg.AssetKey) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))


@pytest.fixture
def instance():
    with dg.instance_for_test() as found:
        yield found


def test_upstream_ports_are_the_other_domains_dependencies():
    assert upstream_ports("consumer", [_features]) == [OTHER, PORT]


def test_new_publishes_compare_with_the_cursor_else_the_baseline():
    assert new_publishes({"p/a": 5}, {"p/a": 5, "p/b": 3}, baseline=0) == {"p/b": 3}
    assert new_publishes({}, {"p/a": 5, "p/b": 9}, baseline=7) == {"p/b": 9}


def test_nothing_starts_at_start_up_when_the_consumer_is_newer(instance):
    _publish(instance, PORT)
    _publish(instance, OWN)  # `mesh up` built the consumer after its producer
    requests, skip, cursor = _tick(instance, None)
    assert requests == [] and "no new publish" in (skip or "")
    _publish(instance, PORT)  # then the producer publishes again
    requests, _, _ = _tick(instance, cursor)
    assert len(requests) == 1
    assert requests[0].tags["mesh/trigger"] == "port-publish"
    assert requests[0].tags["mesh/upstream"] == "producer/orders"


def test_a_publish_missed_while_the_ui_was_down_is_built_on_the_first_tick(instance):
    _publish(instance, OWN)
    _publish(instance, OTHER)  # published after the consumer's last build
    requests, _, _ = _tick(instance, None)
    assert [r.tags["mesh/upstream"] for r in requests] == ["producer/customers"]


def test_a_refused_publish_triggers_nothing(instance):
    _publish(instance, OWN)
    _, _, cursor = _tick(instance, None)
    refused = dg.AssetCheckEvaluation(
        asset_key=PORT, check_name="contract", passed=False, metadata={}
    )
    instance.report_runless_asset_event(refused)  # the audit failed: no materialisation
    requests, skip, _ = _tick(instance, cursor)
    assert requests == [] and skip


def test_two_quick_publishes_queue_at_most_one_rebuild(instance):
    _publish(instance, OWN)
    _, _, cursor = _tick(instance, None)
    _publish(instance, PORT)
    requests, _, cursor = _tick(instance, cursor)
    assert len(requests) == 1
    job = _defs().resolve_job_def("consumer_rebuild")
    queued = instance.create_run_for_job(
        job, status=dg.DagsterRunStatus.NOT_STARTED, tags=dict(requests[0].tags)
    )  # waiting for the run queue (NOT_STARTED, as QUEUED, has not read any port yet)
    _publish(instance, PORT)
    _publish(instance, OTHER)
    requests, skip, cursor = _tick(instance, cursor)
    assert requests == [] and queued.run_id in (skip or "")
    instance.report_run_canceled(queued)  # once nothing waits, the next publish queues again
    _publish(instance, PORT)
    requests, _, _ = _tick(instance, cursor)
    assert len(requests) == 1


def test_the_cursor_survives_reloading_the_location(instance):
    """Each tick builds the definitions anew (a reload); publishes are neither lost nor repeated."""
    _publish(instance, OWN)
    _, _, cursor = _tick(instance, None)
    _publish(instance, PORT)
    first, _, cursor = _tick(instance, cursor)
    again, _, cursor = _tick(instance, cursor)
    assert len(first) == 1 and again == []
    _publish(instance, OTHER)
    later, _, _ = _tick(instance, cursor)
    assert [r.tags["mesh/upstream"] for r in later] == ["producer/customers"]
