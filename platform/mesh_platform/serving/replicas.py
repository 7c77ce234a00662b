"""`mesh serve --replicas N`: N `mesh serve` processes behind HAProxy, restarted one at a time.

A replica is a plain `mesh serve` on a free loopback port. HAProxy sends requests only to
replicas whose ``/v1/ready`` answers 200 and resends a failed GET to another (balancer.py).
SIGHUP restarts the replicas one after another: each is drained through HAProxy's runtime API
(no new requests), stopped once nothing is in flight, started again and put back once ready. A
replica that exits on its own is started again (HAProxy's checks take it out meanwhile).
SIGINT/SIGTERM stop HAProxy, then the replicas (gracefully: in-flight requests finish).
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from mesh_platform.serving import balancer
from mesh_platform.serving.balancer import BalancerConfig
from mesh_platform.serving.metrics import MULTIPROC_ENV

log = logging.getLogger(__name__)
ReplicaCommand = Callable[[int], list[str]]  # port -> argv of one replica
READY_TIMEOUT_S = 180.0  # a replica loads its index before it answers ready
STOP_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 30.0  # longest wait for a drained replica's in-flight requests


class ReplicaError(RuntimeError):
    """A replica or HAProxy did not start, or did not become ready in time."""


def ready(port: int) -> bool:
    """Whether the replica on ``port`` answers ``/v1/ready`` with 200."""
    try:
        url = f"http://127.0.0.1:{port}{balancer.READY_PATH}"
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):  # 503 (HTTPError), refused, reset
        return False


def _poll(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ReplicaError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


class ReplicaSet:
    """The replica processes and the HAProxy in front of them."""

    def __init__(
        self, argv: ReplicaCommand, cfg: BalancerConfig, env: dict[str, str],
        metrics: Path | None = None,
    ) -> None:  # fmt: skip
        """Run ``argv(port)`` for each of ``cfg.replicas`` with ``env``, HAProxy per ``cfg``.

        ``metrics``: a folder for each replica's multi-process metrics (``--workers`` > 1), as
        `mesh serve` would otherwise use one folder for all of them.
        """
        self.argv, self.cfg, self.env, self.metrics = argv, cfg, env, metrics
        self.procs: list[subprocess.Popen | None] = [None] * len(cfg.replicas)
        self.started = [0.0] * len(cfg.replicas)  # monotonic time of each replica's last start
        self.haproxy: subprocess.Popen | None = None

    def start_replica(self, i: int) -> None:
        """Start replica ``i`` (not waiting for it)."""
        env = self.env
        if self.metrics is not None:
            folder = self.metrics / balancer.server_name(i)
            shutil.rmtree(folder, ignore_errors=True)  # samples of the previous process
            folder.mkdir(parents=True)
            env = {**env, MULTIPROC_ENV: str(folder)}
        # Own process group: Ctrl-C in a terminal reaches only us, and we stop HAProxy first.
        self.procs[i] = subprocess.Popen(self.argv(self.cfg.replicas[i]), env=env, process_group=0)
        self.started[i] = time.monotonic()

    def wait_ready(self, i: int) -> None:
        """Wait until replica ``i`` answers ready; fail if it exits first."""
        proc, port = self.procs[i], self.cfg.replicas[i]

        def up() -> bool:
            if proc is None or proc.poll() is not None:
                raise ReplicaError(f"replica {balancer.server_name(i)} (port {port}) exited")
            return ready(port)

        _poll(up, READY_TIMEOUT_S, f"replica {balancer.server_name(i)} ready")

    def stop_replica(self, i: int) -> None:
        """SIGTERM replica ``i`` and wait for it (SIGKILL past STOP_TIMEOUT_S)."""
        proc = self.procs[i]
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def start(self, binary: str, cfg_file: Path) -> None:
        """Start every replica, then HAProxy once all are ready (it would send them traffic)."""
        for i in range(len(self.procs)):
            self.start_replica(i)
        for i in range(len(self.procs)):
            self.wait_ready(i)
        cfg_file.write_text(balancer.render(self.cfg))
        self.haproxy = subprocess.Popen([binary, "-db", "-f", str(cfg_file)], process_group=0)
        _poll(self._all_up, 30, "haproxy sees every replica up")

    def _all_up(self) -> bool:
        if self.haproxy is None or self.haproxy.poll() is not None:
            raise ReplicaError("haproxy exited (see its messages above)")
        try:
            return all(
                s["status"] == "UP" for s in balancer.servers(self.cfg.admin_socket).values()
            )
        except OSError:  # the socket is not there yet
            return False

    def restart(self, i: int) -> None:
        """Drain replica ``i`` in HAProxy, stop it once idle, start it, put it back once ready."""
        sock, name = self.cfg.admin_socket, balancer.server_name(i)
        balancer.set_state(sock, i, "drain")  # no new requests; in-flight ones finish
        try:
            _poll(lambda: balancer.servers(sock)[name]["scur"] == "0", DRAIN_TIMEOUT_S, "drain")
            self.stop_replica(i)
            self.start_replica(i)
            self.wait_ready(i)
        finally:  # even when it failed: the health checks keep a broken replica out
            balancer.set_state(sock, i, "ready")
        _poll(lambda: balancer.servers(sock)[name]["status"] == "UP", 30, f"{name} back up")

    def revive(self) -> None:
        """Start again any replica that exited on its own; fail if HAProxy exited."""
        if self.haproxy is None or self.haproxy.poll() is not None:
            raise ReplicaError("haproxy exited")
        for i, proc in enumerate(self.procs):
            # At most one start a second: a replica that cannot start must not spin a core.
            if (
                proc is not None
                and proc.poll() is not None
                and time.monotonic() > self.started[i] + 1
            ):
                log.error("replica %s exited with %s: restarting", i + 1, proc.returncode)
                self.start_replica(i)

    def stop(self) -> None:
        """Stop HAProxy (no new requests), then every replica at once."""
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for i in range(len(self.procs)):
            self.stop_replica(i)


def run(
    argv: ReplicaCommand, cfg: BalancerConfig, env: dict[str, str], workdir: Path,
    metrics: Path | None = None,
) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM; SIGHUP restarts the replicas one at a time.

    Args:
        argv: The command line of a replica listening on a given port.
        cfg: HAProxy's ports and settings (``cfg.admin_socket`` should be in ``workdir``).
        env: The replicas' environment.
        workdir: Where haproxy.cfg is written; removed at exit.
        metrics: Per-replica metrics folders go here (see `ReplicaSet`).
    """
    binary = balancer.haproxy_binary()
    if binary is None:
        raise ReplicaError("haproxy is not installed (Debian: apt-get install haproxy)")
    signals: list[int] = []
    catch = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, lambda n, _f: signals.append(n)) for s in catch}
    replicas = ReplicaSet(argv, cfg, env, metrics)
    try:
        replicas.start(binary, workdir / "haproxy.cfg")
        log.warning("serving on %s:%s through %s replicas", cfg.host, cfg.port, len(cfg.replicas))
        while True:
            time.sleep(0.2)
            if {signal.SIGINT, signal.SIGTERM} & set(signals):
                break
            if signal.SIGHUP in signals:
                signals.remove(signal.SIGHUP)
                _rolling_restart(replicas, signals)
            replicas.revive()
    finally:
        replicas.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        shutil.rmtree(workdir, ignore_errors=True)


def _rolling_restart(replicas: ReplicaSet, signals: list[int]) -> None:
    """Restart each replica in turn; a replica that fails to come back stops the round, not us."""
    for i in range(len(replicas.procs)):
        if {signal.SIGINT, signal.SIGTERM} & set(signals):
            return
        try:
            replicas.restart(i)
        except ReplicaError as exc:  # the others keep serving; revive() retries this one
            log.error("rolling restart stopped at replica %s: %s", i + 1, exc)
            return
