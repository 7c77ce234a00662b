"""`mesh ui`'s code servers: the workspace read, the commands, the generated grpc workspace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from mesh_platform.cli import app
from mesh_platform.cli.ui_state import put_request, read_state, take_requests, write_state
from mesh_platform.orchestration.code_servers import (
    CodeServer,
    CodeServerError,
    Location,
    read_locations,
    server_command,
    write_workspace,
)
from mesh_platform.settings import MeshPaths

from tests.support import REPO, invoke, workspace_locations


def test_the_workspace_yaml_is_the_list_of_locations():
    locations = read_locations(REPO / "dagster_project" / "workspace.yaml")
    assert {loc.name for loc in locations} == workspace_locations()
    assert all(loc.working_directory == REPO for loc in locations)


def test_only_python_module_entries_are_served(tmp_path):
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {"port": 4000}}]}))
    with pytest.raises(CodeServerError, match="only python_module"):
        read_locations(workspace)


def test_command_and_generated_workspace(tmp_path):
    loc = Location("billing", "pkg.defs", "billing", tmp_path)
    cmd = server_command(loc, 4321, "127.0.0.1")
    assert Path(cmd[0]).name == "dagster" and cmd[1:3] == ["api", "grpc"]
    assert cmd[cmd.index("--location-name") + 1] == "billing" and cmd[-2:] == ["-p", "4321"]
    assert server_command(loc, 1, "127.0.0.1", "code-server")[1:3] == ["code-server", "start"]
    proc = subprocess.Popen(["true"])
    proc.wait()
    path = write_workspace(tmp_path / "ws.yaml", [CodeServer(loc, 4321, proc, tmp_path)], "::1")
    entries = yaml.safe_load(path.read_text())["load_from"]
    assert entries == [{"grpc_server": {"host": "::1", "port": 4321, "location_name": "billing"}}]


def test_reload_needs_a_running_ui(tmp_path):
    result = invoke(app, "reload", "sales", MESH_HOME=str(tmp_path), MESH_PROJECT_ROOT=str(REPO))
    assert result.exit_code == 2 and "no `mesh ui` runs" in result.output


def test_reload_requests_are_taken_once(tmp_path):
    paths = MeshPaths(root=REPO, home=tmp_path)
    put_request(paths, "sales", "t1")
    put_request(paths, "web", "t2")
    assert take_requests(paths) == {"sales": "t1", "web": "t2"}
    assert take_requests(paths) == {}
    write_state(paths, {"pid": 2**22 + 1, "servers": {}})  # no such process: no UI runs
    assert read_state(paths) is None
