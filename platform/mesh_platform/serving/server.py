"""Run the service on uvicorn (uvloop + httptools): one process, or N workers on one socket.

Several workers share one listening socket bound by the parent (the kernel spreads connections).
A small supervisor of our own replaces uvicorn's: its workers must run `MeshServer`, which
exposes the request queue to admission control, and it restarts a worker that dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import time
from typing import Any

import uvicorn

from mesh_platform.serving.app import CONFIG_ENV
from mesh_platform.serving.config import ServeConfig
from mesh_platform.serving.journal import JOURNAL_ENV
from mesh_platform.serving.metrics import MULTIPROC_ENV
from mesh_platform.serving.shedding import MeshServer
from mesh_platform.settings import MeshPaths

log = logging.getLogger(__name__)
APP = "mesh_platform.serving.app:app_factory"


def uvicorn_config(host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """Uvicorn settings: fastest loop and parser, no access log (metrics count requests)."""
    return uvicorn.Config(APP, factory=True, host=host, port=port, loop="uvloop",
                          http="httptools", lifespan="on", access_log=False, backlog=4096,
                          log_level=log_level, timeout_keep_alive=30)  # fmt: skip


def _worker(host: str, port: int, log_level: str, sock: socket.socket) -> None:
    MeshServer(uvicorn_config(host, port, log_level)).run(sockets=[sock])


def _prepare_env(paths: MeshPaths, config: ServeConfig, workers: int) -> None:
    """Settings for the workers; for N > 1 a fresh session journal and metrics folder.

    A journal or metrics folder already named in the environment is kept: replicas behind
    HAProxy (replicas.py) share one journal, which a restarted replica must not wipe.
    """
    os.environ[CONFIG_ENV] = config.to_json()
    if workers <= 1:
        return
    if not os.environ.get(JOURNAL_ENV):
        journal = paths.home / "serving" / "sessions"
        shutil.rmtree(journal, ignore_errors=True)  # sessions do not outlive the service
        os.environ[JOURNAL_ENV] = str(journal)
    if not os.environ.get(MULTIPROC_ENV):
        folder = paths.home / "serving" / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)  # stale samples of an earlier run
        folder.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(folder)


def serve(
    paths: MeshPaths, config: ServeConfig, host: str, port: int, workers: int = 1,
    log_level: str = "warning",
) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM; workers finish in-flight requests and land buffered events."""
    _prepare_env(paths, config, workers)
    ucfg = uvicorn_config(host, port, log_level)
    if workers <= 1:
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit 0 on it.
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, _exit_cleanly)
        MeshServer(ucfg).run()
        return
    sock = ucfg.bind_socket()
    _supervise(workers, host, port, log_level, sock)


def _exit_cleanly(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


def _supervise(workers: int, host: str, port: int, log_level: str, sock: socket.socket) -> None:
    ctx = multiprocessing.get_context("spawn")
    stopping: list[int] = []

    def start() -> Any:
        proc = ctx.Process(target=_worker, args=(host, port, log_level, sock), daemon=False)
        proc.start()
        return proc

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    procs = [start() for _ in range(workers)]
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(procs):
                if not proc.is_alive() and not stopping:
                    log.error("worker %s exited with %s: restarting", proc.pid, proc.exitcode)
                    procs[i] = start()
    finally:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.join(timeout=30)
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
