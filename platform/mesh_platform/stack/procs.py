"""Processes of the stack: free ports, readiness polls, and stops that leave no orphan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol


class Process(Protocol):
    """What a stop needs of a child: a Popen, or a code server forked by the fork server."""

    pid: int

    def poll(self) -> int | None: ...  # noqa: D102

    def wait(self, timeout: float | None = None) -> int: ...  # noqa: D102


def free_ports(count: int, host: str = "127.0.0.1") -> tuple[int, ...]:
    """``count`` distinct TCP ports free on ``host`` (all bound at once, then released)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((host, 0))
        return tuple(sock.getsockname()[1] for sock in socks)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at ``host`` right now."""
    return free_ports(1, host)[0]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true; False when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers HTTP 200 within ``timeout`` seconds (a readiness or health probe)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start(cmd: Sequence[str], log: Path, **kwargs: Any) -> subprocess.Popen:
    """Start ``cmd`` in its own process group (a stop reaches its children), output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **kwargs,
        )  # fmt: skip


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(proc: Process, sig: int = signal.SIGTERM, grace: float = 15) -> None:
    """Send ``sig`` to the process group of ``proc``; SIGKILL it after ``grace`` seconds.

    The whole group, not only its leader: a Celery worker's pool children or a code server's
    run workers would otherwise outlive it.
    """
    stop_groups([proc], grace, sig)


def stop_groups(procs: Sequence[Process], grace: float = 15, sig: int = signal.SIGTERM) -> None:
    """Signal every child's process group at once, then SIGKILL what is left after ``grace``."""
    for proc in procs:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, sig)
    deadline = time.monotonic() + grace
    for proc in procs:
        while time.monotonic() < deadline and _group_alive(proc.pid):
            proc.poll()  # reap the leader so the group can empty
            time.sleep(0.1)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
