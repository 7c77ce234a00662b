"""Benchmark: a port published and read as an Iceberg table, against the Parquet snapshots before.

Builds an order_lines port candidate the size of `sales/order_lines` at scale 10 (1,031,138 rows
by default) in a DuckDB file under a temp folder, with `bench_contracts.synthesise` (every rule of
the real contract `contracts/sales/order_lines.odcs.yaml` holds), then, median of --rounds rounds,
the contenders alternating within each round:

* publish, old: the Parquet-snapshot algorithm the Iceberg tables replaced, copied below from
  `git show 5300dc1:platform/mesh_platform/ports/snapshots.py` (staging folder, audit,
  `os.rename` into `snapshots/<id>`, `current` symlink swapped with `os.replace`, keep 5);
* publish, new: `mesh_platform.ports.publish` with the contract's `columns` and `summary` (what
  `dbt/assets.py` passes). Both write with the platform's writer (`DuckDBWarehouse.export_parquet`:
  DuckDB COPY, zstd) and audit with the real `audit_for(contract.model)`;
* consumer read (--reads per round, each with a fresh DuckDB connection): (a) old: a view over
  `current/*.parquet`; (b) new: `pin_inputs` with a fresh run id, then `create_views` (the view
  `port_views.py` makes: `read_parquet([files], union_by_name = true)`); (c) direct: the same
  Iceberg data files listed in `read_parquet([...])`, no catalog. Two queries each: an aggregate
  over every row and a filtered per-customer aggregate; their answers must agree.

Targets: publish + read within 1.3x of the old; (b) within 1.1x of (c). Peak RSS of each contender
comes from one extra process per contender (VmHWM). Writes bench/results/ports.json.

    uv run python bench/bench_ports.py                  # 1.03M rows, median of 5 (~2 min)
    uv run python bench/bench_ports.py --rows 100000 --rounds 3   # quick run
    uv run python bench/bench_ports.py --profile        # + cProfile of one new publish and read
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pyiceberg.io.pyarrow as iceberg_io
from mesh_platform.contracts.odcs import load_contract
from mesh_platform.contracts.table_schema import publish_facts
from mesh_platform.contracts.validate import audit_for
from mesh_platform.dbt.port_views import create_views
from mesh_platform.dbt.sources import port_view
from mesh_platform.ports import AuditFailed, PortRef, Snapshot, publish
from mesh_platform.ports import commit as new_commit
from mesh_platform.ports import tables as new_tables
from mesh_platform.ports.lakehouse import warehouse
from mesh_platform.ports.pins import pin_inputs
from mesh_platform.warehouse import DuckDBWarehouse, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_contracts  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "contracts" / "sales" / "order_lines.odcs.yaml"
RESULTS = REPO / "bench" / "results" / "ports.json"
REF = PortRef("sales", "order_lines", 1)
ROWS = 1_031_138  # sales/order_lines at scale 10 (`mesh generate --scale 10 --seed 42`)
TARGET_TOTAL, TARGET_READ = 1.3, 1.1
QUERIES = (
    "SELECT count(*), sum(line_revenue), sum(quantity), max(ordered_at) FROM {v}",
    "SELECT count(*), sum(revenue), max(lines) FROM (SELECT customer_id, count(*) AS lines, "
    "sum(line_revenue) AS revenue FROM {v} WHERE status = 'completed' AND channel <> 'store' "
    "GROUP BY customer_id)",
)


# ---------------------------------------------------------------------------------------------
# BASELINE: the old publish, copied from 5300dc1:platform/mesh_platform/ports/snapshots.py
# (publish, _reject, _switch_current, _prune, new_snapshot_id, count_rows; names prefixed old_).
# ---------------------------------------------------------------------------------------------
OLD_CURRENT = "current"
OLD_SNAPSHOT_META = "_snapshot.json"
OLD_KEEP_SNAPSHOTS = 5


OldSnapshot = Snapshot  # the old module's dataclass had these same first eight fields


def old_new_snapshot_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def old_count_rows(folder: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet")))


def old_publish(
    lake: Path,
    ref: PortRef,
    write: Callable[[Path], None],
    audit: Callable[[Path], str | None] | None = None,
    run_id: str | None = None,
) -> OldSnapshot:
    base = Path(lake) / ref.relative_dir
    snapshot_id = old_new_snapshot_id()
    staging = base / "_staging" / snapshot_id
    staging.mkdir(parents=True)
    try:
        write(staging)
        reason = audit(staging) if audit else None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if reason is not None:
        kept = _old_reject(base, staging, reason)
        raise AuditFailed(ref, reason, kept)
    final = base / "snapshots" / snapshot_id
    snapshot = OldSnapshot(ref.domain, ref.product, ref.version, snapshot_id, str(final),
                           old_count_rows(staging), datetime.now(UTC).isoformat(),
                           run_id)  # fmt: skip
    (staging / OLD_SNAPSHOT_META).write_text(json.dumps(asdict(snapshot), indent=2))
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, final)
    _old_switch_current(base, snapshot_id)
    _old_prune(base)
    return snapshot


def _old_reject(base: Path, staging: Path, reason: str) -> Path:
    kept = base / "_rejected" / staging.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, kept)
    (kept / "_reason.txt").write_text(reason + "\n")
    return kept


def _old_switch_current(base: Path, snapshot_id: str) -> None:
    tmp = base / f".{OLD_CURRENT}.{snapshot_id}"
    os.symlink(Path("snapshots") / snapshot_id, tmp)
    os.replace(tmp, base / OLD_CURRENT)


def _old_prune(base: Path, keep: int = OLD_KEEP_SNAPSHOTS) -> None:
    current = os.readlink(base / OLD_CURRENT)
    snapshots = sorted((base / "snapshots").iterdir())
    for old in snapshots[:-keep]:
        if Path(current).name != old.name:
            shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The bench
# ---------------------------------------------------------------------------------------------
Splits = defaultdict[str, float]


def timed(fn: Callable, splits: Splits, key: str) -> Callable:
    """``fn`` adding its wall seconds to ``splits[key]`` on every call."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            splits[key] += time.perf_counter() - start

    return wrapper


def timed_iter(fn: Callable, splits: Splits, key: str) -> Callable:
    """``fn`` returning an iterator whose items' production time adds to ``splits[key]``."""

    def wrapper(*args, **kwargs) -> Iterator:
        items = iter(fn(*args, **kwargs))
        while True:
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                splits[key] += time.perf_counter() - start
            yield item

    return wrapper


class Bench:
    """The two homes over one source DuckDB file, and each contender as a method."""

    def __init__(self, root: Path):
        self.root = root
        self.old_lake = root / "old" / "lake"
        self.new_home = root / "new"
        self.source = DuckDBWarehouse(root / "source.duckdb")
        self.contract = load_contract(CONTRACT)
        self.facts = publish_facts(self.contract)
        self.splits: Splits = defaultdict(float)
        self.files: tuple[str, ...] = ()  # the new table's current data files
        for name in ("commit", "expire", "_snapshot"):
            setattr(new_tables, name, timed(getattr(new_tables, name), self.splits, name))
        # the two ways ports.commit makes the audited candidate the table's data files
        for name in ("_register", "_registrable"):
            setattr(new_commit, name, timed(getattr(new_commit, name), self.splits, name))
        # imported by pyiceberg's overwrite when called: writing the Iceberg data file(s)
        iceberg_io._dataframe_to_data_files = timed_iter(
            iceberg_io._dataframe_to_data_files, self.splits, "data_files"
        )

    def _write(self, folder: Path) -> None:
        self.source.export_parquet("order_lines", folder)

    def _steps(self) -> tuple[Callable[[Path], None], Callable[[Path], str | None]]:
        return (timed(self._write, self.splits, "write"),
                timed(audit_for(self.contract.model), self.splits, "audit"))  # fmt: skip

    def old_publish(self) -> int:
        write, audit = self._steps()
        snap = old_publish(self.old_lake, REF, write, audit, run_id=uuid.uuid4().hex)
        return snap.rows

    def new_publish(self) -> int:
        write, audit = self._steps()
        snap = publish(self.new_home, REF, write, audit, run_id=uuid.uuid4().hex, **self.facts)
        self.files = snap.files
        return snap.rows

    def _query(self, con: duckdb.DuckDBPyConnection, view: str) -> list:
        return [con.execute(q.format(v=view)).fetchall() for q in QUERIES]

    def _read(self, source: str) -> list:
        con = connect()
        try:
            con.execute(f"CREATE VIEW port AS SELECT * FROM {source}")
            return self._query(con, "port")
        finally:
            con.close()

    def old_read(self) -> list:
        glob = self.old_lake / REF.relative_dir / OLD_CURRENT / "*.parquet"
        return self._read(f"read_parquet('{glob}')")

    def new_read(self, home: Path | None = None) -> list:
        start = time.perf_counter()
        pins = pin_inputs(home or self.new_home, f"bench-{uuid.uuid4().hex}", [REF])
        self.splits["pin"] += time.perf_counter() - start
        con = connect()
        try:
            create_views(con, pins)
            return self._query(con, port_view(REF))
        finally:
            con.close()

    def direct_read(self) -> list:
        files = ", ".join(f"'{f}'" for f in self.files)
        return self._read(f"read_parquet([{files}])")


PUBLISHERS = {"old publish": "old_publish", "new publish": "new_publish"}
READERS = {"(a) old read": "old_read", "(b) new read": "new_read", "(c) direct read": "direct_read"}


def build(root: Path, rows: int) -> None:
    """The source DuckDB file with the candidate's rows, from bench_contracts' generator."""
    parquet = bench_contracts.synthesise(rows, root / "synth")
    with duckdb.connect(str(root / "source.duckdb")) as con:
        con.execute(f"CREATE TABLE order_lines AS SELECT * FROM read_parquet('{parquet}')")
    shutil.rmtree(root / "synth")


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc (VmRSS now, VmHWM its peak), in KiB.

    Not ru_maxrss: Linux carries the parent's peak over fork and exec into the child's.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def probe(root: Path, method: str) -> None:
    """In a fresh process: one call of a contender; prints its peak RSS and the RSS before it."""
    bench = Bench(root)
    if method == "direct_read":
        bench.files = tuple(json.loads((root / "files.json").read_text()))
    before = status_kib("VmRSS")
    start = time.perf_counter()
    getattr(bench, method)()
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM")
    print(json.dumps({"before_kib": before, "peak_kib": peak, "seconds": seconds}))


def publishers(args: argparse.Namespace) -> dict[str, str]:
    return dict(PUBLISHERS)


def probe_all(root: Path, bench: Bench, args: argparse.Namespace) -> dict[str, dict]:
    (root / "files.json").write_text(json.dumps(list(bench.files)))
    found = {}
    for name, method in {**publishers(args), **READERS}.items():
        out = subprocess.run(
            [sys.executable, __file__, "--probe", method, "--dir", str(root)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        found[name] = json.loads(out.strip().splitlines()[-1])
    return found


def profile(root: Path, bench: Bench, top: int) -> None:
    """cProfile of one new publish and one new read; the .prof files stay in the temp folder."""
    for method in ("new_publish", "new_read"):
        prof = cProfile.Profile()
        prof.runcall(getattr(bench, method))
        prof.dump_stats(root / f"{method}.prof")
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
        print(f"\n--- cProfile, one {method} (cumulative) ---")
        print("\n".join(out.getvalue().splitlines()[:top + 12]))  # fmt: skip


def run_rounds(bench: Bench, args: argparse.Namespace) -> tuple[dict, list[dict]]:
    times: dict[str, list[float]] = defaultdict(list)
    splits: list[dict] = []
    answer = None
    for r in range(args.rounds):
        order = list(publishers(args).items())
        for name, method in order[r % len(order) :] + order[: r % len(order)]:
            bench.splits.clear()
            start = time.perf_counter()
            rows = getattr(bench, method)()
            seconds = time.perf_counter() - start
            times[name].append(seconds)
            assert rows == args.rows, (name, rows)
            rest = seconds - bench.splits["write"] - bench.splits["audit"]
            splits.append({"round": r, "contender": name, **bench.splits, "rest": rest})
        readers = list(READERS.items())
        for k in range(args.reads):
            shift = (r * args.reads + k) % len(readers)
            for name, method in readers[shift:] + readers[:shift]:
                bench.splits.clear()
                start = time.perf_counter()
                got = getattr(bench, method)()
                times[name].append(time.perf_counter() - start)
                if name == "(b) new read":
                    times["(b) of which pin"].append(bench.splits["pin"])
                answer = answer or got
                assert got == answer, (name, got, answer)
        print(f"round {r + 1}/{args.rounds}: "
              + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)  # fmt: skip
    return times, splits


def split_medians(splits: list[dict], contender: str) -> dict[str, float]:
    mine = [s for s in splits if s["contender"] == contender]
    keys = sorted({k for s in mine for k in s} - {"round", "contender"})
    return {k: statistics.median(s.get(k, 0.0) for s in mine) for k in keys}


def report(args, times, splits, rss, load_before, load_after, seconds) -> dict:
    med = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    print(f"\n{args.rows:,} rows, median of {args.rounds} rounds (reads: {args.rounds} x "
          f"{args.reads}), {os.cpu_count()} cores, load average {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f} before, {load_after[0]:.2f} "
          f"{load_after[1]:.2f} {load_after[2]:.2f} after, {seconds:.0f} s in all\n")  # fmt: skip
    print(f"| {'contender':20} | median s | best s | peak RSS MiB | RSS growth MiB |")
    print(f"| {'-' * 20} | -------: | -----: | -----------: | -------------: |")
    for name in times:
        r = rss.get(name)
        peak = f"{r['peak_kib'] / 1024:12.0f}" if r else f"{'':12}"
        grow = f"{(r['peak_kib'] - r['before_kib']) / 1024:14.0f}" if r else f"{'':14}"
        print(f"| {name:20} | {med[name]:8.3f} | {best[name]:6.3f} | {peak} | {grow} |")
    new_split = split_medians(splits, "new publish")
    old_split = split_medians(splits, "old publish")
    commit = new_split.get("commit", 0.0)
    data = new_split.get("data_files", 0.0)  # > 0 only when the rows were rewritten
    print("\nsplit of the publishes (medians, s):")
    print(
        f"  old: write {old_split['write']:.3f}, audit {old_split['audit']:.3f}, the rest "
        f"{old_split['rest']:.3f} (row count from the footers, rename, symlink, prune)"
    )
    print(f"  new: write {new_split['write']:.3f}, audit {new_split['audit']:.3f}, the rest "
          f"{new_split['rest']:.3f}: Iceberg commit {commit:.3f} (of which the schema check "
          f"{new_split.get('_registrable', 0):.3f}, files moved in and added "
          f"{new_split.get('_register', 0):.3f}, rows rewritten {data:.3f}), expiry "
          f"{new_split.get('expire', 0):.3f}, list the snapshot's files "
          f"{new_split.get('_snapshot', 0):.3f}")  # fmt: skip
    ratios = {
        "publish new/old": med["new publish"] / med["old publish"],
        "read (b)/(c)": med["(b) new read"] / med["(c) direct read"],
        "read (b)/(a)": med["(b) new read"] / med["(a) old read"],
        "read (b) without pin / (c)": (med["(b) new read"] - med["(b) of which pin"])
        / med["(c) direct read"],
        "publish+read new/old": (med["new publish"] + med["(b) new read"])
        / (med["old publish"] + med["(a) old read"]),
    }
    print()
    for name, value in ratios.items():
        print(f"  {name:28} {value:5.2f}x")
    total, read = ratios["publish+read new/old"], ratios["read (b)/(c)"]
    print(
        f"\ntarget publish + read within {TARGET_TOTAL}x of the Parquet snapshots: "
        f"{'met' if total <= TARGET_TOTAL else 'MISSED'} ({total:.3f}x)"
    )
    print(f"target port read within {TARGET_READ}x of the same files read directly: "
          f"{'met' if read <= TARGET_READ else 'MISSED'} ({read:.3f}x)")  # fmt: skip
    return {"rows": args.rows, "rounds": args.rounds, "reads": args.reads, "times": times,
            "medians": med, "best": best, "ratios": ratios, "splits": splits, "rss": rss,
            "load_before": load_before, "load_after": load_after, "seconds": seconds,
            "cpus": os.cpu_count(), "at": datetime.now(UTC).isoformat(),
            "python": sys.version.split()[0], "duckdb": duckdb.__version__}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of the candidate")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (median of)")
    parser.add_argument("--reads", type=int, default=10, help="reads of each contender a round")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS processes")
    parser.add_argument("--profile", action="store_true", help="cProfile a new publish and read")
    parser.add_argument("--top", type=int, default=30, help="profile lines printed")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.dir, args.probe)
        return

    root = Path(tempfile.mkdtemp(prefix="bench_ports_"))
    try:
        started, load_before = time.perf_counter(), os.getloadavg()
        build(root, args.rows)
        bench = Bench(root)
        assert warehouse(bench.new_home) == f"file://{bench.new_home.resolve()}/lake", (
            "a PYICEBERG_CATALOG__MESH__* setting points the catalog elsewhere"
        )
        bench.old_publish()  # untimed: the first snapshot, the table created, caches warm
        bench.new_publish()
        times, splits = run_rounds(bench, args)
        rss = {} if args.no_rss else probe_all(root, bench, args)
        load_after = os.getloadavg()
        result = report(args, times, splits, rss, load_before, load_after,
                        time.perf_counter() - started)  # fmt: skip
        if args.profile:
            profile(root, bench, args.top)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str))
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
