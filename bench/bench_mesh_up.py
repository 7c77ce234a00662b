"""Benchmark: the whole `mesh up` (models included) against the same work done by one plain script.

For each scale: a fresh MESH_HOME, `mesh generate --scale S --seed 42` once (timed, printed apart),
the landing zone copied to a second home so both contenders read identical input, `mesh prepare`
once (untimed) so the measured `mesh up` is the steady state, then per repeat:

* mesh: `mesh up` as a subprocess (what `make demo` runs: every domain, its models trained, gated
  and scored), wall clock and peak memory of its process tree; it must exit 0. Where its time
  went, per domain and per step, is read from what the platform records (up_timings.py: the
  Dagster instance's runs and steps, the dbt step's ``mesh/timing`` log entry, dbt's
  run_results.json, `mesh up`'s progress lines).
* raw: bench/plain_ml.py --manifests, ONE Python process: every domain's ingestion (one typed
  CREATE TABLE AS per landing port), the dbt projects' own compiled SQL (the manifests the first
  measured `mesh up` wrote, never re-typed) and data tests in one DuckDB connection, the ports
  COPYed to Parquet (raw_baseline.py), then every declared model read, tuned (the same trials,
  timeout and search space as the mesh), fit, evaluated and scored to Parquet. Wall clock and
  peak memory of the process.

Reports the median of the repeats per contender and scale, the ratio mesh / raw, peak memory of
both, the mesh's time per domain and step, checks that every port (model predictions included)
and every raw.<entity> table has the same row count in both (exit 1 when not), and writes
bench/results/mesh_up.json. It fits LightGBM: run it under the machine's heavy lock.

    flock /tmp/mesh-heavy.lock uv run python bench/bench_mesh_up.py               # scales 1, 10
    flock /tmp/mesh-heavy.lock uv run python bench/bench_mesh_up.py --scales 1 --repeat 3
    flock /tmp/mesh-heavy.lock uv run python bench/bench_mesh_up.py --scales '' --with-100
    flock /tmp/mesh-heavy.lock uv run python bench/bench_mesh_up.py --without-models  # SQL only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import raw_baseline  # noqa: E402
import up_timings  # noqa: E402
from measure import measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "mesh_up.json"
MESH = REPO / ".venv" / "bin" / "mesh"
PYTHON = REPO / ".venv" / "bin" / "python"
SEED = 42
GIB = 1024**3
EXPECTED_PORTS = {
    "customers/customer_profiles",
    "catalog/products",
    "catalog/promotions",
    "sales/order_lines",
    "sales/daily_revenue",
    "web/product_interactions",
    "personalization/customer_features",
}
MODEL_PORTS = {
    "sales/units_forecast",
    "personalization/churn_scores",
    "personalization/recommendations",
}
# Issue 17's targets, by scale: (seconds with models, ratio with models, ratio without models).
TARGETS = {1.0: (20.0, None, 8.0), 10.0: (60.0, 3.0, None), 100.0: (600.0, 1.5, None)}
TARGET_RSS_GIB = 8.0  # at scale 100


class BenchError(Exception):
    """A contender failed or the two disagree: the benchmark's figures cannot be trusted."""


def log(msg: str) -> None:
    print(msg, flush=True)


def load() -> float:
    """1-minute load average: other work on the machine's 2 cores skews both contenders."""
    return os.getloadavg()[0]


def mesh_env(home: Path, models: bool = False) -> dict[str, str]:
    """The environment of a mesh subprocess: its own MESH_HOME and Dagster instance, quiet dbt.

    ``models``: train and score the declared models (else ``MESH_ML=off``: SQL only).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "MESH_PROJECT_ROOT")}
    env |= raw_baseline.QUIET_DBT_ENV | {
        "MESH_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "MESH_ML": "off",
    }
    if models:
        env.pop("MESH_ML")
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


def timed_mesh_up(
    home: Path, logfile: Path, timeout: float, retry_wait: float, models: bool = False
) -> dict:
    """One measured `mesh up`; a failure is retried once after ``retry_wait`` s, then raised.

    Returns wall seconds, peak memory (measure.measured), per-domain seconds and the output.
    """
    for attempt in (1, 2):
        run = measured([str(MESH), "up"], mesh_env(home, models), logfile, timeout)
        out = logfile.read_text(errors="replace")
        if run["code"] == 0:
            return run | {"domains": domain_seconds(out), "attempt": attempt, "output": out}
        tail = "\n".join(out.splitlines()[-25:])
        seconds = run["seconds"]
        if attempt == 2:
            raise BenchError(
                f"`mesh up` exited {run['code']} after {seconds:.1f}s twice; log {logfile}:\n{tail}"
            )
        log(
            f"  ! mesh up exited {run['code']} after {seconds:.1f}s; retrying once in "
            f"{retry_wait:.0f}s. Tail:\n{tail}"
        )
        time.sleep(retry_wait)
    raise AssertionError("unreachable")


def save_manifests(home: Path, folder: Path) -> dict[str, Path]:
    """Copy the manifest each domain's last dbt build compiled: the SQL the raw script runs."""
    saved = {}
    for d in raw_baseline.DOMAIN_ORDER:
        target = folder / d / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw_baseline.latest_manifest(home, d), target)
        saved[d] = target
    return saved


def run_plain(home: Path, base: Path, i: int, args: argparse.Namespace) -> dict:
    """One measured plain run: bench/plain_ml.py over the saved manifests, one process."""
    logfile = base / f"raw-{i}.log"
    cmd = [str(PYTHON), str(REPO / "bench" / "plain_ml.py"), "--home", str(home)]
    cmd += ["--manifests", str(base / "compiled"), "--out", str(base / "raw-out")]
    cmd += ["--no-models"] if args.without_models else []
    run = measured(cmd, mesh_env(home), logfile, args.timeout)
    lines = [ln for ln in logfile.read_text(errors="replace").splitlines() if ln.startswith("{")]
    if run["code"] != 0 or not lines:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
        raise BenchError(f"plain_ml.py exited {run['code']}; log {logfile}:\n{tail}")
    return json.loads(lines[-1]) | run


def mesh_breakdown(home: Path, run: dict) -> dict:
    """Where one `mesh up`'s time went, from the instance and logs it left (up_timings.py)."""
    runs = up_timings.instance_runs(PYTHON, mesh_env(home), run["started_at"])
    return up_timings.breakdown(home, runs, run["output"], run["started_at"], run["seconds"])


def bytecode_problem() -> str | None:
    """Why every measured process would compile its imports from source, or None.

    With PYTHONDONTWRITEBYTECODE set (this machine's environment sets it) and a venv synced
    without ``--compile-bytecode``, each dbt, Dagster and Python process compiles every module
    it imports: 28 s of a profiled scale-1 `mesh up`'s 150 s of samples (bench/README.md).
    """
    import mesh_platform.cli

    probes = [Path(sysconfig.get_paths()["purelib"]) / "dbt" / "cli" / "main.py",
              Path(mesh_platform.cli.__file__)]  # fmt: skip
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return None
    if all(Path(importlib.util.cache_from_source(str(p))).exists() for p in probes):
        return None
    return (
        "PYTHONDONTWRITEBYTECODE is set and the venv or the platform holds no bytecode: every "
        "process would compile its imports. Run `make bootstrap` (uv sync --compile-bytecode, "
        "compileall of the workspace packages) first."
    )


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


def prepare_scale(scale: float, base: Path, args: argparse.Namespace) -> float:
    """Generate the landing data once, copy it for the raw script, prepare dbt (untimed)."""
    mesh_home, raw_home = base / "mesh", base / "raw"
    mesh_home.mkdir(parents=True)
    log(f"\n== scale {scale:g}: MESH_HOME {mesh_home}")
    gen = ["generate", "--scale", f"{scale:g}", "--seed", str(SEED)]
    code, gen_s, out = run_mesh(mesh_home, gen, base / "generate.log", args.timeout)
    if code != 0:
        raise BenchError(f"`mesh generate` exited {code}:\n{out[-2000:]}")
    log(f"  generate (not part of either contender): {gen_s:.1f}s")
    shutil.copytree(mesh_home / "landing", raw_home / "landing")
    code, prep_s, out = run_mesh(mesh_home, ["prepare"], base / "prepare.log", args.timeout)
    if code != 0:
        raise BenchError(f"`mesh prepare` exited {code}:\n{out[-2000:]}")
    log(f"  mesh prepare, once before timing so `mesh up` is the steady state: {prep_s:.1f}s")
    return gen_s


def one_repeat(base: Path, i: int, args: argparse.Namespace) -> tuple[dict, dict]:
    """One measured `mesh up`, then one measured plain run, with the load before each."""
    mesh_home, raw_home = base / "mesh", base / "raw"
    load_before = load()
    m = timed_mesh_up(
        mesh_home, base / f"mesh-up-{i}.log", args.timeout, args.retry_wait,
        models=not args.without_models,
    )  # fmt: skip
    m["load_before"], m["load_after"] = load_before, load()
    m["breakdown"] = mesh_breakdown(mesh_home, m)
    del m["output"]
    log(
        f"  run {i} mesh up: {m['seconds']:.1f}s, peak RSS {m['peak_rss_tree'] / GIB:.2f} GiB "
        f"(PSS {m['peak_pss_tree'] / GIB:.2f}), load {load_before:.2f} -> {m['load_after']:.2f}"
    )
    if i == 1:
        save_manifests(mesh_home, base / "compiled")
    load_before = load()
    r = run_plain(raw_home, base, i, args)
    r["load_before"], r["load_after"] = load_before, load()
    if r["sql"]["test_failures"]:
        raise BenchError(f"raw: dbt data tests failed: {r['sql']['test_failures']}")
    log(
        f"  run {i} raw:     {r['seconds']:.1f}s, peak RSS {r['peak_rss_tree'] / GIB:.2f} GiB; "
        f"stages: {raw_stages(r)}; load {load_before:.2f} -> {r['load_after']:.2f}"
    )
    return m, r


def raw_stages(r: dict) -> str:
    """The plain run's stages in seconds: SQL (ingest, models, ports), tests, each model."""
    parts = [f"sql {r['sql']['seconds']:.1f}", f"tests {r['sql']['test_seconds']:.1f}"]
    parts += [f"{k} {sum(v['seconds'].values()):.1f}" for k, v in r["models"].items()]
    return ", ".join(parts)


def row_mismatches(base: Path, raw: dict, models: bool) -> tuple[dict, dict, list[str]]:
    """Rows of every port and raw.<entity> table in both contenders; the differences."""
    mesh_home = base / "mesh"
    compiled = raw_baseline.load_domains(
        REPO, {d: base / "compiled" / d / "manifest.json" for d in raw_baseline.DOMAIN_ORDER}
    )
    check_order(compiled, raw_baseline.DOMAIN_ORDER)  # the raw run built producers first
    mesh_rows, raw_rows = mesh_port_rows(mesh_home), raw["ports"]
    expected = EXPECTED_PORTS | (MODEL_PORTS if models else set())
    problems = [
        f"{p}: mesh {mesh_rows.get(p)} rows, raw {raw_rows.get(p)} rows"
        for p in sorted(expected | set(mesh_rows) | set(raw_rows))
        if mesh_rows.get(p) is None or mesh_rows.get(p) != raw_rows.get(p)
    ]
    mesh_ingested, raw_ingested = mesh_raw_rows(mesh_home, compiled), raw["sql"]["raw_rows"]
    problems += [
        f"raw.{e}: mesh {mesh_ingested.get(e)} rows, raw {raw_ingested.get(e)} rows"
        for e in sorted(set(mesh_ingested) | set(raw_ingested))
        if mesh_ingested.get(e) is None or mesh_ingested.get(e) != raw_ingested.get(e)
    ]
    return mesh_rows, mesh_ingested, problems


def bench_scale(scale: float, root: Path, args: argparse.Namespace) -> dict:
    """Generate once, then ``repeat`` alternating mesh and raw runs on identical landing data."""
    base = root / f"scale-{scale:g}"
    gen_s = prepare_scale(scale, base, args)
    runs = [one_repeat(base, i, args) for i in range(1, args.repeat + 1)]
    mesh_runs, raw_runs = [m for m, _ in runs], [r for _, r in runs]
    port_rows, table_rows, problems = row_mismatches(base, raw_runs[-1], not args.without_models)
    mesh_s = statistics.median(m["seconds"] for m in mesh_runs)
    raw_s = statistics.median(r["seconds"] for r in raw_runs)
    median = sorted(mesh_runs, key=lambda m: m["seconds"])[(len(mesh_runs) - 1) // 2]
    return {
        "scale": scale,
        "order_lines": port_rows.get("sales/order_lines"),
        "generate_seconds": round(gen_s, 2),
        "mesh_seconds": round(mesh_s, 2),
        "raw_seconds": round(raw_s, 2),
        "ratio": round(mesh_s / raw_s, 2),
        "mesh_peak_rss_tree": max(m["peak_rss_tree"] for m in mesh_runs),
        "mesh_peak_pss_tree": max(m["peak_pss_tree"] for m in mesh_runs),
        "raw_peak_rss_tree": max(r["peak_rss_tree"] for r in raw_runs),
        "load_before": [round(x["load_before"], 2) for pair in runs for x in pair],
        "breakdown": median["breakdown"],
        "mesh_runs": mesh_runs,
        "raw_runs": raw_runs,
        "port_rows": port_rows,
        "raw_table_rows": table_rows,
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
        f"{'scale':>6} {'order_lines':>12} {'mesh s':>8} {'raw s':>7} {'ratio':>7} "
        f"{'mesh RSS GiB':>12} {'(PSS)':>6} {'raw RSS GiB':>11}  load before (mesh, raw)"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        lines = f"{r['order_lines']:,}" if r["order_lines"] is not None else "?"
        loads = ", ".join(f"{x:.1f}" for x in r["load_before"])
        rows.append(
            f"{r['scale']:>6g} {lines:>12} {r['mesh_seconds']:>8.1f} {r['raw_seconds']:>7.1f} "
            f"{r['ratio']:>6.1f}x {r['mesh_peak_rss_tree'] / GIB:>12.2f} "
            f"{r['mesh_peak_pss_tree'] / GIB:>6.2f} {r['raw_peak_rss_tree'] / GIB:>11.2f}  {loads}"
        )
    return "\n".join(rows)


def breakdown_table(r: dict) -> str:
    """The mesh's seconds per domain and category (median run of a scale)."""
    b = r["breakdown"]
    cats = [c for c in up_timings.CATEGORIES if any(d[c] for d in b["domains"].values())]
    head = f"{'domain':<16}" + "".join(f"{c:>{max(len(c), 6) + 1}}" for c in cats) + "  total"
    rows = [f"scale {r['scale']:g}: start-up {b['startup']}s before the first domain, "
            f"finish {b['finish']}s after the last", head, "-" * len(head)]  # fmt: skip
    for d, found in b["domains"].items():
        cells = "".join(f"{found[c]:>{max(len(c), 6) + 1}.1f}" for c in cats)
        rows.append(f"{d:<16}{cells}  {found['total']:.1f}")
    return "\n".join(rows)


def verdicts(results: list[dict], models: bool) -> list[str]:
    """Each of issue 17's targets a measured scale has, met or missed."""
    out = []
    for r in results:
        seconds, ratio, sql_ratio = TARGETS.get(r["scale"], (None, None, None))
        checks = []
        if models and seconds:
            checks.append((f"mesh up < {seconds:.0f}s", r["mesh_seconds"] < seconds,
                           f"{r['mesh_seconds']:.1f}s"))  # fmt: skip
        if models and ratio:
            checks.append((f"within {ratio:g}x of raw", r["ratio"] <= ratio, f"{r['ratio']}x"))
        if not models and sql_ratio:
            checks.append((f"without models within {sql_ratio:g}x of raw", r["ratio"] <= sql_ratio,
                           f"{r['ratio']}x"))  # fmt: skip
        if models and r["scale"] >= 100:
            gib = r["mesh_peak_rss_tree"] / GIB
            checks.append((f"peak RSS < {TARGET_RSS_GIB:g} GiB", gib < TARGET_RSS_GIB,
                           f"{gib:.2f} GiB"))  # fmt: skip
        for what, ok, figure in checks:
            verdict = "MEETS" if ok else "MISSES"
            out.append(f"target scale {r['scale']:g}: {what}: {verdict} ({figure})")
    return out


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--scales", default="1,10", help="comma-separated data scales (default 1,10)")
    add("--with-100", action="store_true", help="also scale 100 (~10M order lines; long)")
    add("--without-models", action="store_true", help="MESH_ML=off, and SQL only in the raw run")
    add("--repeat", type=int, default=1, help="runs per contender and scale; the median is kept")
    add("--timeout", type=float, default=1800, help="seconds one command may take")
    add("--retry-wait", type=float, default=60, help="seconds before retrying a failed mesh up")
    add("--keep", action="store_true", help="keep the temporary MESH_HOMEs and logs")
    add("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    return parser.parse_args()


def report(results: list[dict], args: argparse.Namespace) -> None:
    what = "SQL only (MESH_ML=off)" if args.without_models else "models included"
    log(
        f"\n`mesh up` vs one plain script doing the same work ({what}; same landing data, same "
        f"compiled SQL), median of {args.repeat} run(s), {os.cpu_count()} cores"
    )
    log(table(results))
    log(trend(results))
    for line in verdicts(results, not args.without_models):
        log(line)
    log(
        "mesh s: wall clock of `mesh up`, process start to exit (dbt manifests already prepared). "
        "raw s: wall clock of bench/plain_ml.py, process start to exit (ingestion, SQL, data "
        "tests, ports, models). RSS: peak of the process tree's summed resident sets (PSS: "
        "shared pages split between the processes)."
    )
    for r in results:
        log("\n" + breakdown_table(r))


def main() -> int:
    args = parse_args()
    scales = sorted({float(s) for s in args.scales.split(",") if s.strip()} |
                    ({100.0} if args.with_100 else set()))  # fmt: skip
    if not MESH.exists():
        log(f"error: {MESH} not found; run `uv sync` first")
        return 2
    if problem := bytecode_problem():
        log(f"error: {problem}")
        return 2
    code_at_start = code_state()
    root = Path(tempfile.mkdtemp(prefix="mesh-bench-"))
    results: list[dict] = []
    failed: str | None = None
    try:
        for scale in scales:
            results.append(bench_scale(scale, root, args))
    except (BenchError, FileNotFoundError, subprocess.TimeoutExpired, RuntimeError) as exc:
        failed = str(exc)
    finally:
        if args.keep:
            log(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if results:
        report(results, args)
    mismatches = [f"scale {r['scale']:g}: {p}" for r in results for p in r["row_count_mismatches"]]
    for m in mismatches:
        log(f"error: row counts differ: {m}")
    if failed:
        log(f"error: {failed}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "mesh_up",
        "command": "uv run python bench/bench_mesh_up.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine() | {"uptime": subprocess.getoutput("uptime")},
        "code": code_at_start,
        "seed": SEED,
        "repeat": args.repeat,
        "models": not args.without_models,
        "results": results,
        "ratio_trend": trend(results),
        "verdicts": verdicts(results, not args.without_models),
        "error": failed,
    }
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    log(f"results written to {args.output}")
    return 1 if failed or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
