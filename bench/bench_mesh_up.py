"""Benchmark: `mesh up` against a raw baseline running the same SQL straight in DuckDB.

For each scale: a fresh MESH_HOME, `mesh generate --scale S --seed 42` once (timed, printed apart),
the landing zone copied to a second home so both contenders read identical input, `mesh prepare`
once (untimed) so the measured `mesh up` is the steady state, then per repeat:

* mesh: `mesh up` as a subprocess with MESH_HOME set, wall clock; it must exit 0.
* raw: one Python process, one DuckDB connection with every domain's file ATTACHed, loading each
  landing input port into raw.<entity> with one typed CREATE TABLE AS over all its files (the
  mesh's ingestion without its per-file checks and quarantine), executing the dbt projects' own
  compiled model SQL in dependency order and COPYing each output port to Parquet
  (see raw_baseline.py). The SQL comes from `dbt compile`, run once and untimed. The dbt data
  tests `mesh up` also runs (`dbt build`) are timed apart ("raw+tests"); the ratio uses ingestion,
  models and ports only.

Reports the median of the repeats per contender and scale, the ratio mesh / raw and whether it
falls as the scale grows, checks that every port and every raw.<entity> table has the same row
count in both (exit 1 when not), and writes bench/results/mesh_up.json.

    uv run python bench/bench_mesh_up.py --scales 1,10      # the figures in bench/README.md
    uv run python bench/bench_mesh_up.py --scales 0.2       # smoke run, well under 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import raw_baseline  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "mesh_up.json"
MESH = REPO / ".venv" / "bin" / "mesh"
SEED = 42
TARGET_SCALE, TARGET_SECONDS = 1.0, 60.0  # the target reported against: `mesh up` at scale 1 < 60 s
EXPECTED_PORTS = {
    "customers/customer_profiles",
    "catalog/products",
    "catalog/promotions",
    "sales/order_lines",
    "sales/daily_revenue",
    "web/product_interactions",
    "personalization/customer_features",
}


class BenchError(Exception):
    """A contender failed or the two disagree: the benchmark's figures cannot be trusted."""


def log(msg: str) -> None:
    print(msg, flush=True)


def load() -> float:
    """1-minute load average: other work on the machine's 2 cores skews both contenders."""
    return os.getloadavg()[0]


def mesh_env(home: Path) -> dict[str, str]:
    """The environment of a mesh subprocess: its own MESH_HOME and Dagster instance, quiet dbt."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "MESH_PROJECT_ROOT")}
    env |= raw_baseline.QUIET_DBT_ENV | {
        "MESH_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "true",
        # The raw baseline runs the SQL only: model training (issue 5) is left out of both.
        "MESH_ML": "off",
    }
    return env


def run_mesh(home: Path, args: list[str], logfile: Path, timeout: float) -> tuple[int, float, str]:
    """Run `mesh <args>` with MESH_HOME=home; returns (exit code, wall seconds, output).

    The child gets its own process group so a timeout ends it and everything it started.
    """
    started = time.perf_counter()
    with logfile.open("w") as out:
        proc = subprocess.Popen(
            [str(MESH), *args],
            env=mesh_env(home),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            code = -999
    seconds = time.perf_counter() - started
    return code, seconds, logfile.read_text(errors="replace")


def domain_seconds(output: str) -> dict[str, float]:
    """Per-domain seconds `mesh up` printed ("<domain>: ok in 12.3s")."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+): \S*ok\S* in ([\d.]+)s", output, re.M)}


def mesh_port_rows(home: Path) -> dict[str, int]:
    """Rows of every published port, as `mesh ports --format json` reports them."""
    proc = subprocess.run(
        [str(MESH), "ports", "--format", "json"],
        env=mesh_env(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise BenchError(
            f"`mesh ports --format json` exited {proc.returncode}:\n{proc.stderr[-2000:]}"
        )
    return {
        f"{p['domain']}/{p['product']}": int(p["rows"]) for p in json.loads(proc.stdout)["ports"]
    }


def mesh_raw_rows(home: Path, compiled: dict) -> dict[str, int]:
    """Rows of every ``raw.<entity>`` table the mesh's ingestion loaded, read from its warehouse."""
    import duckdb

    rows = {}
    for d, sql in compiled.items():
        if not sql.sources:
            continue
        with duckdb.connect(str(home / "warehouse" / f"{d}.duckdb"), read_only=True) as con:
            for source in sql.sources:
                row = con.execute(f'SELECT count(*) FROM raw."{source.entity}"').fetchone()
                rows[f"{d}/{source.entity}"] = int(row[0]) if row else 0
    return rows


def timed_mesh_up(home: Path, logfile: Path, timeout: float, retry_wait: float) -> dict:
    """One measured `mesh up`; a failure is retried once after ``retry_wait`` s, then raised."""
    for attempt in (1, 2):
        code, seconds, out = run_mesh(home, ["up"], logfile, timeout)
        if code == 0:
            return {"seconds": seconds, "domains": domain_seconds(out), "attempt": attempt}
        reason = "timed out" if code == -999 else f"exited {code}"
        tail = "\n".join(out.splitlines()[-25:])
        if attempt == 2:
            raise BenchError(
                f"`mesh up` {reason} after {seconds:.1f}s twice; log {logfile}:\n{tail}"
            )
        log(
            f"  ! mesh up {reason} after {seconds:.1f}s; retrying once in {retry_wait:.0f}s. "
            f"Tail:\n{tail}"
        )
        time.sleep(retry_wait)
    raise AssertionError("unreachable")


def check_order(compiled: dict, order: list[str]) -> None:
    """The baseline's domain order must put every producer before the domains reading its ports."""
    import yaml

    seen: set[str] = set()
    for d in order:
        for path in (REPO / "domains" / d / "products").glob("*.yaml"):
            for inp in (yaml.safe_load(path.read_text()) or {}).get("input_ports", []):
                producer = str(inp.get("product", "")).split("/")[0]
                if inp.get("kind") == "port" and producer not in (d, *seen):
                    raise BenchError(
                        f"domain order {order}: {d} reads {inp['product']} before it is built"
                    )
        seen.add(d)
    missing = set(compiled) ^ set(order)
    if missing:
        raise BenchError(f"domain order and domains differ: {sorted(missing)}")


def bench_scale(scale: float, root: Path, compiled: dict, args: argparse.Namespace) -> dict:
    """Generate once, then time `repeat` mesh and raw runs on identical landing data."""
    base = root / f"scale-{scale:g}"
    mesh_home, raw_home = base / "mesh", base / "raw"
    mesh_home.mkdir(parents=True)
    log(f"\n== scale {scale:g}: MESH_HOME {mesh_home}")

    code, gen_s, out = run_mesh(
        mesh_home,
        ["generate", "--scale", f"{scale:g}", "--seed", str(SEED)],
        base / "generate.log",
        args.timeout,
    )
    if code != 0:
        raise BenchError(f"`mesh generate` exited {code}:\n{out[-2000:]}")
    log(f"  generate (not part of either contender): {gen_s:.1f}s")
    shutil.copytree(mesh_home / "landing", raw_home / "landing")

    code, prep_s, out = run_mesh(mesh_home, ["prepare"], base / "prepare.log", args.timeout)
    if code != 0:
        raise BenchError(f"`mesh prepare` exited {code}:\n{out[-2000:]}")
    log(
        "  mesh prepare, run once before timing so `mesh up` is measured in steady state: "
        f"{prep_s:.1f}s"
    )

    mesh_runs, raw_runs = [], []
    for i in range(1, args.repeat + 1):
        m: dict = {"load_before": load()}
        m |= timed_mesh_up(mesh_home, base / f"mesh-up-{i}.log", args.timeout, args.retry_wait)
        per_domain = ", ".join(f"{d} {s:.1f}" for d, s in m["domains"].items())
        log(
            f"  run {i}/{args.repeat} mesh up: {m['seconds']:.1f}s "
            f"(per domain, s: {per_domain or 'n/a'}; "
            f"load before {m['load_before']:.2f})"
        )
        mesh_runs.append(m)
        raw_load = load()
        r = raw_baseline.run_baseline(raw_home, compiled, raw_baseline.DOMAIN_ORDER, run_tests=True)
        r["load_before"] = raw_load
        if r["test_failures"]:
            raise BenchError(f"raw baseline: dbt data tests failed: {r['test_failures']}")
        ingest = ", ".join(f"{d} {s:.2f}" for d, s in r["ingest_seconds"].items())
        log(
            f"  run {i}/{args.repeat} raw:     {r['seconds']:.2f}s ingest+models+ports "
            f"(ingest, s: {ingest}), +{r['test_seconds']:.2f}s for {r['tests']} data tests "
            f"(load before {raw_load:.2f})"
        )
        raw_runs.append(r)

    mesh_rows = mesh_port_rows(mesh_home)
    raw_rows = raw_runs[-1]["ports"]
    problems = [
        f"{p}: mesh {mesh_rows.get(p)} rows, raw {raw_rows.get(p)} rows"
        for p in sorted(EXPECTED_PORTS | set(mesh_rows) | set(raw_rows))
        if mesh_rows.get(p) is None or mesh_rows.get(p) != raw_rows.get(p)
    ]
    mesh_ingested = mesh_raw_rows(mesh_home, compiled)
    raw_ingested = raw_runs[-1]["raw_rows"]
    problems += [
        f"raw.{e}: mesh {mesh_ingested.get(e)} rows, raw {raw_ingested.get(e)} rows"
        for e in sorted(set(mesh_ingested) | set(raw_ingested))
        if mesh_ingested.get(e) is None or mesh_ingested.get(e) != raw_ingested.get(e)
    ]
    mesh_s = statistics.median(m["seconds"] for m in mesh_runs)
    raw_s = statistics.median(r["seconds"] for r in raw_runs)
    return {
        "scale": scale,
        "order_lines": mesh_rows.get("sales/order_lines"),
        "generate_seconds": round(gen_s, 2),
        "prepare_seconds": round(prep_s, 2),
        "mesh_seconds": round(mesh_s, 2),
        "raw_seconds": round(raw_s, 3),
        "raw_with_tests_seconds": round(
            statistics.median(r["seconds"] + r["test_seconds"] for r in raw_runs), 3
        ),
        "ratio": round(mesh_s / raw_s, 1),
        "mesh_runs": [
            {
                "seconds": round(m["seconds"], 2),
                "domains": m["domains"],
                "attempt": m["attempt"],
                "load_before": round(m["load_before"], 2),
            }
            for m in mesh_runs
        ],
        "raw_runs": [
            {
                "seconds": round(r["seconds"], 3),
                "test_seconds": round(r["test_seconds"], 3),
                "tests": r["tests"],
                "domains": r["domains"],
                "ingest_seconds": r["ingest_seconds"],
                "load_before": round(r["load_before"], 2),
            }
            for r in raw_runs
        ],
        "port_rows": mesh_rows,
        "raw_table_rows": mesh_ingested,
        "row_count_mismatches": problems,
    }


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {
        p: metadata.version(p)
        for p in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt")
    }
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": versions,
    }


def code_state() -> dict:
    """The commit measured and the files changed over it: the platform changes under benchmarks."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
        return proc.stdout.rstrip()

    changed = git("status", "--porcelain", "--", "platform", "domains", "dagster_project")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted": changed.splitlines()}


def table(results: list[dict]) -> str:
    head = (
        f"{'scale':>6} {'order_lines':>12} {'mesh s':>8} {'raw s':>8} {'ratio':>7} "
        f"{'raw+tests s':>12}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        lines = f"{r['order_lines']:,}" if r["order_lines"] is not None else "?"
        rows.append(
            f"{r['scale']:>6g} {lines:>12} {r['mesh_seconds']:>8.1f} {r['raw_seconds']:>8.2f} "
            f"{r['ratio']:>6.1f}x {r['raw_with_tests_seconds']:>12.2f}"
        )
    return "\n".join(rows)


def trend(results: list[dict]) -> str:
    if len(results) < 2:
        return "ratio trend: needs two or more scales"
    ratios = [r["ratio"] for r in results]
    path = " -> ".join(f"{r['ratio']:.1f}x @ {r['scale']:g}" for r in results)
    if all(b < a for a, b in zip(ratios, ratios[1:], strict=False)):
        return f"ratio FALLS as the scale grows ({path}): the mesh's overhead is mostly fixed cost"
    if all(b > a for a, b in zip(ratios, ratios[1:], strict=False)):
        return f"ratio RISES as the scale grows ({path}): the mesh's overhead grows with the data"
    return f"ratio does not fall steadily with scale ({path})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", default="1,10", help="comma-separated data scales (default 1,10)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per contender and scale; the median is kept"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds one mesh command may take"
    )
    parser.add_argument(
        "--retry-wait", type=float, default=60, help="seconds before retrying a failed mesh up"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary MESH_HOMEs and logs"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the JSON results"
    )
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scales.split(",") if s.strip())
    if not MESH.exists():
        log(f"error: {MESH} not found; run `uv sync` first")
        return 2

    code_at_start = code_state()
    root = Path(tempfile.mkdtemp(prefix="mesh-bench-"))
    results: list[dict] = []
    failed: str | None = None
    try:
        log(f"compiling the dbt projects for the raw baseline (untimed) in {root / 'compile'}")
        started = time.perf_counter()
        compiled = raw_baseline.compile_domains(
            REPO, raw_baseline.DOMAIN_ORDER, root / "compile", args.timeout
        )
        check_order(compiled, raw_baseline.DOMAIN_ORDER)
        log(
            f"  compiled {sum(len(c.models) for c in compiled.values())} models "
            f"in {time.perf_counter() - started:.1f}s"
        )
        for scale in scales:
            results.append(bench_scale(scale, root, compiled, args))
    except (BenchError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        failed = str(exc)
    finally:
        if args.keep:
            log(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    if results:
        log(
            "\n`mesh up` vs raw DuckDB (same compiled SQL, same landing data), median of "
            f"{args.repeat} run(s), {os.cpu_count()} cores"
        )
        log(table(results))
        log(trend(results))
        at_target = [r for r in results if r["scale"] == TARGET_SCALE]
        for r in at_target:
            verdict = "MEETS" if r["mesh_seconds"] < TARGET_SECONDS else "MISSES"
            log(
                f"target `mesh up` at scale 1 < {TARGET_SECONDS:.0f}s: {verdict} "
                f"({r['mesh_seconds']:.1f}s)"
            )
        log(
            "mesh s = wall clock of `mesh up` (process start to exit, manifests already prepared: "
            "includes ingestion, dbt tests and port publishing); raw s = plain ingestion + "
            "models + port Parquet only; raw+tests s adds the same dbt data tests run as plain "
            "queries."
        )
    mismatches = [f"scale {r['scale']:g}: {p}" for r in results for p in r["row_count_mismatches"]]
    for m in mismatches:
        log(f"error: row counts differ: {m}")
    if failed:
        log(f"error: {failed}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "mesh_up",
                "command": "uv run python bench/bench_mesh_up.py " + " ".join(sys.argv[1:]),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "code": code_at_start,
                "seed": SEED,
                "repeat": args.repeat,
                "results": results,
                "ratio_trend": trend(results),
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
