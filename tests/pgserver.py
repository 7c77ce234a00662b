"""A real PostgreSQL server for tests: Debian's binaries, initdb in a temporary folder, loopback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port, wait_for


def _bindir() -> Path:
    """The newest PostgreSQL's binaries on this machine (Debian: /usr/lib/postgresql/<n>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


@dataclass(frozen=True)
class PgEndpoint:
    """Where the test server answers; its one user has a password (scram-sha-256)."""

    port: int
    user: str
    password: str
    database: str
    pid: int

    def url(self, driver: str = "postgresql+psycopg2") -> str:
        """SQLAlchemy URL of the database."""
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: under root, run it as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server(
    password: str = "pg-test-secret", database: str = "mesh"
) -> Iterator[PgEndpoint]:
    """Start a throwaway PostgreSQL on a free loopback port; stop it and remove its files on exit.

    Args:
        password: the password of the user ``mesh``.
        database: a database created for the caller.

    Yields:
        The endpoint.
    """
    bindir, port = _bindir(), free_port()
    # Not under pytest's tmp_path: its parents are root-only, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="mesh-pg-"))
    os.chmod(base, 0o755)
    data, pwfile = base / "data", base / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
    init = [str(bindir / "initdb"), "-D", str(data), "-U", "mesh", "--auth=scram-sha-256",
            f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"]  # fmt: skip
    subprocess.run(_as_owner(init), check=True, capture_output=True, timeout=120)
    server = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base),
              "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]  # fmt: skip
    log = open(base / "server.log", "w")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen(_as_owner(server), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        ready = [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"]
        if not wait_for(lambda: subprocess.run(ready).returncode == 0, timeout=60, step=0.2):
            raise RuntimeError(f"PostgreSQL did not start: {(base / 'server.log').read_text()}")
        env = {**os.environ, "PGPASSWORD": password}
        create = [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "mesh",
            database,
        ]
        subprocess.run(create, check=True, env=env, capture_output=True, timeout=60)
        yield PgEndpoint(port, "mesh", password, database, proc.pid)
    finally:
        stop_server(proc)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def stop_server(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Fast shutdown (SIGINT: roll back sessions, then exit); SIGKILL the group if it hangs."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
