"""Benchmark: each code location's load in a fresh process, against a bare `import dagster`.

Issue 17's target: a domain's code location loads in a fresh process in under 2 s. For every
``python_module`` location of dagster_project/workspace.yaml (the domains and the platform's),
one fresh interpreter does what `dagster api grpc` does before it serves: Dagster's
``LoadedRepositories`` on the location's module and attribute (import, build the Definitions,
``load_all_definitions``). The baseline, in the same run and interleaved with the locations, is
a fresh interpreter that only runs `import dagster`: what any Dagster code location pays.

Each figure is the median of --repeat runs: wall seconds from process start to exit (measured
by bench/measure.py) and the process's peak RSS (its own ``ru_maxrss``). The locations load
over a fresh MESH_HOME in a temporary folder (`mesh generate --scale S --seed 42` and `mesh
prepare` first, untimed), or over --home when given (already prepared). Writes
bench/results/location_load.json.

    uv run python bench/bench_location_load.py                  # median of 3, scale 0.2
    uv run python bench/bench_location_load.py --repeat 5 --locations sales,web
    uv run python -X importtime bench/bench_location_load.py --explain personalization
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import REPO, measured  # noqa: E402

RESULTS = REPO / "bench" / "results" / "location_load.json"
WORKSPACE = REPO / "dagster_project" / "workspace.yaml"
TARGET_SECONDS = 2.0
MIB = 1024**2

# The child: load one location as the code server does, then report its own peak RSS (KiB).
_LOAD = """
import resource, sys
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.server import LoadedRepositories
module, attribute, folder, name = sys.argv[1:5]
origin = LoadableTargetOrigin(executable_path=sys.executable, module_name=module,
                              attribute=attribute or None, working_directory=folder)
LoadedRepositories(origin, None, [], None, code_location_name=name)
print("maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
_BASELINE = """
import resource
import dagster
print("maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
# A second reference: what any location built on dagster-dbt pays before its own code runs.
_DBT_REFERENCE = _BASELINE.replace("import dagster", "import dagster, dagster_dbt")
REFERENCES = ("import dagster", "import dagster_dbt")


def env_for(home: Path) -> dict[str, str]:
    """The code servers' environment: the mesh at the checkout, MESH_HOME ``home``."""
    env = {k: v for k, v in os.environ.items() if k not in ("MESH_ML",)}
    return env | {
        "MESH_HOME": str(home),
        "MESH_PROJECT_ROOT": str(REPO),
        "DAGSTER_HOME": str(home / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }


def prepare(home: Path, scale: float) -> None:
    """Generate the landing data and prepare the dbt manifests in ``home`` (untimed)."""
    mesh = str(Path(sys.executable).with_name("mesh"))
    for args in (["generate", "--scale", f"{scale:g}", "--seed", "42"], ["prepare"]):
        done = subprocess.run([mesh, *args], env=env_for(home), cwd=REPO, capture_output=True,
                              text=True)  # fmt: skip
        if done.returncode:
            sys.exit(f"`mesh {' '.join(args)}` exited {done.returncode}:\n{done.stdout[-2000:]}"
                     f"{done.stderr[-2000:]}")  # fmt: skip


def commands() -> dict[str, list[str]]:
    """The command of each contender: the baseline, then one per workspace location."""
    from mesh_platform.orchestration.code_servers import read_locations

    found = {
        "import dagster": [sys.executable, "-c", _BASELINE],
        "import dagster_dbt": [sys.executable, "-c", _DBT_REFERENCE],
    }
    for loc in read_locations(WORKSPACE):
        args = [loc.module, loc.attribute or "", str(loc.working_directory), loc.name]
        found[loc.name] = [sys.executable, "-c", _LOAD, *args]
    return found


def run_once(cmd: list[str], env: dict, log: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one fresh process; exits when it failed."""
    result = measured(cmd, env, log, timeout=600)
    text = log.read_text(encoding="utf-8", errors="replace")
    if result["code"] != 0:
        sys.exit(f"{' '.join(cmd[3:]) or 'baseline'} exited {result['code']}:\n{text[-3000:]}")
    kib = [int(line.split()[1]) for line in text.splitlines() if line.startswith("maxrss_kib")]
    return result["seconds"], kib[-1] * 1024


def bench(home: Path, repeat: int, only: list[str] | None) -> dict[str, dict]:
    """Median seconds and peak RSS of each contender, the repeats interleaved."""
    cmds = {k: v for k, v in commands().items() if k in REFERENCES or not only or k in only}
    env, logs = env_for(home), home / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in cmds}
    for i in range(repeat):
        for name, cmd in cmds.items():
            runs[name].append(run_once(cmd, env, logs / f"{name.replace(' ', '_')}-{i}.log"))
            print(f"  run {i + 1}/{repeat} {name:16} {runs[name][-1][0]:5.2f}s", flush=True)
    return {
        name: {
            "seconds": round(statistics.median(s for s, _ in got), 2),
            "runs": [round(s, 2) for s, _ in got],
            "peak_rss_mib": round(statistics.median(r for _, r in got) / MIB),
        }
        for name, got in runs.items()
    }


def table(results: dict[str, dict]) -> str:
    """The result table: location, seconds, baseline, ratio, peak RSS, target met."""
    base = results["import dagster"]
    rows = ["| location | seconds | baseline (import dagster) | ratio | peak RSS MiB | < 2 s |",
            "|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for name, r in results.items():
        if name in REFERENCES:
            continue
        ratio = r["seconds"] / base["seconds"]
        met = "met" if r["seconds"] < TARGET_SECONDS else "not met"
        rows.append(f"| {name} | {r['seconds']:.2f} | {base['seconds']:.2f} | {ratio:.1f}x | "
                    f"{r['peak_rss_mib']} | {met} |")  # fmt: skip
    for name in REFERENCES:
        ref = results[name]
        rows.append(f"| ({name}) | {ref['seconds']:.2f} | | {ref['seconds'] / base['seconds']:.1f}x"
                    f" | {ref['peak_rss_mib']} | |")  # fmt: skip
    return "\n".join(rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=str(__doc__).splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.2, help="of the generated data")
    parser.add_argument("--home", type=Path, help="a prepared MESH_HOME (default: a fresh one)")
    parser.add_argument("--locations", help="comma-separated (default: every location)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary MESH_HOME")
    explain = "load one location once in this process (for -X importtime)"
    parser.add_argument("--explain", metavar="LOCATION", help=explain)
    return parser.parse_args()


def main() -> None:
    """Prepare a MESH_HOME, time every location against the baseline, print and save."""
    args = parse_args()
    temp = None if args.home else Path(tempfile.mkdtemp(prefix="mesh-bench-locload-"))
    home = args.home.resolve() if args.home else Path(str(temp)) / "mesh"
    try:
        if temp is not None:
            print(f"preparing {home} (scale {args.scale:g}, untimed)", flush=True)
            prepare(home, args.scale)
        if args.explain:
            os.environ.update(env_for(home))
            cmd = commands()[args.explain]
            sys.argv = ["-c", *cmd[3:]]
            exec(compile(_LOAD, "<load>", "exec"), {})  # noqa: S102 - the child's code, here
            return
        only = args.locations.split(",") if args.locations else None
        results = bench(home, args.repeat, only)
    finally:
        if temp is not None and not args.keep:
            shutil.rmtree(temp, ignore_errors=True)
    print(f"\nmedian of {args.repeat}, load average {os.getloadavg()[0]:.1f}\n")
    print(table(results))
    slow = [n for n, r in results.items() if n not in REFERENCES and r["seconds"] >= 2.0]
    print(f"\ntarget (< {TARGET_SECONDS:g} s per location): "
          + ("met" if not slow else f"not met by {', '.join(slow)}"))  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"repeat": args.repeat, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
