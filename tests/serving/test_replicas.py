"""`mesh serve --replicas 2`: replicas restarted or killed under steady load behind HAProxy."""

from __future__ import annotations

import csv
import http.client
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import httpx
import pytest
from mesh_platform.serving.balancer import haproxy_binary

from tests.serving.conftest import CUSTOMERS
from tests.support import cmdline, free_port, process_tree, start_mesh, stop, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(haproxy_binary() is None, reason="haproxy not installed (make sysdeps)"),
]


class Load:
    """Steady GETs through the balancer: threads, each on its own keep-alive connection."""

    def __init__(self, port: int, threads: int = 4, pause_s: float = 0.004) -> None:
        self.port, self.pause_s, self.outcomes = port, pause_s, Counter()
        self.lock, self.halt = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(t,)) for t in range(threads)]

    def _run(self, seed: int) -> None:
        conn, i = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10), seed
        while not self.halt.is_set():
            try:
                conn.request("GET", f"/v1/recommendations/{CUSTOMERS[i % len(CUSTOMERS)]}")
                answer = conn.getresponse()
                answer.read()
                outcome: int | str = answer.status
            except (OSError, http.client.HTTPException) as exc:  # a failure the client saw
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            with self.lock:
                self.outcomes[outcome] += 1
            i += 1
            self.halt.wait(self.pause_s)
        conn.close()

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.halt.set()
        for t in self.threads:
            t.join()


class Replicated:
    """A running `mesh serve --replicas 2`: its public and stats ports, its replica processes."""

    def __init__(self, home) -> None:
        self.port, self.stats_port = free_port(), free_port()
        self.proc = start_mesh(home, "serve", "--replicas", "2", "--port", str(self.port),
                               "--stats-port", str(self.stats_port))  # fmt: skip
        ok = wait_for(self.all_up, timeout=120, step=0.3)
        assert ok, "mesh serve --replicas 2 did not come up in 120 s"

    def replica_pids(self) -> set[int]:
        return {p for p in process_tree(self.proc.pid)
                if " serve --host 127.0.0.1 " in cmdline(p)}  # fmt: skip

    def stats(self) -> dict[str, dict[str, str]]:
        text = httpx.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=2).text
        rows = csv.DictReader(text.lstrip("# ").splitlines())
        return {r["svname"]: r for r in rows if r["pxname"] == "replicas"}

    def all_up(self) -> bool:
        assert self.proc.poll() is None, f"mesh serve exited with {self.proc.returncode}"
        try:
            servers = self.stats()
        except httpx.TransportError:
            return False
        return [servers[n]["status"] for n in ("r1", "r2")] == ["UP", "UP"]

    def replaced(self, old: set[int]) -> bool:
        """Both replicas up again, and ``old`` processes gone."""
        pids = self.replica_pids()
        return len(pids) == 2 and not pids & old and self.all_up()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (not exited, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def replicated(published):
    service = Replicated(published.home)
    try:
        yield service
    finally:
        # Replicas and HAProxy, as they are now.
        children = {p: cmdline(p) for p in process_tree(service.proc.pid)[1:]}
        assert stop(service.proc, timeout=90) == 0
    assert sum("haproxy" in c for c in children.values()) == 1, children
    assert wait_for(lambda: not any(alive(p) for p in children), timeout=10)
    with pytest.raises(httpx.TransportError):  # HAProxy no longer listens
        httpx.get(f"http://127.0.0.1:{service.port}/v1/health", timeout=2)


def test_sessions_are_shared_and_a_rolling_restart_fails_no_request(replicated):
    base = f"http://127.0.0.1:{replicated.port}"
    event = {"event_type": "add_to_cart", "product_id": 2, "session_id": "s", "device": "mobile",
             "customer_id": 11}  # fmt: skip
    assert httpx.post(f"{base}/v1/events", json={"events": [event]}).status_code == 202
    time.sleep(1.0)  # the session journal is tailed every 0.2 s
    assert all(httpx.get(f"{base}/v1/recommendations/11").json()["reranked"] for _ in range(10))
    before = replicated.replica_pids()
    with Load(replicated.port) as load:
        time.sleep(1.0)
        replicated.proc.send_signal(signal.SIGHUP)  # drain, stop, start, ready: one at a time
        assert wait_for(lambda: replicated.replaced(before), timeout=120, step=0.2)
        time.sleep(1.0)
    assert set(load.outcomes) == {200} and load.outcomes[200] > 500, load.outcomes
    # The restarted replicas replayed the shared session journal.
    assert all(httpx.get(f"{base}/v1/recommendations/11").json()["reranked"] for _ in range(10))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_replica_stopped_or_killed_under_load_costs_no_request(replicated, sig):
    victim = min(replicated.replica_pids())
    with Load(replicated.port) as load:
        time.sleep(1.0)
        os.kill(victim, sig)  # no drain: HAProxy learns it from refused connections and checks
        assert wait_for(lambda: replicated.replaced({victim}), timeout=120, step=0.2)
        time.sleep(1.0)
    retried = sum(int(s["wretr"] or 0) + int(s["wredis"] or 0) for s in replicated.stats().values())
    print(f"{sig.name}: {dict(load.outcomes)}, retries+redispatches {retried}")
    # GETs that met a refused or reset connection were resent to the other replica.
    assert set(load.outcomes) == {200} and load.outcomes[200] > 500, load.outcomes


def test_missing_product_fails_before_starting_anything(published):
    proc = start_mesh(published.home, "serve", "--replicas", "2", "--product", "no/such",
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert proc.wait(timeout=60) == 2
