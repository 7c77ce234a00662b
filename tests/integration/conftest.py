"""One demo mesh built per test session (`mesh up` is minutes), and `mesh ui` served over it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port, run_mesh, start_mesh, stop, wait_for_locations


def mesh(home: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the `mesh` command of the demo mesh on ``home``; output captured."""
    return run_mesh(home, *args, timeout=timeout)


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """MESH_HOME of the session's demo mesh."""
    return tmp_path_factory.mktemp("e2e") / "mesh"


@pytest.fixture(scope="session")
def built_mesh(built_home) -> subprocess.CompletedProcess:
    """`mesh up --scale 0.1` once for every integration test that needs a built mesh.

    Its own TMPDIR (beside the home), so a test can see what the build left in it.
    """
    tmp = built_home.parent / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    proc = run_mesh(built_home, "up", "--scale", "0.1", timeout=600, TMPDIR=str(tmp))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="session")
def ui_port(built_mesh, built_home) -> Iterator[int]:
    """`mesh ui` on a free port over the session's mesh, code locations loaded."""
    port = free_port()
    proc = start_mesh(
        built_home, "ui", "--port", str(port),
        # The freshness daemon judges every 30 s by default: sooner, so tests need not wait.
        env={"FRESHNESS_DAEMON_INTERVAL_SECONDS": "5", "MESH_FRESHNESS_SENSOR_SECONDS": "5"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_locations(port, proc)
        yield port
    finally:
        assert stop(proc) == 0
