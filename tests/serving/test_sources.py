"""The index reads the snapshot it resolved; the watcher's poll sees every commit, cheaply."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from mesh_platform.ports import tables as ports
from mesh_platform.ports.expiry import expire
from mesh_platform.ports.lakehouse import table_version
from mesh_platform.serving.loader import build_index
from mesh_platform.serving.sources import poll_key, source_key

from tests.serving.conftest import (
    FAST,
    RECOMMENDATIONS,
    SERVED,
    publish_recommendations,
)
from tests.serving.test_api import metric
from tests.serving.test_swap_and_shed import expected
from tests.support import wait_for


def test_the_index_reads_the_snapshot_it_resolved_not_the_current_one(published):
    key = source_key(published, SERVED)
    publish_recommendations(published.home, 1, offset=5)  # the pointer moves before the build
    old = build_index(published, FAST, key)
    assert old.sources == key and old.model.snapshot_id == key[0]
    assert [i.item_id for i in old.personal[7]] == expected(7, 0)
    new = build_index(published, FAST)
    assert new.model.snapshot_id != key[0]
    assert [i.item_id for i in new.personal[7]] == expected(7, 5)


def test_the_poll_key_changes_with_every_commit_the_source_key_with_snapshots(published):
    publish_recommendations(published.home, 1)  # a second publish, for expiry to drop the first
    polled, key = poll_key(published, SERVED), source_key(published, SERVED)
    assert None not in polled and polled[0] != key[0]  # metadata locations, not snapshot ids
    assert expire(published.home, RECOMMENDATIONS, keep=1)  # a commit that publishes nothing
    assert poll_key(published, SERVED) != polled and source_key(published, SERVED) == key
    publish_recommendations(published.home, 1, offset=5)
    assert source_key(published, SERVED)[0] != key[0]


def test_an_unpublished_port_has_no_version(mesh_home):
    assert table_version(mesh_home, RECOMMENDATIONS) is None


def test_an_empty_snapshot_serves_no_personal_list(published):
    empty = pq.read_table(ports.snapshot_files(published.home, RECOMMENDATIONS)[1]).slice(0, 0)
    ports.publish(published.home, RECOMMENDATIONS,
                  lambda f: pq.write_table(empty, Path(f) / "part-0.parquet"))  # fmt: skip
    assert ports.snapshot_files(published.home, RECOMMENDATIONS)[1] == []  # no data file
    index = build_index(published, FAST)
    assert index.entities == 0 and index.popular  # the popularity port still answers


def test_the_watcher_swaps_on_a_new_snapshot_not_on_an_expiry_commit(client, published):
    state = client.app.state  # the Gateway's serving state
    swaps = metric(client, "mesh_serving_index_swaps_total")
    publish_recommendations(published.home, 1)  # the same rows, a new snapshot
    assert wait_for(lambda: metric(client, "mesh_serving_index_swaps_total") == swaps + 1)
    assert expire(published.home, RECOMMENDATIONS, keep=1)
    assert wait_for(lambda: state.polled == poll_key(published, SERVED))  # the watcher saw it
    assert metric(client, "mesh_serving_index_swaps_total") == swaps + 1
    assert state.index is not None and state.index.sources == source_key(published, SERVED)
