"""A fork server: imports the code locations' libraries once, forks one `dagster api grpc` each.

Forked children share the imported pages (copy-on-write) and skip the imports' CPU time. The
fork server never opens a gRPC channel (gRPC is not fork-safe after that): it only forks.
Protocol, one JSON line each way: ``{"args", "log", "cwd"}`` in, ``{"pid"}`` out, and
``{"exit": pid, "code": n}`` out whenever a child ends.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from mesh_platform.orchestration.code_servers import CodeServerError

# The server and the models' asset factories (LightGBM and the rest load in the run's steps).
PRELOAD = ("dagster._cli.api", "mesh_platform.ml.assets")


def _child(request: dict) -> None:
    """In the forked child: own session, output to the log, then `dagster api grpc ARGS`."""
    code = 1
    try:
        os.setsid()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["cwd"])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from dagster._cli.api import grpc_command

        grpc_command.main(args=request["args"], prog_name="dagster api grpc")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _say({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    """``python -m mesh_platform.orchestration.code_server_fork MODULE...``: serve fork requests."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us with SIGTERM
    for module in (*PRELOAD, *sys.argv[1:]):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    gc.collect()
    gc.freeze()  # the collector leaves the shared objects' pages alone
    _say({"ready": True})
    while True:
        if select.select([sys.stdin], [], [], 0.2)[0]:
            line = sys.stdin.readline()
            if not line:
                return
            pid = os.fork()
            if pid == 0:
                _child(json.loads(line))
            _say({"pid": pid})
        _reap()


class ForkServer:
    """The parent's handle on a running fork server."""

    def __init__(self, modules: list[str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", __name__, *modules], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=out, text=True, start_new_session=True,
            )  # fmt: skip
        self.codes: dict[int, int] = {}
        self._pids: list[int] = []
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._lock:
                if "pid" in message:
                    self._pids.append(message["pid"])
                elif "exit" in message:
                    self.codes[message["exit"]] = message["code"]
                self._lock.notify_all()
        with self._lock:  # the fork server ended: nobody waits for an answer that cannot come
            self._lock.notify_all()

    def spawn(self, args: list[str], log: Path, cwd: Path) -> ForkedProcess:
        """Fork a child running `dagster api grpc ARGS`; its handle."""
        assert self.proc.stdin is not None
        request = json.dumps({"args": args, "log": str(log), "cwd": str(cwd)}) + "\n"
        with self._lock:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write(request)
                self.proc.stdin.flush()
            answered = lambda: self._pids or self.proc.poll() is not None  # noqa: E731
            if not self._lock.wait_for(answered, timeout=120) or not self._pids:
                raise CodeServerError(f"the fork server did not start a code server "
                                      f"(log: {self.log})")  # fmt: skip
            return ForkedProcess(self._pids.pop(0), self)


class ForkedProcess:
    """A forked code server, with the part of Popen's interface `mesh ui` uses."""

    def __init__(self, pid: int, server: ForkServer) -> None:
        self.pid, self._server = pid, server

    @property
    def returncode(self) -> int | None:
        """Its exit code once the fork server reaped it (or the fork server died)."""
        code = self._server.codes.get(self.pid)
        if code is None and self._server.proc.poll() is not None:
            return -1
        return code

    def poll(self) -> int | None:
        """Exit code, or None while it runs."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until it exited; its exit code."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.1)
        return code


if __name__ == "__main__":
    main()
