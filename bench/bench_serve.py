"""Benchmark: `mesh serve` under steady load, a 10x spike and a champion switch, beside a floor.

The service runs as its own process (`mesh serve`); load comes from separate client processes
over loopback. The load generator is open-loop: request i is due at a fixed time from the rate
schedule, and its latency is measured from that due time, not from when a connection got free
(no coordinated omission). Each client process keeps persistent HTTP/1.1 connections.

Home: the served ports' current snapshots are published again, and the registry copied, from a
mesh built by `mesh up` (by default /tmp/mesh-bench-serve-src, built with `mesh up --scale 1` on
first use, ~2-5 min, and reused) into a fresh temporary MESH_HOME with its own Iceberg catalog,
so the champion switch never alters the source's ports.

Phases (the baseline is the same uvicorn stack, uvloop + httptools, serving one static body of
the same size: the floor a Python service on this machine can reach):
  baseline steady    open-loop --rate for --steady s against the static app
  ours steady        the same load against GET /v1/recommendations
  capacity           wrk closed-loop max throughput of both, and an open-loop ramp for ours
  spike              --rate, then 10x --rate for --spike s, then --rate again (recovery)
  champion switch    steady load while a new champion is registered, promoted and published

    uv run python bench/bench_serve.py                      # ~4 min
    uv run python bench/bench_serve.py --steady 5 --spike 10 --switch 10   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench/results/serve.json"
SRC_HOME = Path("/tmp/mesh-bench-serve-src")
# Copied as files: the MLflow store. Ports are not: an Iceberg table's metadata names its
# absolute location and its catalog row lives in <home>/iceberg, so they are republished.
COPY = ["mlflow"]
TIMEOUT_S = 5.0  # a client gives up on an answer after this long (counted as an error)
# Like the shop's backend: a call not started within this budget of its page view is skipped
# (the page renders without it), and a 503 makes that connection wait its Retry-After.
BUDGET_S = 1.0
SKIPPED = -2
ROUNDS = 4  # steady phase: baseline and ours alternate in this many rounds


# --- load generator (runs in separate processes) ----------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: one request at a time, responses parsed by length."""

    def __init__(self) -> None:
        self.buf, self.waiter, self.transport, self.retry_after = b"", None, None, 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buf[:end].lower()
        length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
        if len(self.buf) >= end + 4 + length and self.waiter and not self.waiter.done():
            status = int(head[9:12])
            if status == 503 and b"retry-after:" in head:
                self.retry_after = float(head.split(b"retry-after:")[1].split(b"\r\n")[0])
            self.waiter.set_result(status)
            self.buf = self.buf[end + 4 + length :]

    def connection_lost(self, exc) -> None:
        if self.waiter and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))


async def _connection(port, paths, due, out, start, cursor):
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(_Conn, "127.0.0.1", port)
    clock = time.perf_counter  # uvloop's loop.time() has 1 ms resolution
    while cursor[0] < len(due):
        i = cursor[0]
        cursor[0] += 1
        wait = start + due[i] - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        elif -wait > BUDGET_S:
            out[i] = (-wait, -wait, SKIPPED)
            continue
        sent = clock()
        conn.waiter = loop.create_future()
        try:
            conn.transport.write(paths[i % len(paths)])
            status = await asyncio.wait_for(conn.waiter, TIMEOUT_S)
        except (TimeoutError, OSError, IndexError, ValueError):
            status = -1  # connection error or timeout: reconnect
            conn.transport.close()
            _, conn = await loop.create_connection(_Conn, "127.0.0.1", port)
        out[i] = (sent - start - due[i], clock() - start - due[i], status)
        if conn.retry_after:
            await asyncio.sleep(conn.retry_after)
            conn.retry_after = 0.0
    conn.transport.close()


def _client(port, paths, due, connections, start_at, queue):
    import uvloop

    async def main():
        await asyncio.sleep(max(0.0, start_at - time.time()))
        start, out, cursor = time.perf_counter(), np.full((len(due), 3), np.nan), [0]
        await asyncio.gather(*[_connection(port, paths, due, out, start, cursor)
                               for _ in range(connections)])  # fmt: skip
        return out

    queue.put(uvloop.run(main()))


def schedule(segments: list[tuple[float, float]]) -> np.ndarray:
    """Due times (s from start) for consecutive (duration s, rate/s) segments."""
    times, t0 = [], 0.0
    for duration, rate in segments:
        n = int(duration * rate)
        times.append(t0 + np.arange(n) / rate)
        t0 += duration
    return np.concatenate(times)


def run_load(port, paths, segments, connections=64, procs=1) -> tuple[np.ndarray, np.ndarray]:
    """Run the schedule from ``procs`` client processes.

    Returns:
        Due times, and per request [send lag s, latency from due time s, status (-1 = error)].
    """
    due = schedule(segments)
    ctx, queue, start_at = mp.get_context("fork"), mp.get_context("fork").Queue(), time.time() + 1
    workers = [ctx.Process(target=_client, args=(port, paths, due[p::procs],
                                                 connections // procs, start_at, queue))
               for p in range(procs)]  # fmt: skip
    for w in workers:
        w.start()
    parts = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    out = np.empty((len(due), 3))
    for p, part in enumerate(parts):
        out[p::procs] = part
    return due, out


def _q(values: np.ndarray, p: float) -> float | None:
    return round(float(np.percentile(values, p)) * 1000, 2) if len(values) else None


def stats(due, out, lo=0.0, hi=float("inf")) -> dict:
    """Counts and latencies of the requests due in [lo, hi).

    p50/p99 are of answered requests, from their due time (what a user waits, generator backlog
    included); service_p99 is from the moment the request was written; lag_p99 is how late the
    generator sent (when high, the client machine, not the server, was the bottleneck);
    skipped are calls not started within BUDGET_S of their due time.
    """
    sel = (due >= lo) & (due < hi)
    lag, lat, status = out[sel, 0], out[sel, 1], out[sel, 2]
    ok, shed = status == 200, status == 503
    span = (min(hi, float(due.max()) + 1e-9) - lo) if len(due) else 1.0
    return {"offered_rps": round(int(sel.sum()) / span), "ok": int(ok.sum()),
            "shed_503": int(shed.sum()), "other_5xx": int(((status >= 500) & ~shed).sum()),
            "4xx": int(((status >= 400) & (status < 500)).sum()),
            "errors": int((status == -1).sum()), "skipped": int((status == SKIPPED).sum()),
            "p50_ms": _q(lat[ok], 50),
            "p99_ms": _q(lat[ok], 99), "max_ms": _q(lat[ok], 100),
            "service_p99_ms": _q((lat - lag)[ok], 99), "shed_p99_ms": _q(lat[shed], 99),
            "lag_p99_ms": _q(lag, 99)}  # fmt: skip


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, path: str) -> None:
    for _ in range(600):
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} not ready")


def start_ours(home: Path, workers: int, max_pending: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "mesh_platform.cli", "serve", "--port", str(port),
           "--workers", str(workers), "--max-pending", str(max_pending)]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "MESH_HOME": str(home)})
    wait_ready(f"http://127.0.0.1:{port}", proc, "/v1/ready")
    return proc, port


def start_static(body: bytes) -> tuple[subprocess.Popen, int]:
    port, file = free_port(), Path(tempfile.mkdtemp()) / "body.json"
    file.write_bytes(body)
    proc = subprocess.Popen([sys.executable, __file__, "_static", str(port), str(file)])
    wait_ready(f"http://127.0.0.1:{port}", proc, "/")
    return proc, port


def static_server(port: int, body_file: str) -> None:
    """The floor: one pre-built body from a bare ASGI app, same uvicorn settings as ours."""
    import uvicorn

    body = Path(body_file).read_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning", lifespan="off")  # fmt: skip


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def wrk(port: int, path: str, seconds: int, connections: int = 32) -> float:
    url = f"http://127.0.0.1:{port}{path}"
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("Requests/sec"))
    return float(line.split()[1])


# --- the mesh home and the champion switch ---------------------------------------------------


def served():
    """What `mesh serve` serves: the serving: block's ports and model."""
    from mesh_platform.serving.binding import load_served
    from mesh_platform.settings import project_root

    return load_served(project_root(), None)[0]


def port_table(home: Path, ref):
    """The rows of a port's current snapshot in ``home``, read from its exact data files."""
    import pyarrow.parquet as pq
    from mesh_platform.ports.tables import snapshot_files

    return pq.read_table(snapshot_files(home, ref)[1])


def republish(home: Path, ref, table) -> None:
    import pyarrow.parquet as pq
    from mesh_platform.ports.tables import publish

    publish(home, ref, lambda f: pq.write_table(table, Path(f) / "part-0.parquet"))


def prepare_home(src: Path) -> Path:
    """A fresh MESH_HOME holding the current snapshots of the served ports, and the registry."""
    from mesh_platform.ports.tables import current_snapshot

    refs = [r for r in served().refs() if r is not None]
    if current_snapshot(src, refs[0]) is None:
        print(f"building {src} with `mesh up --scale 1` (first run only)...", flush=True)
        env = {**os.environ, "MESH_HOME": str(src)}
        subprocess.run([sys.executable, "-m", "mesh_platform.cli", "up", "--scale", "1"],
                       env=env, check=True)  # fmt: skip
    home = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "mesh"
    for rel in COPY:
        if (src / rel).exists():
            shutil.copytree(src / rel, home / rel, symlinks=True)
    for ref in refs:
        if current_snapshot(src, ref) is not None:
            republish(home, ref, port_table(src, ref))
    return home


def request_paths(home: Path, unknown_share: float = 0.1) -> list[bytes]:
    """Known customers in random order, with a share of ids the model does not know."""
    recs = port_table(home, served().refs()[0])
    known = np.unique(recs["customer_id"].to_numpy())
    rng = np.random.default_rng(0)
    unknown = rng.integers(10**8, 10**9, int(len(known) * unknown_share))
    ids = rng.permutation(np.concatenate([known, unknown]))
    return [b"GET /v1/recommendations/%d HTTP/1.1\r\nHost: bench\r\n\r\n" % i for i in ids]


def switch_champion(home: Path) -> int:
    """Register a new recommender version, promote it, publish its recommendations (WAP)."""
    import pyarrow as pa

    os.environ["MESH_HOME"] = str(home)
    from mesh_platform.ml import promotion, registry
    from mesh_platform.settings import mesh_paths

    paths = mesh_paths()
    ports = served()  # what `mesh serve` serves: the serving: block
    MODEL_NAME, RECOMMENDATIONS = ports.model_name, ports.refs()[0]
    assert RECOMMENDATIONS is not None
    old = registry.champion(paths.registry, MODEL_NAME)
    assert old is not None
    new = registry.register(paths.registry, MODEL_NAME, old.model_file, old.meta["params"],
                            old.metrics, old.meta["features"], {}, "bench", None,
                            {"bench": "switch"}, {}, gates={}).version  # fmt: skip
    promotion.promote(paths.registry, MODEL_NAME, new, force=True)
    table = port_table(paths.home, RECOMMENDATIONS)
    column = table.schema.get_field_index("model_version")
    table = table.set_column(column, "model_version", pa.array([new] * len(table), pa.int64()))
    republish(paths.home, RECOMMENDATIONS, table)
    return new


# --- phases -----------------------------------------------------------------------------------


def args_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=1000, help="steady rate, requests/s")
    ap.add_argument("--steady", type=float, default=20, help="steady phase length, s")
    ap.add_argument("--spike", type=float, default=30, help="spike (10x) length, s")
    ap.add_argument("--switch", type=float, default=20, help="champion-switch phase length, s")
    ap.add_argument("--ramp", type=float, default=5, help="length of each capacity step, s")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-pending", type=int, default=64, help="the service's --max-pending")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--spike-connections", type=int, default=512)
    ap.add_argument("--spike-procs", type=int, default=2, help="client processes in the spike")
    ap.add_argument("--phases", default="steady,capacity,spike,switch")
    ap.add_argument("--src-home", type=Path, default=SRC_HOME)
    return ap


def steady_phase(port: int, paths: list[bytes], body: bytes, args) -> dict:
    """Same open-loop load on the static floor and on ours; wrk max throughput of both."""
    base_proc, base_port = start_static(body)
    first = paths[0].split()[1].decode()
    try:
        run_load(base_port, paths, [(3, args.rate)], args.connections)  # warm-up
        run_load(port, paths, [(3, args.rate)], args.connections)
        # Alternating rounds: the machine's load drifts, both sides see the same drift.
        rounds = {"baseline": [], "ours": []}
        step = [(args.steady / ROUNDS, args.rate)]
        for _ in range(ROUNDS):
            rounds["baseline"].append(run_load(base_port, paths, step, args.connections))
            rounds["ours"].append(run_load(port, paths, step, args.connections))
        out = {name: {**pooled(runs), "round_p99_ms": [stats(*r)["p99_ms"] for r in runs]}
               for name, runs in rounds.items()}  # fmt: skip
        wrk_base, wrk_ours = [], []
        for _ in range(2):  # interleaved: the machine's load drifts
            wrk_base.append(wrk(base_port, "/", 5))
            wrk_ours.append(wrk(port, first, 5))
        return {**out, "baseline_wrk_rps": max(wrk_base), "ours_wrk_rps": max(wrk_ours)}
    finally:
        stop(base_proc)


def pooled(runs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Stats over several runs of the same schedule (due times shifted to follow each other)."""
    span = [r[0].max() + 1 / len(r[0]) if len(r[0]) else 0 for r in runs]
    due = np.concatenate([r[0] + sum(span[:i]) for i, r in enumerate(runs)])
    return stats(due, np.concatenate([r[1] for r in runs]))


def capacity_phase(port: int, paths: list[bytes], args) -> dict:
    """Open-loop steps up to the first that misses p99 <= 100 ms or sheds.

    Each step runs twice and keeps the lower p99: one stall of the shared machine in a 5 s step
    should not decide the capacity.
    """
    ramp = {}
    for rate in (1000, 2000, 3000, 4000, 5000, 6000, 8000):
        tries = [stats(*run_load(port, paths, [(args.ramp, rate)], args.connections))
                 for _ in range(2)]  # fmt: skip
        ramp[rate] = s = min(tries, key=lambda t: (t["p99_ms"] is None, t["p99_ms"] or 0))
        print(f"  ramp {rate:>5}/s: {s}", flush=True)
        if s["p99_ms"] is None or s["p99_ms"] > 100 or s["shed_503"] or s["errors"]:
            break
    clean = [r for r, s in ramp.items() if s["p99_ms"] is not None and s["p99_ms"] <= 100
             and not (s["shed_503"] or s["errors"] or s["other_5xx"] or s["skipped"])]  # fmt: skip
    fast = [r for r in clean if ramp[r]["p99_ms"] <= 10]
    return {"steps": ramp, "max_sustainable_rps": max(fast) if fast else None,
            "max_rps_without_shedding": max(clean) if clean else None}  # fmt: skip


def spike_phase(port: int, paths: list[bytes], args) -> dict:
    pre, rec = 10.0, 20.0
    segments = [(pre, args.rate), (args.spike, 10 * args.rate), (rec, args.rate)]
    due, out = run_load(port, paths, segments, args.spike_connections, args.spike_procs)
    end = pre + args.spike
    return {
        "before": stats(due, out, 0, pre), "spike": stats(due, out, pre, end),
        "after_first_5s": stats(due, out, end, end + 5),
        "recovered_last_10s": stats(due, out, end + rec - 10, end + rec),
        "alive_after": httpx.get(f"http://127.0.0.1:{port}/v1/health").json(),
    }  # fmt: skip


def main() -> None:
    args = args_parser().parse_args()
    phases = set(args.phases.split(","))
    home = prepare_home(args.src_home)
    paths = request_paths(home)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()},
                     "load_before": os.getloadavg()}  # fmt: skip
    proc, port = start_ours(home, args.workers, args.max_pending)
    try:
        first = paths[0].split()[1].decode()  # the static body: a real answer, same size
        body = httpx.get(f"http://127.0.0.1:{port}{first}").content
        if "steady" in phases:
            results["steady"] = steady_phase(port, paths, body, args)
        if "capacity" in phases:
            results["capacity"] = capacity_phase(port, paths, args)
        if "spike" in phases:
            results["spike"] = spike_phase(port, paths, args)
        if "switch" in phases:
            results["switch"] = switch_phase(port, paths, home, args)
    finally:
        results["ours_exit_code"] = stop(proc)
        results["load_after"] = os.getloadavg()
        shutil.rmtree(home.parent, ignore_errors=True)  # the temporary copy
    report(results)


def switch_phase(port: int, paths: list[bytes], home: Path, args) -> dict:
    import threading

    done: dict = {}

    def later():
        time.sleep(1 + args.switch / 3)
        t = time.time()
        done["new_version"] = switch_champion(home)
        done["published_after_s"] = round(time.time() - t, 2)

    thread = threading.Thread(target=later)
    thread.start()  # after forking would be safer, but the thread only sleeps until then
    due, out = run_load(port, paths, [(args.switch, args.rate)], args.connections)
    thread.join()
    ready = httpx.get(f"http://127.0.0.1:{port}/v1/ready").json()
    s = stats(due, out)
    s["failed"] = s["other_5xx"] + s["shed_503"] + s["4xx"] + s["errors"]
    return {**s, **done, "served_version_after": ready["model"]["version"]}


def report(r: dict) -> None:
    ratio = lambda x, y: round(x / y, 2) if x and y else None  # noqa: E731
    print(f"load average before {r['load_before']}, after {r['load_after']}")
    if st := r.get("steady"):
        b, o = st["baseline"], st["ours"]
        print(f"steady {r['args']['rate']}/s        p50 ms  p99 ms  service p99  ok     not ok"
              "  p99 per round")  # fmt: skip
        for name, s in (("baseline (static)", b), ("ours", o)):
            bad = s["errors"] + s["shed_503"] + s["other_5xx"] + s["4xx"] + s["skipped"]
            print(f"  {name:<18} {s['p50_ms']:>7} {s['p99_ms']:>7} {s['service_p99_ms']:>12}"
                  f"  {s['ok']:<6} {bad:<7} {s['round_p99_ms']}")  # fmt: skip
        print(f"  ours/baseline: p50 {ratio(o['p50_ms'], b['p50_ms'])}, "
              f"p99 {ratio(o['p99_ms'], b['p99_ms'])}")  # fmt: skip
        print(f"max throughput (wrk, closed loop, 32 connections, best of 2 x 5 s): ours "
              f"{st['ours_wrk_rps']:.0f}/s, baseline {st['baseline_wrk_rps']:.0f}/s, ratio "
              f"{ratio(st['ours_wrk_rps'], st['baseline_wrk_rps'])}")  # fmt: skip
    if cap := r.get("capacity"):
        print(f"max sustainable open-loop rate (p99 <= 10 ms, nothing shed or failed): "
              f"{cap['max_sustainable_rps']}/s; without shedding (p99 <= 100 ms): "
              f"{cap['max_rps_without_shedding']}/s")  # fmt: skip
    if sp := r.get("spike"):
        print("spike (10x the steady rate):")
        for phase, s in sp.items():
            print(f"  {phase:<20} {s}")
    if sw := r.get("switch"):
        print(f"champion switch under steady load: {sw}")
    print(f"server exit code: {r['ours_exit_code']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(r, indent=2, default=str))
    print(f"written {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_static":
        static_server(int(sys.argv[2]), sys.argv[3])
    else:
        main()
