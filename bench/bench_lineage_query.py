"""Benchmark: lineage store sync and upstream queries over a 100k-event synthetic log.

Builds a hash-chained OpenLineage log under /tmp (removed unless --keep) shaped like the mesh's:
``--pipelines`` source-aligned pipelines of 10 asset executions each (landing -> raw -> staging ->
mart + port -> consumer staging -> features + port -> ... ), every asset a START and a COMPLETE
event with schema and column lineage (6 columns), all under a parent Dagster run. Pipeline i's
consumer stage reads the ports of pipelines i-1 and i-7, so the graph is one deep, connected mesh.
Pipelines are re-run (daily history) until the log holds ``--events`` events: 20 events per chain.

Times a full sync of the store, then (median of --repeat) upstream of the last pipeline's final
port at dataset level and at column level, both over the whole history (no depth limit), and a
depth-3 query. Writes bench/results/lineage_query.json.

    uv run python bench/bench_lineage_query.py                    # 100k events, median of 7
    uv run python bench/bench_lineage_query.py --events 20000     # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import DatasetName, landing_dataset, port_dataset, table_dataset
from mesh_platform.lineage.queries import upstream
from mesh_platform.lineage.store import open_store
from mesh_platform.settings import MeshPaths

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench/results/lineage_query.json"
COLS = ["id", "customer_id", "product_id", "amount", "quantity", "ts"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def ds_facets(ds: DatasetName, inputs: list[DatasetName] | None, version: str | None) -> dict:
    facets: dict = {"schema": {"fields": [{"name": c, "type": "VARCHAR"} for c in COLS]}}
    if inputs:
        facets["columnLineage"] = {"fields": {c: {"inputFields": [
            {"namespace": i.namespace, "name": i.name, "field": c,
             "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]} for i in inputs]}
            for c in COLS}}  # fmt: skip
    if version:
        facets["datasetVersion"] = {"datasetVersion": version}
    return {"namespace": ds.namespace, "name": ds.name, "facets": facets}


def asset_events(i: int, day: int, asset: str, ins: list, outs: list[tuple]) -> list[dict]:
    """START + COMPLETE of one asset execution; outs are (dataset, its inputs, version)."""
    run_id = f"{i:05d}-{day:04d}-{asset}"
    when = EPOCH + timedelta(days=day, seconds=i)
    base = {"producer": "bench", "schemaURL": "bench",
            "run": {"runId": run_id, "facets": {"parent": {
                "job": {"namespace": f"mesh.d{i}", "name": f"d{i}_job"},
                "run": {"runId": f"dagster-{i}-{day}"}}}},
            "job": {"namespace": f"mesh.d{i}", "name": f"d{i}.{asset}"},
            "inputs": [ds_facets(d, None, None) for d in ins]}  # fmt: skip
    return [
        {**base, "eventType": "START", "eventTime": when.isoformat(), "outputs": []},
        {**base, "eventType": "COMPLETE", "eventTime": (when + timedelta(seconds=1)).isoformat(),
         "outputs": [ds_facets(d, src, v) for d, src, v in outs]},
    ]  # fmt: skip


def pipeline(paths: MeshPaths, i: int, day: int) -> list[dict]:
    """One chain of 10 asset executions (20 events) of domain d<i>."""
    d, t = f"d{i}", lambda s, n: table_dataset(paths, f"d{i}", s, n)
    land, raw, stg = landing_dataset(paths, f"{d}/src*.csv"), t("raw", "src"), t("main", "stg_src")
    mart, port = t("main", "product"), port_dataset(paths, d, "product")
    froms = [j for j in (i - 1, i - 7) if j >= 0]
    reads = [port_dataset(paths, f"d{j}", "feature") for j in froms]
    cons = [t("main", f"stg_d{j}__feature") for j in froms]
    feat, fport = t("main", "feature"), port_dataset(paths, d, "feature")
    v = f"{d}-{day}"
    steps = [("raw_src", [land], [(raw, [land], None)]), ("stg_src", [raw], [(stg, [raw], None)]),
             ("product", [stg], [(mart, [stg], None), (port, [mart], v)])]  # fmt: skip
    steps += [(f"stg_d{j}__feature", [r], [(c, [r], None)])
              for j, r, c in zip(froms, reads, cons, strict=True)]  # fmt: skip
    steps += [("feature", [mart, *cons], [(feat, [mart, *cons], None), (fport, [feat], v)])]
    while len(steps) < 10:  # pad early pipelines (fewer upstream ports) with marts
        k = len(steps)
        steps.insert(3, (f"mart{k}", [mart], [(t("main", f"mart{k}"), [mart], None)]))
    return [e for asset, ins, outs in steps for e in asset_events(i, day, asset, ins, outs)]


def build_log(paths: MeshPaths, events: int, pipelines: int) -> int:
    written, day = 0, 0
    while written < events:
        for i in range(pipelines):
            batch = pipeline(paths, i, day)
            append_events(paths.lineage, batch)
            written += len(batch)
            if written >= events:
                break
        day += 1
    return written


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--pipelines", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the log under /tmp")
    args = parser.parse_args()
    home = Path("/tmp/bench_lineage_query")
    shutil.rmtree(home, ignore_errors=True)
    paths = MeshPaths(root=REPO, home=home)
    start = time.perf_counter()
    n = build_log(paths, args.events, args.pipelines)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    with open_store(paths.lineage) as store:
        sync_s = time.perf_counter() - start
        root = port_dataset(paths, f"d{args.pipelines - 1}", "feature")
        figures = {}
        for name, kwargs in [("dataset", {}), ("column", {"column": "amount"}),
                             ("dataset_depth3", {"depth": 3})]:  # fmt: skip
            med, best, graph = timed(lambda kw=kwargs: upstream(store, root, **kw), args.repeat)
            figures[name] = {"median_s": med, "best_s": best, "nodes": len(graph.nodes),
                             "edges": len(graph.edges)}  # fmt: skip
        size = store.query("SELECT count(*) AS n FROM dataset_edges")[0]["n"]
    print(
        f"{n:,} events ({n // 20:,} chains of 20), {size:,} dataset edges; log built in "
        f"{build_s:.1f} s, full store sync {sync_s:.2f} s"
    )
    print(f"{'upstream query':<24}{'median ms':>10}{'best ms':>9}{'nodes':>7}{'edges':>7}")
    for name, f in figures.items():
        print(
            f"{name:<24}{f['median_s'] * 1000:>10.1f}{f['best_s'] * 1000:>9.1f}"
            f"{f['nodes']:>7}{f['edges']:>7}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(), "events": n, "pipelines": args.pipelines,
        "repeat": args.repeat, "build_s": build_s, "sync_s": sync_s, "queries": figures,
        "load_avg": os.getloadavg(), "cpus": os.cpu_count()}, indent=2))  # fmt: skip
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
