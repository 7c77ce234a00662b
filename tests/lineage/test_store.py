"""The lineage store: incremental sync, idempotence, rebuild, and the latest edges per job."""

from __future__ import annotations

from mesh_platform.lineage.log import EVENTS, append_events
from mesh_platform.lineage.store import LineageStore, open_store, store_path

from tests.lineage.conftest import asset_run, build_mesh, dataset

TABLES = ["run_events", "dataset_io", "column_io", "field_io", "datasets", "dataset_versions",
          "dataset_edges", "column_edges"]  # fmt: skip


def snapshot(store: LineageStore) -> dict[str, list]:
    return {t: sorted(map(repr, store.con.execute(f"FROM {t}").fetchall())) for t in TABLES}


def test_sync_is_idempotent(paths, mesh):
    with open_store(paths.lineage, sync=False) as store:
        assert store.sync(paths.lineage) == len(mesh.events)
        before = snapshot(store)
        assert store.sync(paths.lineage) == 0
        assert snapshot(store) == before
    with open_store(paths.lineage) as store:  # reopening: the last seq is remembered
        assert store.last_seq == len(mesh.events) - 1
        assert snapshot(store) == before


def test_rebuild_equals_incremental_sync(paths):
    built = build_mesh(paths)
    events, ds = built.events, built.ds
    # A re-run of the port job that no longer reads staging: its edges must be the new run's.
    rerun = asset_run("sales", "order_lines", "dr-s2", [dataset(ds["sales.raw"], ["amount"])],
                      [dataset(ds["sales.port"], ["amount"], version="snap-2")])  # fmt: skip
    chunks = [events[:7], events[7:19], events[19:], rerun[:1], rerun[1:]]
    with open_store(paths.lineage) as store:
        for chunk in chunks:
            append_events(paths.lineage, chunk)
            store.sync(paths.lineage)
        incremental = snapshot(store)
        edges = store.query("SELECT src, run_id FROM dataset_edges WHERE job_name = ?",
                            ["sales.order_lines"])  # fmt: skip
    assert {e["src"] for e in edges} == {str(ds["sales.raw"])}
    with LineageStore(paths.lineage / "other.duckdb") as fresh:
        fresh.rebuild(paths.lineage)
        assert snapshot(fresh) == incremental
        versions = fresh.query("SELECT version FROM dataset_versions WHERE ds = ? ORDER BY seq",
                               [str(ds["sales.port"])])  # fmt: skip
    assert [v["version"] for v in versions] == ["snap-1", "snap-2"]


def test_small_batches_give_the_same_store(paths, mesh, monkeypatch):
    with open_store(paths.lineage) as whole:
        expected = snapshot(whole)
    monkeypatch.setattr("mesh_platform.lineage.store.BATCH", 3)
    with LineageStore(paths.lineage / "batched.duckdb") as batched:
        assert batched.sync(paths.lineage) == len(mesh.events)
        assert snapshot(batched) == expected


def test_a_rewritten_log_rebuilds_the_store(paths, mesh):
    with open_store(paths.lineage) as store:
        assert store.last_seq == len(mesh.events) - 1
    # The log is replaced by a shorter one (e.g. restored from a backup): the store follows it.
    for name in (EVENTS, "events.chain"):
        (paths.lineage / name).unlink()
    append_events(paths.lineage, mesh.events[:4])
    with open_store(paths.lineage) as store:
        assert store.last_seq == 3
        assert store.query("SELECT count(*) AS n FROM run_events")[0]["n"] == 4


def test_runs_view_has_status_parent_and_chain_hash(paths, mesh):
    failed = asset_run("web", "sessions", "dr-w1", [], [], status="FAIL")
    append_events(paths.lineage, failed)
    with open_store(paths.lineage) as store:
        row = store.query("SELECT * FROM runs WHERE job_name = 'web.sessions'")[0]
        assert (row["status"], row["parent_run_id"], row["parent_job_name"]) == (
            "FAIL",
            "dr-w1",
            "web_job",
        )
        assert len(row["hash"]) == 64 and row["started_at"] < row["ended_at"]
    assert store_path(paths.lineage).exists()
