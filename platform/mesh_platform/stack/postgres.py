"""A PostgreSQL server from the machine's binaries: initdb in a temporary folder, loopback only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mesh_platform.stack.procs import free_port, stop_group, wait_for


def bindir() -> Path:
    """The newest PostgreSQL's binaries on this machine (Debian: /usr/lib/postgresql/<n>/bin).

    Raises:
        RuntimeError: no PostgreSQL server binaries are installed.

    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


@dataclass(frozen=True)
class PgEndpoint:
    """Where the server answers; its one user has a password (scram-sha-256)."""

    port: int
    user: str
    password: str
    database: str
    pid: int

    def url(self, driver: str = "postgresql+psycopg2") -> str:
        """SQLAlchemy URL of the database (``driver`` "postgresql" for libpq's form)."""
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: under root, run it as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PostgresServer:
    """One initdb'd data folder and port; started, stopped and restarted on the same data."""

    def __init__(self, password: str, databases: tuple[str, ...] = ("mesh",)) -> None:
        self.bindir, self.port, self.password = bindir(), free_port(), password
        self.databases = databases
        # Not under a root-only temporary folder: the server runs as postgres.
        self.base = Path(tempfile.mkdtemp(prefix="mesh-pg-"))
        os.chmod(self.base, 0o755)
        self.proc: subprocess.Popen | None = None
        self.log = self.base / "server.log"

    def init(self) -> None:
        """Run initdb with the user ``mesh`` (password from a file the server's user can read)."""
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(pwfile, "postgres")
        init = [str(self.bindir / "initdb"), "-D", str(self.base / "data"), "-U", "mesh",
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                "--no-sync"]  # fmt: skip
        subprocess.run(_as_owner(init), check=True, capture_output=True, timeout=120)
        pwfile.unlink()

    def start(self, timeout: float = 60) -> None:
        """Start the server on its port and wait until it accepts connections.

        Raises:
            RuntimeError: it did not accept connections in ``timeout`` seconds (its log quoted).

        """
        server = [str(self.bindir / "postgres"), "-D", str(self.base / "data"), "-p",
                  str(self.port), "-k", str(self.base), "-c", "listen_addresses=127.0.0.1",
                  "-c", "fsync=off", "-c", "max_connections=200"]  # fmt: skip
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(_as_owner(server), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        ready = [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]
        if not wait_for(lambda: subprocess.run(ready).returncode == 0, timeout=timeout, step=0.2):
            raise RuntimeError(f"PostgreSQL did not start: {self.log.read_text()[-2000:]}")

    def create_databases(self) -> None:
        """Create the databases named at construction."""
        env = {**os.environ, "PGPASSWORD": self.password}
        for name in self.databases:
            create = [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", "mesh", name]  # fmt: skip
            subprocess.run(create, check=True, env=env, capture_output=True, timeout=60)

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (SIGINT: roll back sessions, then exit); SIGKILL if it hangs.

        A server an operator restarted on the same data (`pg_ctl restart`) is no child of ours:
        `pg_ctl stop` finds it by its ``postmaster.pid``.
        """
        if self.proc is not None:
            stop_group(self.proc, signal.SIGINT, timeout)
            self.proc = None
        data = self.base / "data"
        if (data / "postmaster.pid").exists():
            stop = [str(self.bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"]
            subprocess.run(_as_owner(stop), capture_output=True, timeout=timeout)

    def endpoint(self, database: str | None = None) -> PgEndpoint:
        """The endpoint of one of its databases (the first by default)."""
        pid = self.proc.pid if self.proc else -1
        return PgEndpoint(self.port, "mesh", self.password, database or self.databases[0], pid)

    def remove(self) -> None:
        """Stop the server and delete its data."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


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
    server = PostgresServer(password, (database,))
    try:
        server.init()
        server.start()
        server.create_databases()
        yield server.endpoint()
    finally:
        server.remove()
