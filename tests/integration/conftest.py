"""One demo mesh built per test session (`mesh up` is minutes), and `mesh ui` served over it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, env_with

MESH = [sys.executable, "-m", "mesh_platform.cli"]


def workspace_locations() -> set[str]:
    """Code locations the workspace declares: one per domain plus the platform's own."""
    workspace = yaml.safe_load((REPO / "dagster_project" / "workspace.yaml").read_text())
    return {next(iter(e.values()))["location_name"] for e in workspace["load_from"]}


LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def mesh(home: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the `mesh` command on ``home``; output captured."""
    return subprocess.run(
        [*MESH, *args], capture_output=True, text=True, timeout=timeout,
        env=env_with(MESH_HOME=str(home), COLUMNS="200"), cwd=REPO,
    )  # fmt: skip


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """MESH_HOME of the session's demo mesh."""
    return tmp_path_factory.mktemp("e2e") / "mesh"


@pytest.fixture(scope="session")
def built_mesh(built_home) -> subprocess.CompletedProcess:
    """`mesh up --scale 0.1` once for every integration test that needs a built mesh."""
    proc = mesh(built_home, "up", "--scale", "0.1")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    """POST a query to the webserver's GraphQL API; the ``data`` of the answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


def wait_for_locations(port: int, proc: subprocess.Popen, timeout: float = 300) -> list[dict]:
    """Poll until every code location is loaded; fail when `mesh ui` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mesh ui exited early"
        try:
            entries = graphql(port, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            loaded = {e["name"] for e in entries if e["loadStatus"] == "LOADED"}
            if loaded == workspace_locations():
                return entries
        except OSError:
            pass
        time.sleep(2)
    raise AssertionError("code locations did not load in time")


def stop_ui(proc: subprocess.Popen) -> int:
    """SIGTERM `mesh ui` (it stops its webserver, daemon and code servers); kill if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the whole tree it started
        proc.wait()
        raise


@pytest.fixture(scope="session")
def ui_port(built_mesh, built_home) -> Iterator[int]:
    """`mesh ui` on a free port over the session's mesh, code locations loaded."""
    port = free_port()
    proc = subprocess.Popen(
        [*MESH, "ui", "--port", str(port)], cwd=REPO,
        # The freshness daemon judges every 30 s by default: sooner, so tests need not wait.
        env=env_with(MESH_HOME=str(built_home), FRESHNESS_DAEMON_INTERVAL_SECONDS="5"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_locations(port, proc)
        yield port
    finally:
        assert stop_ui(proc) == 0
