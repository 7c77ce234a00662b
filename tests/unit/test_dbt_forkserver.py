"""The dbt fork server: a command through `mesh-dbt` behaves as the `dbt` process it replaces."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from mesh_platform.dbt.cli_resource import dbt_executable
from mesh_platform.dbt.forkserver import SOCKET_ENV, forkserver
from mesh_platform.dbt.forkserver_client import _connect
from mesh_platform.stack.procs import wait_for

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.xdist_group("dbt_forkserver")  # one server for the module


def _project(root: Path, sql: str) -> Path:
    """A one-model dbt project on DuckDB whose profile sits beside it."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n"
    )
    (root / "profiles.yml").write_text(
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'tiny.duckdb'}\n      threads: 1\n"
    )
    (root / "models" / "one.sql").write_text(sql)
    return root


def _dbt(exe: str, project: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "DBT_LOG_FORMAT": "json", "DBT_PROFILES_DIR": str(project), **kw}
    return subprocess.Popen(
        [str(BIN / exe), *args], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _event_names(out: str) -> set[str]:
    return {json.loads(line)["info"]["name"] for line in out.splitlines() if line.startswith("{")}


def _accepts(path: str) -> bool:
    conn = _connect(path)
    if conn is not None:
        conn.close()
    return conn is not None


def _ask(path: str, payload: bytes, fds: list[int]) -> list[bytes]:
    """Send one raw request to the server; every line it answers."""
    conn = _connect(path)
    assert conn is not None
    with conn:
        socket.send_fds(conn, [payload], fds) if fds else conn.sendall(payload)
        return conn.makefile("rb").readlines()


@pytest.fixture(scope="module")
def server():
    with forkserver() as path:
        assert wait_for(lambda: _accepts(path), timeout=60), "the fork server never listened"
        yield path


def test_a_build_through_the_server_is_the_build_dbt_would_run(server, tmp_path):
    project = _project(tmp_path / "p", "select 42 as answer")
    proc = _dbt("mesh-dbt", project, "build", **{SOCKET_ENV: server})
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    plain = _project(tmp_path / "plain", "select 42 as answer")
    plain_out, _ = _dbt("dbt", plain, "build").communicate(timeout=120)
    # The same structured log lines a `dbt` process writes, which dagster-dbt turns into events.
    assert _event_names(out) == _event_names(plain_out)
    assert "LogModelResult" in _event_names(out)
    # The command ran in the client's working directory: its target/ and its DuckDB file.
    assert (project / "target" / "run_results.json").exists()
    with duckdb.connect(str(project / "tiny.duckdb"), read_only=True) as con:
        assert con.execute("select answer from main.one").fetchall() == [(42,)]


def test_a_failing_build_exits_with_dbts_own_code(server, tmp_path):
    project = _project(tmp_path / "p", "select * from no_such_table")
    through = _dbt("mesh-dbt", project, "build", **{SOCKET_ENV: server})
    through.communicate(timeout=120)
    plain = _dbt("dbt", project, "build")
    plain.communicate(timeout=120)
    assert plain.returncode == 1
    assert through.returncode == plain.returncode


def test_without_a_server_mesh_dbt_is_plain_dbt(tmp_path):
    project = _project(tmp_path / "p", "select 1 as x")
    proc = _dbt("mesh-dbt", project, "build", **{SOCKET_ENV: str(tmp_path / "gone.sock")})
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert (project / "target" / "run_results.json").exists()


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_stopping_the_client_stops_its_dbt_command(server, tmp_path):
    project = _project(tmp_path / "p", "select count(*) as n from range(20000000000)")
    [server_pid] = [
        int(p.parent.name) for p in Path("/proc").glob("[0-9]*/cmdline")
        if server.encode() in p.read_bytes()
    ]  # fmt: skip
    proc = _dbt("mesh-dbt", project, "run", **{SOCKET_ENV: server})
    deadline = time.monotonic() + 60
    while not _children(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    [child] = _children(server_pid)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists(), "the dbt command outlived its client"


def test_dagster_dbt_uses_the_server_only_while_one_runs(monkeypatch):
    monkeypatch.delenv(SOCKET_ENV, raising=False)
    assert dbt_executable() == "dbt"
    monkeypatch.setenv(SOCKET_ENV, "/tmp/some.sock")
    assert dbt_executable() == str(BIN / "mesh-dbt")


def test_a_malformed_request_is_refused_and_the_server_serves_on(server, tmp_path):
    assert _ask(server, b"not json\n", []) == [
        b"refused: a request is the client's stdout and stderr and one JSON object\n"
    ]
    with open(tmp_path / "out", "wb") as out:
        bad = json.dumps({"args": "build", "env": {}, "cwd": "/"}).encode() + b"\n"
        assert _ask(server, bad, [out.fileno(), out.fileno()]) == [
            b"refused: 'args' must be a list of strings\n"
        ]
    project = _project(tmp_path / "p", "select 1 as x")
    proc = _dbt("mesh-dbt", project, "build", **{SOCKET_ENV: server})
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out


def test_a_command_that_cannot_start_says_why_and_exits_2(server, tmp_path):
    gone = tmp_path / "gone"
    request = {"args": ["build"], "env": dict(os.environ), "cwd": str(gone)}
    with open(tmp_path / "err", "wb") as err:
        lines = _ask(server, json.dumps(request).encode() + b"\n", [err.fileno(), err.fileno()])
    assert len(lines) == 2 and lines[0].strip().isdigit()  # the child's pid, then its code
    assert lines[1] == b"2\n"
    said = (tmp_path / "err").read_text()
    assert "mesh-dbt: cannot run dbt:" in said and str(gone) in said
