"""Benchmark: the personalization models through `mesh up` beside a plain one-process script.

Deliverable 4 of issue 13 ("Training that scales"). Fits LightGBM: run it under the global lock.

    flock /tmp/mesh-lgbm.lock uv run python bench/bench_ml.py --scales 1,10 --repeat 1
    flock /tmp/mesh-lgbm.lock uv run python bench/bench_ml.py --scales 1 --repeat 3
    flock /tmp/mesh-lgbm.lock uv run python bench/bench_ml.py --scales '' --scale100
    flock /tmp/mesh-lgbm.lock uv run python bench/bench_ml.py --scales '' --full-scales 1  # smoke

Per scale S of --scales, in a fresh MESH_HOME under /tmp:

1. untimed: `mesh up --scale S -d catalog -d customers -d sales -d web` with MESH_ML=off (the
   upstream ports personalization reads; the sales forecast is not what is measured here);
2. per repeat, alternately:
   * mesh: `mesh up -d personalization` (its dbt models and tests, both models read, tuned, fit,
     evaluated, registered, gated and scored, the predictions ports published with contract
     checks, drift check and lineage on): wall seconds, peak memory of the process tree (sampled
     from /proc every 0.2 s) and the seconds of each Dagster step `mesh up` printed;
   * plain: bench/plain_ml.py as ONE process: the same compiled SQL of the personalization dbt
     models (from the manifest the mesh run compiled) in one DuckDB over the same port files,
     then per model the same reads, split, cap, LightGBM params, Optuna search space and trial
     budget, fit, evaluation and scoring to Parquet: wall seconds and peak memory.
3. metrics of each model beside its baseline from both (mesh: the training asset's metadata in
   the run's Dagster instance), and the rows of each training table.

--full-scales S (and --scale100, i.e. --full-scales 100; a scale >= 100 in --scales counts as
one) runs the whole `mesh up --scale S` (every domain, ML on) once in a fresh MESH_HOME and
reports its wall time and peak memory against the 8 GiB target.

Writes bench/results/ml.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mesh_up  # noqa: E402
from measure import measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "ml.json"
MESH = REPO / ".venv" / "bin" / "mesh"
PYTHON = REPO / ".venv" / "bin" / "python"
UPSTREAM = ["catalog", "customers", "sales", "web"]
DOMAIN = "personalization"
MODELS = {"churn_model": "roc_auc", "recommender": "ndcg@10"}
TARGET_SECONDS, TARGET_RATIO, TARGET_RSS_GIB = 60.0, 1.5, 8.0
GIB = 1024**3
log = bench_mesh_up.log


def env_of(home: Path, ml: bool = True) -> dict[str, str]:
    """A mesh subprocess's environment: its MESH_HOME and Dagster instance; ML on or off."""
    env = bench_mesh_up.mesh_env(home)
    if ml:
        env.pop("MESH_ML", None)
    return env


def must(run: dict, what: str, logfile: Path) -> dict:
    if run["code"] != 0:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
        raise bench_mesh_up.BenchError(f"{what} exited {run['code']}; log {logfile}:\n{tail}")
    return run


def steps(output: str) -> dict[str, float]:
    """Seconds of each step `mesh up` printed ("personalization: recommender ok (28.1s)")."""
    pattern = rf"^\[\s*[\d.]+s\] {DOMAIN}: (\w+) ok \(([\d.]+)s\)"
    return {m[1]: float(m[2]) for m in re.finditer(pattern, output, re.M)}


def mesh_metrics(home: Path) -> dict:
    """Each model's metric beside its baseline and its rows, from the training asset's metadata."""
    script = (
        "import json, sys, dagster as dg\n"
        "out = {}\n"
        "with dg.DagsterInstance.get() as inst:\n"
        f"    for name, metric in {MODELS!r}.items():\n"
        f"        ev = inst.get_latest_materialization_event(dg.AssetKey(['{DOMAIN}', name]))\n"
        "        meta = ev.asset_materialization.metadata\n"
        "        val = lambda k: getattr(meta.get(k), 'value', meta.get(k))\n"
        "        out[name] = {'metric': metric, 'model': val('metric/' + metric),\n"
        "                     'baseline': val('baseline/' + metric), 'rows': val('rows'),\n"
        "                     'version': val('model_version'), 'promoted': val('promoted')}\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [str(PYTHON), "-c", script], env=env_of(home), capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-1000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def latest_manifest(home: Path) -> Path:
    """The compiled manifest of the last dbt build of personalization under MESH_HOME."""
    target = home / "dbt" / DOMAIN / "target"
    runs = sorted(target.glob("run-*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise bench_mesh_up.BenchError(f"no compiled manifest under {target}/run-*")
    return runs[-1]


def run_mesh_side(home: Path, base: Path, i: int, timeout: float) -> dict:
    """One measured `mesh up -d personalization`."""
    logfile = base / f"mesh-{i}.log"
    run = must(
        measured([str(MESH), "up", "-d", DOMAIN], env_of(home), logfile, timeout),
        "mesh up -d personalization",
        logfile,
    )
    run["steps"] = steps(logfile.read_text(errors="replace"))
    run["models"] = mesh_metrics(home)
    return run


def run_plain_side(home: Path, base: Path, i: int, timeout: float) -> dict:
    """One measured plain run (bench/plain_ml.py, one process)."""
    logfile, out = base / f"plain-{i}.log", base / "plain"
    cmd = [str(PYTHON), str(REPO / "bench" / "plain_ml.py"), "--home", str(home)]
    cmd += ["--manifest", str(latest_manifest(home)), "--out", str(out)]
    run = must(measured(cmd, env_of(home), logfile, timeout), "plain_ml.py", logfile)
    lines = [ln for ln in logfile.read_text().splitlines() if ln.startswith("{")]
    return run | json.loads(lines[-1]) | {"seconds": run["seconds"]}


def prepare_upstream(scale: float, home: Path, base: Path, timeout: float) -> float:
    """Generate the demo and build the domains personalization reads (untimed in the results)."""
    cmd = [str(MESH), "up", "--scale", f"{scale:g}"]
    for d in UPSTREAM:
        cmd += ["-d", d]
    logfile = base / "upstream.log"
    run = must(measured(cmd, env_of(home, ml=False), logfile, timeout), "upstream", logfile)
    return run["seconds"]


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bench_scale(scale: float, root: Path, args: argparse.Namespace) -> dict:
    """Upstream once, then `repeat` alternating mesh and plain runs; medians and every run."""
    base = root / f"scale-{scale:g}"
    home = base / "home"
    home.mkdir(parents=True)
    log(f"\n== scale {scale:g}: MESH_HOME {home}")
    upstream = prepare_upstream(scale, home, base, args.timeout)
    log(f"  upstream domains built (untimed here) in {upstream:.1f}s")
    mesh_runs, plain_runs = [], []
    for i in range(1, args.repeat + 1):
        load = os.getloadavg()[0]
        m = run_mesh_side(home, base, i, args.timeout) | {"load_before": load}
        log(
            f"  run {i} mesh:  {m['seconds']:.1f}s, peak PSS {m['peak_pss_tree'] / GIB:.2f} GiB, "
            f"steps {m['steps']}"
        )
        load = os.getloadavg()[0]
        p = run_plain_side(home, base, i, args.timeout) | {"load_before": load}
        log(f"  run {i} plain: {p['seconds']:.1f}s, peak PSS {p['peak_pss_tree'] / GIB:.2f} GiB")
        mesh_runs.append(m)
        plain_runs.append(p)
    mesh_s, plain_s = median_of(mesh_runs, "seconds"), median_of(plain_runs, "seconds")
    return {
        "scale": scale,
        "upstream_seconds": round(upstream, 1),
        "mesh_seconds": round(mesh_s, 2),
        "plain_seconds": round(plain_s, 2),
        "ratio": round(mesh_s / plain_s, 2),
        "mesh_peak_rss_tree": max(r["peak_rss_tree"] for r in mesh_runs),
        "mesh_peak_pss_tree": max(r["peak_pss_tree"] for r in mesh_runs),
        "plain_peak_rss_tree": max(r["peak_rss_tree"] for r in plain_runs),
        "plain_peak_pss_tree": max(r["peak_pss_tree"] for r in plain_runs),
        "mesh_runs": mesh_runs,
        "plain_runs": plain_runs,
    }


def bench_full(scale: float, root: Path, timeout: float) -> dict:
    """The whole `mesh up --scale S` (every domain, ML on) once: wall seconds, peak memory."""
    base = root / f"full-{scale:g}"
    home = base / "home"
    home.mkdir(parents=True)
    log(f"\n== full mesh up --scale {scale:g}: MESH_HOME {home}")
    logfile = base / "up.log"
    run = measured([str(MESH), "up", "--scale", f"{scale:g}"], env_of(home), logfile, timeout)
    output = logfile.read_text(errors="replace")
    run["domains"] = bench_mesh_up.domain_seconds(output)
    run["summary"] = next((ln for ln in output.splitlines() if "domains ok" in ln), None)
    run["scale"] = scale
    run["tail"] = output.splitlines()[-12:] if run["code"] else []
    log(
        f"  exit {run['code']} in {run['seconds']:.1f}s, peak PSS {run['peak_pss_tree'] / GIB:.2f}"
        f" GiB (RSS sum {run['peak_rss_tree'] / GIB:.2f}, largest process "
        f"{run['peak_rss_max'] / GIB:.2f}): {run['summary']}"
    )
    return run


def model_cells(r: dict, side: str, name: str) -> str:
    """``model / baseline`` of one contender's last run."""
    found = r[f"{side}_runs"][-1]["models"].get(name, {})
    model, base = found.get("model"), found.get("baseline")
    if model is None or base is None:
        return "n/a"
    return f"{model:.3f} / {base:.3f}"


def table(results: list[dict]) -> str:
    head = (
        f"{'scale':>5} {'mesh s':>7} {'plain s':>7} {'ratio':>6} {'mesh GiB':>8} "
        f"{'plain GiB':>9}  churn AUC mesh | plain (vs majority)  "
        f"recommender NDCG@10 mesh | plain (vs popularity)"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        churn, rec = (
            f"{model_cells(r, 'mesh', name)} | {model_cells(r, 'plain', name)}"
            for name in ("churn_model", "recommender")
        )
        rows.append(
            f"{r['scale']:>5g} {r['mesh_seconds']:>7.1f} {r['plain_seconds']:>7.1f} "
            f"{r['ratio']:>5.2f}x {r['mesh_peak_pss_tree'] / GIB:>8.2f} "
            f"{r['plain_peak_pss_tree'] / GIB:>9.2f}  {churn:<35}  {rec}"
        )
    return "\n".join(rows)


def details(r: dict) -> list[str]:
    """Where the time goes (mesh steps, plain stages) and the rows of each training table."""
    m, p = r["mesh_runs"][-1], r["plain_runs"][-1]
    lines = [
        f"scale {r['scale']:g}: mesh steps (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in m["steps"].items())
    ]
    stages = [f"sql {p['sql']['seconds']:.1f}"]
    for name, found in p["models"].items():
        stages += [f"{name}.{k} {v:.1f}" for k, v in found["seconds"].items()]
    lines.append(f"scale {r['scale']:g}: plain stages (s): " + ", ".join(stages))
    for name, found in p["models"].items():
        mesh_rows = (m["models"].get(name, {}).get("rows") or {}).get("train", "?")
        mesh_rows = f"{mesh_rows:,}" if isinstance(mesh_rows, int) else mesh_rows
        lines.append(
            f"scale {r['scale']:g}: {name} training table {found['rows']['source']:,} rows, "
            f"trained on {found['rows']['train']:,} (plain) / {mesh_rows} (mesh), "
            f"{found['trials']} trials (plain), {found['rows']['scored']:,} rows scored"
        )
    return lines


def verdicts(results: list[dict], full: list[dict]) -> list[str]:
    out = []
    for r in results:
        if r["scale"] == 10:
            ok_s = r["mesh_seconds"] <= TARGET_SECONDS
            ok_r = r["ratio"] <= TARGET_RATIO
            out.append(
                f"target scale 10 within {TARGET_SECONDS:.0f}s: "
                f"{'MEETS' if ok_s else 'MISSES'} ({r['mesh_seconds']:.1f}s); within "
                f"{TARGET_RATIO}x plain: {'MEETS' if ok_r else 'MISSES'} ({r['ratio']:.2f}x)"
            )
    for f in full:
        ok = f["code"] == 0 and f["peak_pss_tree"] < TARGET_RSS_GIB * GIB
        out.append(
            f"target full mesh up --scale {f['scale']:g} completes with peak < "
            f"{TARGET_RSS_GIB:.0f} GiB: {'MEETS' if ok else 'MISSES'} (exit {f['code']}, "
            f"{f['seconds']:.0f}s, PSS {f['peak_pss_tree'] / GIB:.2f} GiB)"
        )
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1,10", help="comma-separated scales to compare")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (median)")
    parser.add_argument("--full-scales", default="", help="scales of a whole `mesh up` run")
    parser.add_argument("--scale100", action="store_true", help="same as --full-scales 100")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per command")
    parser.add_argument("--keep", action="store_true", help="keep the MESH_HOMEs and logs")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON results")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    full = [float(s) for s in args.full_scales.split(",") if s.strip()]
    full += [100.0] * args.scale100 + [s for s in scales if s >= 100]
    args.scales, args.full = [s for s in scales if s < 100], sorted(set(full))
    return args


def report(results: list[dict], full: list[dict], args) -> None:
    if results:
        log(
            "\npersonalization: `mesh up -d personalization` vs the plain one-process script, "
            f"median of {args.repeat}; GiB = peak PSS of the process tree; model / baseline"
        )
        log(table(results))
        for r in results:
            for line in details(r):
                log(line)
    for line in verdicts(results, full):
        log(line)


def main() -> int:
    args = parse_args()
    code_at_start = bench_mesh_up.code_state()
    root = Path(tempfile.mkdtemp(prefix="mesh-bench-ml-"))
    results, full, failed = [], [], None
    try:
        for scale in args.scales:
            results.append(bench_scale(scale, root, args))
        for scale in args.full:
            full.append(bench_full(scale, root, args.timeout))
    except (bench_mesh_up.BenchError, subprocess.SubprocessError) as exc:
        failed = str(exc)
    finally:
        if args.keep:
            log(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report(results, full, args)
    if failed:
        log(f"error: {failed}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "ml",
        "command": "uv run python bench/bench_ml.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": bench_mesh_up.machine() | {"uptime": subprocess.getoutput("uptime")},
        "code": code_at_start,
        "repeat": args.repeat,
        "results": results,
        "full": full,
        "verdicts": verdicts(results, full),
        "error": failed,
    }
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    log(f"results written to {args.output}")
    return 1 if failed or any(f["code"] for f in full) else 0


if __name__ == "__main__":
    sys.exit(main())
