"""A Redis server (Debian's redis-server) as the Celery broker: loopback, no disk persistence."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mesh_platform.stack.procs import free_port, listening, start, stop_group, wait_for


@dataclass
class RedisServer:
    """A running redis-server: its URL (database 0) and process."""

    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        """The broker URL Celery takes."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (SIGTERM; SIGKILL after a grace period)."""
        stop_group(self.proc, grace=10)


def redis_binary() -> str:
    """Path of redis-server (in /usr/bin on Debian).

    Raises:
        RuntimeError: it is not installed (`make sysdeps` installs it).

    """
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if not found:
        raise RuntimeError("redis-server is not installed: `make sysdeps` (Debian: redis-server)")
    return found


def start_redis(folder: Path, timeout: float = 20) -> RedisServer:
    """Start redis-server on a free loopback port with its files in ``folder``.

    Raises:
        RuntimeError: it exited or did not listen within ``timeout`` seconds.

    """
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
           "--save", "", "--appendonly", "no", "--protected-mode", "yes"]  # fmt: skip
    proc = start(cmd, folder / "redis.log")
    if not wait_for(lambda: listening(port) or proc.poll() is not None, timeout):
        stop_group(proc)
        raise RuntimeError(f"redis-server did not listen on {port} (log: {folder}/redis.log)")
    if proc.poll() is not None:
        raise RuntimeError(f"redis-server exited with {proc.returncode} (log: {folder}/redis.log)")
    return RedisServer(port, proc)
