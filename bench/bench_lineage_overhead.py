"""Benchmark: what OpenLineage emission costs `mesh up`, and an upstream query over 100k events.

For each scale: `mesh generate --scale S --seed 42` once (untimed) into a generator home under
/tmp. Then ``--repeat`` rounds, each one `mesh up` with lineage on (the default) and one with
``MESH_LINEAGE=off`` (emission skipped entirely), the order alternating from round to round
(on/off, off/on, ...) to spread the shared machine's noise. Every run gets its own fresh
MESH_HOME holding a copy of the generated landing zone, `mesh prepare` (untimed), then the timed
`mesh up` (subprocess in its own process group, wall clock, must exit 0; helpers from
bench_mesh_up.py). The 1-minute load average is recorded before each run.

Reported per scale: median seconds on and off, the overhead (seconds and percent), the events
the "on" runs appended to ``$MESH_HOME/lineage/events.jsonl`` and the overhead per event. Checked
cheaply: every port has the same row count in every run (`mesh ports --format json`), the "on"
runs logged events and the "off" runs none (exit 1 otherwise).

Then bench_lineage_query.py runs as is (``--query-events``, default 100k) and its upstream-query
figures are printed beside the overhead. Everything goes to bench/results/lineage_overhead.json.

    uv run python bench/bench_lineage_overhead.py --scales 1 --repeat 2   # README figures (~8 min)
    uv run python bench/bench_lineage_overhead.py --scales 0.1 --repeat 1 # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lineage_query  # noqa: E402
import bench_mesh_up as up  # noqa: E402

REPO = up.REPO
RESULTS = REPO / "bench" / "results" / "lineage_overhead.json"
QUERY_SCRIPT = Path(bench_lineage_query.__file__).resolve()
MODES = ("on", "off")


def log(msg: str) -> None:
    print(msg, flush=True)


@contextmanager
def lineage_mode(mode: str):
    """MESH_LINEAGE for the mesh subprocesses (bench_mesh_up.mesh_env copies os.environ)."""
    before = os.environ.get("MESH_LINEAGE")
    os.environ["MESH_LINEAGE"] = mode
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MESH_LINEAGE", None)
        else:
            os.environ["MESH_LINEAGE"] = before


def count_events(home: Path) -> int:
    """Lines of the run's lineage log (0 when there is none)."""
    path = home / "lineage" / "events.jsonl"
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for _ in f)


def one_run(mode: str, landing: Path, home: Path, logs: Path, args: argparse.Namespace) -> dict:
    """A fresh home with a copy of the landing zone, `mesh prepare` untimed, timed `mesh up`."""
    shutil.copytree(landing, home / "landing")
    with lineage_mode(mode):
        code, prep_s, out = up.run_mesh(home, ["prepare"], logs / "prepare.log", args.timeout)
        if code != 0:
            raise up.BenchError(f"`mesh prepare` ({mode}) exited {code}:\n{out[-2000:]}")
        events_before = count_events(home)
        run: dict = {"mode": mode, "prepare_seconds": round(prep_s, 2), "load_before": up.load()}
        run |= up.timed_mesh_up(home, logs / "mesh-up.log", args.timeout, args.retry_wait)
        del run["output"]  # the log stays in the logs folder
        run["events"] = count_events(home) - events_before
        run["port_rows"] = up.mesh_port_rows(home)
    return run


def bench_scale(scale: float, root: Path, args: argparse.Namespace) -> dict:
    base = root / f"scale-{scale:g}"
    gen_home = base / "generate"
    gen_home.mkdir(parents=True)
    log(f"\n== scale {scale:g}: generator home {gen_home}")
    code, gen_s, out = up.run_mesh(
        gen_home,
        ["generate", "--scale", f"{scale:g}", "--seed", str(up.SEED)],
        base / "generate.log",
        args.timeout,
    )
    if code != 0:
        raise up.BenchError(f"`mesh generate` exited {code}:\n{out[-2000:]}")
    log(f"  generate (untimed, once): {gen_s:.1f}s")

    runs: list[dict] = []
    for i in range(1, args.repeat + 1):
        order = MODES if i % 2 else MODES[::-1]
        for mode in order:
            home, logs = base / f"{mode}-{i}", base / f"logs-{mode}-{i}"
            logs.mkdir()
            r = one_run(mode, gen_home / "landing", home, logs, args)
            r["round"] = i
            log(
                f"  round {i}/{args.repeat} lineage {mode:>3}: mesh up {r['seconds']:.1f}s, "
                f"{r['events']} events (prepare {r['prepare_seconds']:.1f}s untimed; "
                f"load before {r['load_before']:.2f})"
            )
            runs.append(r)
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)

    on = [r for r in runs if r["mode"] == "on"]
    off = [r for r in runs if r["mode"] == "off"]
    on_s = statistics.median(r["seconds"] for r in on)
    off_s = statistics.median(r["seconds"] for r in off)
    events = round(statistics.median(r["events"] for r in on))
    overhead = on_s - off_s
    paired = [a["seconds"] - b["seconds"] for a, b in zip(on, off, strict=True)]

    problems = []
    reference = on[0]["port_rows"]
    for r in runs:
        for p in sorted(up.EXPECTED_PORTS | set(reference) | set(r["port_rows"])):
            if r["port_rows"].get(p) is None or r["port_rows"].get(p) != reference.get(p):
                problems.append(
                    f"{p}: {r['mode']} round {r['round']} {r['port_rows'].get(p)} rows, "
                    f"on round 1 {reference.get(p)} rows"
                )
    problems += [f"lineage on, round {r['round']}: no events logged" for r in on if not r["events"]]
    problems += [
        f"lineage off, round {r['round']}: {r['events']} events logged" for r in off if r["events"]
    ]
    return {
        "scale": scale,
        "order_lines": reference.get("sales/order_lines"),
        "generate_seconds": round(gen_s, 2),
        "on_seconds": round(on_s, 2),
        "off_seconds": round(off_s, 2),
        "overhead_seconds": round(overhead, 2),
        "overhead_percent": round(100 * overhead / off_s, 1),
        "paired_overhead_seconds": [round(d, 2) for d in paired],
        "events": events,
        "ms_per_event": round(1000 * overhead / events, 2) if events else None,
        "runs": [
            {
                k: (round(v, 2) if isinstance(v, float) else v)
                for k, v in r.items()
                if k != "port_rows"
            }
            for r in runs
        ],
        "port_rows": reference,
        "row_count_mismatches": problems,
    }


def query_benchmark(args: argparse.Namespace) -> dict:
    """bench_lineage_query.py as it is (its own process); its figures from its JSON."""
    load_before = up.load()
    cmd = [sys.executable, str(QUERY_SCRIPT), "--events", str(args.query_events)]
    log(f"\n== upstream query benchmark: {' '.join(cmd[1:])} (load before {load_before:.2f})")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=args.timeout)
    for line in proc.stdout.splitlines():
        log(f"  {line}")
    if proc.returncode != 0:
        raise up.BenchError(
            f"bench_lineage_query.py exited {proc.returncode}:\n{proc.stderr[-2000:]}"
        )
    figures = json.loads(bench_lineage_query.RESULTS.read_text())
    figures["load_before"] = round(load_before, 2)
    return figures


def table(results: list[dict], query: dict | None, repeat: int) -> str:
    head = (
        f"{'scale':>6} {'on s':>7} {'off s':>7} {'overhead s':>11} {'overhead %':>11} "
        f"{'events':>7} {'ms/event':>9}"
    )
    rows = [f"`mesh up`, lineage on vs MESH_LINEAGE=off, median of {repeat}", head]
    rows.append("-" * len(head))
    for r in results:
        per = f"{r['ms_per_event']:.1f}" if r["ms_per_event"] is not None else "n/a"
        rows.append(
            f"{r['scale']:>6g} {r['on_seconds']:>7.1f} {r['off_seconds']:>7.1f} "
            f"{r['overhead_seconds']:>+11.1f} {r['overhead_percent']:>+10.1f}% "
            f"{r['events']:>7,} {per:>9}"
        )
    if query:
        q = query["queries"]
        rows.append(
            f"upstream query over {query['events']:,} events (store synced in "
            f"{query['sync_s']:.1f}s), median of {query['repeat']}:"
        )
        for name in ("dataset", "column", "dataset_depth3"):
            if name in q:
                rows.append(
                    f"  {name:<15} {q[name]['median_s'] * 1000:>7.1f} ms "
                    f"({q[name]['nodes']:,} datasets, {q[name]['edges']:,} edges)"
                )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1", help="comma-separated data scales (default 1)")
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds of one on and one off run (default 2)"
    )
    parser.add_argument(
        "--query-events", type=int, default=100_000, help="events of the upstream-query log"
    )
    parser.add_argument("--skip-query", action="store_true", help="leave out the query benchmark")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds one mesh command may take"
    )
    parser.add_argument(
        "--retry-wait", type=float, default=60, help="seconds before retrying a failed mesh up"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes and logs")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scales.split(",") if s.strip())
    if not up.MESH.exists():
        log(f"error: {up.MESH} not found; run `uv sync` first")
        return 2

    code_at_start = up.code_state()
    root = Path(tempfile.mkdtemp(prefix="mesh-bench-lineage-"))
    results: list[dict] = []
    query: dict | None = None
    failed: str | None = None
    try:
        for scale in scales:
            results.append(bench_scale(scale, root, args))
        if not args.skip_query:
            query = query_benchmark(args)
    except (up.BenchError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        failed = str(exc)
    finally:
        if args.keep:
            log(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    log("")
    log(table(results, query, args.repeat))
    mismatches = [f"scale {r['scale']:g}: {p}" for r in results for p in r["row_count_mismatches"]]
    for m in mismatches:
        log(f"error: {m}")
    if failed:
        log(f"error: {failed}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "lineage_overhead",
                "command": "uv run python bench/bench_lineage_overhead.py "
                + " ".join(sys.argv[1:]),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": up.machine(),
                "code": code_at_start,
                "seed": up.SEED,
                "repeat": args.repeat,
                "results": results,
                "upstream_query": query,
                "error": failed,
            },
            indent=2,
        )
        + "\n"
    )
    log(f"results written to {args.output}")
    return 1 if failed or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
