"""`mesh stack`: every service of the distributed profile on loopback, stopped together."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from mesh_platform.orchestration.profile import WEBSERVER_ENV
from mesh_platform.settings import AUTOMATION_ENV, MeshPaths
from mesh_platform.stack.backends import Service, start_backends
from mesh_platform.stack.dagster import (
    start_code_servers,
    start_webserver_and_daemon,
    start_workers,
)
from mesh_platform.stack.postgres import PostgresServer
from mesh_platform.stack.procs import answers, free_port, start, stop_group, wait_for

SERVE_READY_TIMEOUT = 120.0


def mesh_command(*args: str) -> list[str]:
    """The `mesh` CLI of this environment with ``args``."""
    return [str(Path(sys.executable).with_name("mesh")), *args]


class Stack:
    """The services of the distributed profile, started in order and stopped in reverse.

    Every child runs in its own process group and is stopped with its children (a Celery
    worker's pool, a code server's run workers) when the stack closes, on error or signal too.
    """

    def __init__(self, paths: MeshPaths, workers: int = 2, automation: bool = False) -> None:
        self.paths, self.workers, self.automation = paths, workers, automation
        self.exits = ExitStack()
        self.services: list[Service] = []
        self.env: dict[str, str] = {}
        self.postgres: PostgresServer | None = None

    @property
    def env_file(self) -> Path:
        """The endpoints as ``NAME=value`` lines: `set -a; . FILE` points another shell at it."""
        return self.paths.home / "stack" / "stack.env"

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.env_file.unlink(missing_ok=True)  # its endpoints are gone
        self.exits.close()

    def start(self, prepare: Callable[[], None], web_port: int = 0) -> None:
        """Start the servers, then Dagster on them; ``prepare`` runs once the endpoints are set.

        The endpoints go into this process's environment, which every child inherits.
        """
        state = self.paths.home / "stack"
        env, services, self.postgres = start_backends(self.exits, state)
        web_port = web_port or free_port()
        env[WEBSERVER_ENV] = f"http://127.0.0.1:{web_port}"
        env[AUTOMATION_ENV] = "on" if self.automation else "off"
        os.environ.update(env)
        self.env, self.services = env, services
        write_env_file(self.env_file, env)
        prepare()  # the instance on PostgreSQL, dbt manifests: once, before any server reads them
        self.services += start_workers(self.exits, self.paths, dict(os.environ), self.workers)
        workspace, servers = start_code_servers(self.exits, self.paths)
        self.services += servers
        self.services += start_webserver_and_daemon(self.exits, self.paths, workspace, web_port)

    def run(self, *args: str) -> int:
        """Run `mesh ARGS` against the stack, output to this terminal; its exit code."""
        proc = subprocess.Popen(mesh_command(*args), cwd=self.paths.root, start_new_session=True)
        try:
            return proc.wait()
        finally:
            stop_group(proc)

    def serve(self, replicas: int, port: int = 0) -> Service:
        """Start `mesh serve --replicas N` (HAProxy before N replicas); wait until it is ready.

        Raises:
            RuntimeError: it exited or was not ready in time (its log named).

        """
        port = port or free_port()
        log = self.paths.home / "logs" / "mesh-serve.log"
        cmd = mesh_command("serve", "--replicas", str(replicas), "--port", str(port))
        proc = start(cmd, log, cwd=self.paths.root)
        self.exits.callback(stop_group, proc, grace=30)
        url = f"http://127.0.0.1:{port}"
        ready = f"{url}/v1/ready"
        if not wait_for(
            lambda: answers(ready) or proc.poll() is not None, SERVE_READY_TIMEOUT, 0.5
        ):
            raise RuntimeError(f"mesh serve not ready at {url} (log: {log})")
        if proc.poll() is not None:
            raise RuntimeError(f"mesh serve exited with {proc.returncode} (log: {log})")
        service = Service(f"serving: HAProxy before {replicas} replicas", url, [proc.pid])
        self.services.append(service)
        return service


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``env`` for shells, readable by its owner only (it holds the database password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(env.items())))
