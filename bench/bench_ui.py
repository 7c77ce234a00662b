"""Benchmark: `mesh ui`'s start time and idle memory, a code server per location against the old.

Over a built mesh (MESH_HOME, default /tmp/mh-uibench: `MESH_HOME=/tmp/mh-uibench uv run mesh up
--scale 1`), one after the other in the same run, each layout started, timed until the webserver
answers GraphQL with every workspace location LOADED (wall seconds, and the tree's CPU seconds),
left idle --idle seconds, then its whole process tree measured from /proc (RSS and PSS, per
process and summed) and stopped with SIGTERM:

* old: `dagster-webserver` and `dagster-daemon` on dagster_project/workspace.yaml's python_module
  entries directly (what `mesh ui` ran before: each spawns its own gRPC server per location).
* grpc: `mesh ui --server grpc` (one `dagster api grpc` per location, shared by the webserver
  and daemon through a generated workspace).
* code-server: `mesh ui --server code-server` (`dagster code-server start` per location).
* fork: `mesh ui` (the default: one `dagster api grpc` per location, forked from one process that
  imported the libraries once).

Targets for the demo's 6 locations: answers within 20 s, the tree under 2 GiB RSS idle.
Writes bench/results/ui.json.

    MESH_HOME=/tmp/mh-uibench uv run python bench/bench_ui.py
    uv run python bench/bench_ui.py --layouts fork --idle 5   # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import (  # noqa: E402  (the repo root on sys.path first)
    LOCATIONS_QUERY,
    MESH,
    REPO,
    cmdline,
    free_port,
    graphql,
    memory_mib,
    mesh_env,
    process_tree,
    workspace_locations,
)

RESULTS = REPO / "bench" / "results" / "ui.json"


def start(layout: str, home: Path, port: int) -> list[subprocess.Popen]:
    """Start one layout on ``port``; its top processes (each in its own session)."""
    env = mesh_env(home, DAGSTER_HOME=str(home / "dagster"))
    if layout == "old":
        workspace = str(REPO / "dagster_project" / "workspace.yaml")
        bin_dir = Path(sys.executable).parent
        commands = [
            [str(bin_dir / "dagster-webserver"), "-w", workspace, "-p", str(port)],
            [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        ]
    else:
        commands = [[*MESH, "ui", "--port", str(port), "--server", layout]]
    return [
        subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for cmd in commands
    ]  # fmt: skip


def wait_loaded(port: int, procs: list[subprocess.Popen], timeout: float = 600) -> None:
    """Until the webserver answers with every workspace location LOADED."""
    expected = workspace_locations()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a process exited during start-up")
        try:
            entries = graphql(port, LOCATIONS_QUERY, timeout=10)["workspaceOrError"]
            loaded = {e["name"] for e in entries["locationEntries"] if e["loadStatus"] == "LOADED"}
            if loaded == expected:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError("locations not loaded in time")


def cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User + system CPU seconds of the trees below ``procs`` so far (reaped children included)."""
    total = 0
    for pid in (pid for p in procs for pid in process_tree(p.pid)):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def server_names(home: Path) -> dict[int, str]:
    """PID -> location of each code server `mesh ui` recorded (forked ones share a cmdline)."""
    state = home / "dagster" / "ui.json"
    if not state.is_file():
        return {}
    servers = json.loads(state.read_text())["servers"]
    return {s["pid"]: f"server {name}" for name, s in servers.items()}


def label(pid: int, names: dict[int, str]) -> str:
    """A short name for a process of the tree."""
    cmd = cmdline(pid)
    if pid in names:
        return names[pid]
    if "code_server_fork" in cmd:
        return "fork server"
    for marker in ("--location-name ", "-a "):
        if marker in cmd:
            name = cmd.split(marker, 1)[1].split()[0]
            return f"{'code-server' if 'code-server' in cmd else 'grpc'} {name}"
    words = [Path(w).name for w in cmd.split()[:4]]
    return " ".join(w for w in words if w not in ("python", "python3"))[:60]


def measure(procs: list[subprocess.Popen], home: Path) -> dict:
    """Per-process and summed RSS/PSS of every process below ``procs``."""
    pids = [pid for p in procs for pid in process_tree(p.pid)]
    names = server_names(home)
    rows = [(pid, label(pid, names), *memory_mib(pid)) for pid in pids]
    return {
        "processes": len(rows),
        "rss_mib": round(sum(r[2] for r in rows)),
        "pss_mib": round(sum(r[3] for r in rows)),
        "per_process": [
            {"pid": r[0], "what": r[1], "rss_mib": round(r[2]), "pss_mib": round(r[3])}
            for r in rows
        ],  # fmt: skip
        "pids": pids,
    }


def stop(layout: str, procs: list[subprocess.Popen]) -> tuple[float, list[int]]:
    """SIGTERM the top processes; seconds until all exited, PIDs of the tree still alive after.

    The old layout's process groups are signalled, as the old `mesh ui` did; `mesh ui` itself.
    """
    pids = [pid for p in procs for pid in process_tree(p.pid)]
    started = time.monotonic()
    for proc in procs:
        if layout == "old":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    for proc in procs:
        proc.wait(timeout=120)
    seconds = time.monotonic() - started
    time.sleep(2)
    left = [pid for pid in pids if cmdline(pid)]
    for pid in left:  # the old layout's spawned servers may outlive their parent's group
        os.kill(pid, signal.SIGKILL)
    return seconds, left


def run(layout: str, home: Path, idle: float) -> dict:
    """Start, time, idle, measure and stop one layout."""
    port = free_port()
    started = time.monotonic()
    procs = start(layout, home, port)
    try:
        wait_loaded(port, procs)
        answered = time.monotonic() - started
        cpu = cpu_seconds(procs)
        time.sleep(idle)
        memory = measure(procs, home)
    finally:
        stop_seconds, left = stop(layout, procs)
    result = {"layout": layout, "answered_s": round(answered, 1), "cpu_s": round(cpu, 1), **memory,
              "stop_s": round(stop_seconds, 1), "left_after_stop": left}  # fmt: skip
    print(f"{layout:12} answered in {answered:5.1f}s ({cpu:.1f} CPU s); "
          f"{memory['processes']} processes, "
          f"RSS {memory['rss_mib']} MiB, PSS {memory['pss_mib']} MiB after {idle:.0f}s idle; "
          f"stopped in {stop_seconds:.1f}s, {len(left)} left", flush=True)  # fmt: skip
    return result


def main() -> None:
    """Run the layouts one after the other and print the ratios new/old."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    home = Path(os.environ.get("MESH_HOME", "/tmp/mh-uibench"))
    parser.add_argument("--home", type=Path, default=home)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--layouts", default="old,grpc,code-server,fork")
    args = parser.parse_args()
    results = {name: run(name, args.home.resolve(), args.idle) for name in args.layouts.split(",")}
    for name, result in results.items():
        for row in result["per_process"]:
            print(f"  {name:12} {row['what']:60} RSS {row['rss_mib']:5} PSS {row['pss_mib']:5}")
    old = results.get("old")
    for name, new in results.items():
        if old is None or name == "old":
            continue
        ratio = {key: new[key] / old[key] for key in ("answered_s", "rss_mib", "pss_mib")}
        print(f"{name}/old: start {ratio['answered_s']:.2f}x, RSS {ratio['rss_mib']:.2f}x, "
              f"PSS {ratio['pss_mib']:.2f}x, "
              f"processes {new['processes']}/{old['processes']}")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
