"""Benchmark: two `mesh serve` replicas behind HAProxy against one replica directly.

Both services run at once, from the same fresh MESH_HOME (bench_serve.prepare_home), each as its
own process tree; load comes from separate client processes over loopback with bench_serve's
open-loop generator (latency from each call's due time, no coordinated omission).

Phases:
  capacity   open-loop steps (--rates, --step s each), one replica and the pair alternating at
             every step and each step run twice keeping the lower p99; "max sustainable" is the
             highest step with p99 <= 10 ms and nothing shed, skipped or failed; ratio printed
  restart    --rate for --restart-s s through HAProxy while, --restart-s / 4 in, one of:
             SIGHUP to `mesh serve --replicas` (drain through the runtime API, then restart, one
             replica at a time), SIGTERM to one replica (no drain), SIGKILL to one replica

    uv run python bench/bench_serve_replicas.py --src-home /tmp/serve-home
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_serve as bs  # noqa: E402

RESULTS = bs.REPO / "bench/results/serve_replicas.json"


def start_replicated(home: Path, n: int, max_pending: int) -> tuple[subprocess.Popen, int, int]:
    """`mesh serve --replicas n`; returns it, its public port and its stats port."""
    port, stats_port = bs.free_port(), bs.free_port()
    cmd = [sys.executable, "-m", "mesh_platform.cli", "serve", "--port", str(port),
           "--replicas", str(n), "--stats-port", str(stats_port),
           "--max-pending", str(max_pending)]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "MESH_HOME": str(home)})
    bs.wait_ready(f"http://127.0.0.1:{port}", proc, "/v1/ready")
    return proc, port, stats_port


def servers(stats_port: int) -> dict[str, dict[str, str]]:
    """HAProxy's stats of the replicas (status, retries, redispatches...)."""
    text = httpx.get(f"http://127.0.0.1:{stats_port}/stats;csv", timeout=2).text
    rows = [line.split(",") for line in text.lstrip("# ").splitlines() if line]
    head = rows[0]
    return {r[1]: dict(zip(head, r, strict=False)) for r in rows[1:] if r[0] == "replicas"}


def replica_pids(proc: subprocess.Popen) -> list[int]:
    """The replica processes of `mesh serve --replicas` (children running `serve --host`)."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(proc.pid)],
                         capture_output=True, text=True).stdout  # fmt: skip
    return sorted(int(line.split()[0]) for line in out.splitlines() if "serve --host" in line)


def best_of_two(port: int, paths: list[bytes], rate: int, args) -> dict:
    runs = [bs.stats(*bs.run_load(port, paths, [(args.step, rate)], args.connections, args.procs))
            for _ in range(2)]  # fmt: skip
    return min(runs, key=lambda s: (s["p99_ms"] is None, s["p99_ms"] or 0))


def clean(s: dict, limit_ms: float) -> bool:
    bad = s["shed_503"] or s["errors"] or s["other_5xx"] or s["skipped"] or s["4xx"]
    return s["p99_ms"] is not None and s["p99_ms"] <= limit_ms and not bad


def capacity(targets: dict[str, int], paths: list[bytes], args) -> dict:
    """Alternating open-loop steps on every target until each misses p99 <= 100 ms."""
    steps: dict[str, dict[int, dict]] = {name: {} for name in targets}
    live = set(targets)
    for rate in map(int, args.rates.split(",")):
        for name in [n for n in targets if n in live]:
            steps[name][rate] = s = best_of_two(targets[name], paths, rate, args)
            print(f"  {name:<8} {rate:>5}/s: {s}", flush=True)
            if not clean(s, 100):
                live.discard(name)
        if not live:
            break
    best = {n: max([r for r, s in st.items() if clean(s, 10)], default=None)
            for n, st in steps.items()}  # fmt: skip
    # A target still clean at the highest step tried was not driven to its limit.
    top = max(map(int, args.rates.split(",")))
    unbounded = [n for n, rate in best.items() if rate == top]
    return {"steps": steps, "max_sustainable_rps": best, "at_highest_step": unbounded}


def restart_phase(proc, port: int, stats_port: int, paths: list[bytes], args) -> dict:
    """Steady load through HAProxy while replicas are restarted, stopped or killed."""
    out = {}
    for action in ("sighup", "sigterm", "sigkill"):
        before = {n: int(s["wredis"] or 0) for n, s in servers(stats_port).items()}

        def act(action=action) -> None:
            time.sleep(1 + args.restart_s / 4)  # run_load starts 1 s after it is called
            if action == "sighup":
                proc.send_signal(signal.SIGHUP)
            else:
                os.kill(replica_pids(proc)[0], getattr(signal, action.upper()))

        thread = threading.Thread(target=act)
        thread.start()
        s = bs.stats(*bs.run_load(port, paths, [(args.restart_s, args.rate)], args.connections))
        thread.join()
        for _ in range(600):  # both replicas back before the next action
            if all(v["status"] == "UP" for v in servers(stats_port).values()):
                break
            time.sleep(0.2)
        after = servers(stats_port)
        s["redispatched"] = sum(int(v["wredis"] or 0) for v in after.values()) - sum(
            before.values()
        )
        s["failed"] = s["other_5xx"] + s["shed_503"] + s["4xx"] + s["errors"] + s["skipped"]
        out[action] = s
        print(f"  {action}: {s}", flush=True)
    return out


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src-home", type=Path, default=bs.SRC_HOME)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--rates", default="1000,2000,3000,4000,5000,6000,8000")
    ap.add_argument("--step", type=float, default=5, help="length of each capacity step, s")
    ap.add_argument("--rate", type=int, default=1000, help="restart phase rate, requests/s")
    ap.add_argument("--restart-s", type=float, default=20, help="each restart run, s")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--procs", type=int, default=1, help="load generator processes")
    ap.add_argument("--max-pending", type=int, default=64)
    ap.add_argument("--phases", default="capacity,restart")
    return ap


def main() -> None:
    args = parser().parse_args()
    home = bs.prepare_home(args.src_home)
    paths = bs.request_paths(home)
    r: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "load_before": os.getloadavg()}
    single, single_port = bs.start_ours(home, 1, args.max_pending)
    pair, pair_port, stats_port = start_replicated(home, args.replicas, args.max_pending)
    try:
        if "capacity" in args.phases:
            r["capacity"] = capacity({"one": single_port, "haproxy": pair_port}, paths, args)
        if "restart" in args.phases:
            r["restart"] = restart_phase(pair, pair_port, stats_port, paths, args)
    finally:
        r["exit_codes"] = [bs.stop(pair), bs.stop(single)]
        r["load_after"] = os.getloadavg()
    report(r, args.replicas)


def report(r: dict, n: int) -> None:
    print(f"load average before {r['load_before']}, after {r['load_after']}")
    if cap := r.get("capacity"):
        one, pair = cap["max_sustainable_rps"]["one"], cap["max_sustainable_rps"]["haproxy"]
        ratio = round(pair / one, 2) if one and pair else None
        more = {name: ">=" if name in cap.get("at_highest_step", []) else "" for name in
                ("one", "haproxy")}  # fmt: skip
        print(f"max open-loop rate with p99 <= 10 ms, nothing shed or failed: one replica "
              f"directly {more['one']}{one}/s, {n} replicas behind HAProxy "
              f"{more['haproxy']}{pair}/s, ratio {ratio}")  # fmt: skip
        for rate in sorted({r for st in cap["steps"].values() for r in st}):
            cells = [cap["steps"][t].get(rate) for t in ("one", "haproxy")]
            row = " | ".join(f"p99 {c['p99_ms']} ms" if c else "-" for c in cells)
            print(f"  {rate:>6}/s | {row}")
    for action, s in r.get("restart", {}).items():
        print(f"{action:<8} failed {s['failed']} of {s['ok'] + s['failed']}, p99 {s['p99_ms']} ms,"
              f" max {s['max_ms']} ms, redispatched by HAProxy {s['redispatched']}")  # fmt: skip
    print(f"exit codes {r['exit_codes']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(r, indent=2, default=str))
    print(f"written {RESULTS.relative_to(bs.REPO)}")


if __name__ == "__main__":
    main()
