"""Test helpers: repo paths, a copy of the demo mesh, the `mesh` CLI, ports, GraphQL, waits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import yaml
from click.testing import Result
from mesh_platform.governance.engine import GovernanceResult, run_governance
from mesh_platform.settings import MeshPaths
from mesh_platform.stack.procs import wait_for  # noqa: F401  (the tests' poll, re-exported)
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# The `mesh` command of this interpreter's environment, as a subprocess.
MESH = [sys.executable, "-m", "mesh_platform.cli"]
# Terminal width for the CLI's rich tables: wide enough that no cell is wrapped or cut.
WIDE = "300"

# What a mesh is made of (mesh.yaml where the platform has it), and what a run leaves in it.
MESH_PARTS = ("mesh.yaml", "domains", "contracts", "dagster_project")
BUILD_OUTPUT = shutil.ignore_patterns(
    "target", "logs", "dbt_packages", "__pycache__", "*.duckdb", "*.duckdb.wal", ".user.yml"
)


def env_with(**extra: str) -> dict[str, str]:
    """The current environment plus overrides, for subprocesses."""
    return {**os.environ, **extra}


def copy_mesh(dest: Path, parts: Sequence[str] = MESH_PARTS) -> Path:
    """Copy the demo mesh's ``parts`` (without build output) to ``dest``, for a test to change."""
    for part in parts:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=BUILD_OUTPUT)
        elif source.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / part)
    return dest


def copy_domain(dest: Path, name: str) -> Path:
    """Copy one demo domain folder (without build output) to ``dest``/domains/``name``."""
    return Path(
        shutil.copytree(REPO / "domains" / name, dest / "domains" / name, ignore=BUILD_OUTPUT)
    )


def edit_yaml(path: Path, change: Callable[[Any], Any]) -> None:
    """Load a YAML file, let ``change`` mutate it in place, save it (key order kept)."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@dataclass
class MeshCopy:
    """A copy of the demo mesh under a temporary root, with its own (empty) MESH_HOME."""

    root: Path
    home: Path

    @property
    def paths(self) -> MeshPaths:
        """The copy's paths."""
        return MeshPaths(root=self.root, home=self.home)

    def govern(self, domain: str | None = None) -> GovernanceResult:
        """Run governance over the copy."""
        return run_governance(self.root, domain=domain, paths=self.paths)

    def edit(self, rel: str, change: Callable[[Any], Any]) -> None:
        """Let ``change`` mutate the YAML file ``rel`` of the copy in place."""
        edit_yaml(self.root / rel, change)

    def write(self, rel: str, text: str) -> None:
        """Write a file of the copy."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a throwaway identity; its stdout."""
    ident = ["-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "commit.gpgsign=false"]
    proc = subprocess.run(
        ["git", *ident, *args], cwd=root, capture_output=True, text=True, check=True
    )
    return proc.stdout


def mesh_env(home: Path, root: Path = REPO, **extra: str) -> dict[str, str]:
    """Environment for a `mesh` subprocess on the mesh at ``root`` with MESH_HOME ``home``."""
    return env_with(MESH_PROJECT_ROOT=str(root), MESH_HOME=str(home), COLUMNS=WIDE, **extra)


def run_mesh(
    home: Path, *args: str, root: Path = REPO, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess:
    """`mesh ARGS` on the mesh at ``root`` (its working directory) as a subprocess; output kept."""
    return subprocess.run(
        [*MESH, *args], capture_output=True, text=True, timeout=timeout, cwd=root,
        env=mesh_env(home, root, **env),
    )  # fmt: skip


def start_mesh(home: Path, *args: str, root: Path = REPO, **popen: Any) -> subprocess.Popen:
    """Start a long-running `mesh ARGS` (ui, serve) on the mesh at ``root``; stop it with stop()."""
    env = mesh_env(home, root, **popen.pop("env", {}))
    return subprocess.Popen([*MESH, *args], cwd=root, env=env, **popen)


def stop(proc: subprocess.Popen, timeout: float = 90) -> int:
    """SIGTERM ``proc`` and wait for its exit code; kill its session if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.getsid(proc.pid) == proc.pid:  # its own session: the whole tree it started
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
        raise


def invoke(app: typer.Typer, *args: str, **env: str) -> Result:
    """Run ``app`` in-process through typer's CliRunner, on a wide terminal."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": WIDE, **env})


def free_port() -> int:
    """A TCP port nobody listens on, on the loopback interface (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, timeout: float = 60) -> dict:
    """POST a query to the Dagster webserver's GraphQL API; the ``data`` of the answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def workspace_locations(root: Path = REPO) -> set[str]:
    """Code locations the workspace declares: one per domain plus the platform's own."""
    workspace = yaml.safe_load((root / "dagster_project" / "workspace.yaml").read_text())
    return {next(iter(e.values()))["location_name"] for e in workspace["load_from"]}


def wait_for_locations(
    port: int, proc: subprocess.Popen, root: Path = REPO, timeout: float = 300
) -> list[dict]:
    """Poll `mesh ui` until every code location is loaded; fail when it dies or time runs out."""
    expected = workspace_locations(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mesh ui exited early"
        try:
            entries = graphql(port, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            if {e["name"] for e in entries if e["loadStatus"] == "LOADED"} == expected:
                return entries
        except OSError:
            pass
        time.sleep(2)
    raise AssertionError("code locations did not load in time")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children() -> dict[int, list[int]]:
    """Parent PID -> child PIDs of every process, from /proc."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        found.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (by parent PID, whatever their session), from /proc."""
    children, tree, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        if Path(f"/proc/{current}").exists():
            tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cmdline(pid: int) -> str:
    """The command line of ``pid`` ('' once it exited)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of ``pid`` in MiB, from /proc/PID/smaps_rollup; (0, 0) once it exited."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return 0.0, 0.0
    kib = {key: int(value.split()[0]) for key, value in (line.split(":") for line in lines)}
    return kib["Rss"] / 1024, kib["Pss"] / 1024


def port_files(home: Path, port: str, version: int = 1) -> list[str]:
    """The data files of a port's current snapshot (``port``: ``<domain>/<product>``)."""
    from mesh_platform.ports import PortRef, current_snapshot

    domain, product = port.split("/")
    snap = current_snapshot(home, PortRef(domain, product, version))
    assert snap is not None, f"{port} v{version} was never published under {home}"
    return list(snap.files)
