"""The stack's Dagster: a code server per location, the webserver, the daemon, Celery workers."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

from mesh_platform.orchestration.code_server_fork import ForkServer
from mesh_platform.orchestration.code_servers import (
    read_locations,
    start_server,
    wait_all_ready,
    write_workspace,
)
from mesh_platform.settings import MeshPaths
from mesh_platform.stack.backends import Service
from mesh_platform.stack.procs import answers, free_port, start, stop_group, wait_for
from mesh_platform.stack.workers import start_worker

LOOPBACK = "127.0.0.1"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def start_workers(
    exits: ExitStack, paths: MeshPaths, env: dict[str, str], count: int
) -> list[Service]:
    """Start ``count`` Celery workers (one step at a time each), stopped when ``exits`` closes."""
    services = []
    for number in range(1, count + 1):
        name = f"mesh-worker-{number}"
        proc = start_worker(name, paths.home / "logs", env, paths.root)
        exits.callback(stop_group, proc)
        services.append(
            Service(
                f"celery worker {name}", f"queue dagster on {env['CELERY_BROKER_URL']}", [proc.pid]
            )
        )
    return services


def start_code_servers(exits: ExitStack, paths: MeshPaths) -> tuple[Path, list[Service]]:
    """One code server per workspace location, forked from one process that imported Dagster.

    Returns:
        The generated workspace.yaml (gRPC entries) and one service per location.
    """
    logs = paths.home / "logs"
    locations = read_locations(paths.dagster_project / "workspace.yaml")
    forker = ForkServer(sorted({loc.module for loc in locations}), logs / "code-server-fork.log")
    exits.callback(stop_group, forker.proc)
    servers = []
    for location in locations:
        server = start_server(location, free_port(), logs, LOOPBACK, "fork", forker.spawn)
        exits.callback(stop_group, server.proc)  # before the fork server (LIFO)
        servers.append(server)
    wait_all_ready(servers, LOOPBACK)
    workspace = write_workspace(paths.dagster_home / "workspace.yaml", servers, LOOPBACK)
    services = [
        Service(f"code server {s.location.name}", f"grpc://{LOOPBACK}:{s.port}", [s.proc.pid])
        for s in servers
    ]
    return workspace, services


def start_webserver_and_daemon(
    exits: ExitStack, paths: MeshPaths, workspace: Path, port: int, timeout: float = 180
) -> list[Service]:
    """Start the webserver on ``port`` and the daemon (the run queue, sensors) on ``workspace``.

    Raises:
        RuntimeError: the webserver did not answer in ``timeout`` seconds (its log named).

    """
    logs = paths.home / "logs"
    web_cmd = [_bin("dagster-webserver"), "-w", str(workspace), "-h", LOOPBACK, "-p", str(port)]
    web = start(web_cmd, logs / "dagster-webserver.log")
    exits.callback(stop_group, web)
    daemon = start(
        [_bin("dagster-daemon"), "run", "-w", str(workspace)], logs / "dagster-daemon.log"
    )
    exits.callback(stop_group, daemon)
    url = f"http://{LOOPBACK}:{port}"
    if not wait_for(lambda: answers(f"{url}/server_info") or web.poll() is not None, timeout, 0.5):
        raise RuntimeError(
            f"the webserver did not answer at {url} (log: {logs}/dagster-webserver.log)"
        )
    if web.poll() is not None:
        raise RuntimeError(
            f"the webserver exited with {web.returncode} (log: {logs}/dagster-webserver.log)"
        )
    return [
        Service("dagster webserver", url, [web.pid]),
        Service("dagster daemon (run queue)", f"log {logs}/dagster-daemon.log", [daemon.pid]),
    ]
