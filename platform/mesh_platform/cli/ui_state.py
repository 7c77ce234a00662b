"""The state file of a running `mesh ui` and the reload requests `mesh reload` leaves for it."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from mesh_platform.orchestration.code_servers import CodeServer
from mesh_platform.settings import MeshPaths

RELOAD_MUTATION = """mutation($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) { __typename
    ... on WorkspaceLocationEntry { name loadStatus } ... on PythonError { message } } }"""


def state_file(paths: MeshPaths) -> Path:
    """Where `mesh ui` records its PID, webserver and code servers."""
    return paths.dagster_home / "ui.json"


def request_dir(paths: MeshPaths) -> Path:
    """Folder of pending reload requests: one file per location, its content a token."""
    return paths.dagster_home / "reload-requests"


def read_state(paths: MeshPaths) -> dict[str, Any] | None:
    """The running `mesh ui`'s state, or None when none runs."""
    try:
        state = json.loads(state_file(paths).read_text(encoding="utf-8"))
        os.kill(state["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def write_state(paths: MeshPaths, state: dict[str, Any]) -> None:
    """Replace the state file atomically: a reader sees the old state or the new one."""
    target = state_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(tmp, target)


def server_entry(server: CodeServer) -> dict[str, Any]:
    """How the state file describes one code server."""
    return {"port": server.port, "pid": server.proc.pid, "log": str(server.log)}


def new_state(web: dict[str, Any], servers: list[CodeServer]) -> dict[str, Any]:
    """The state of this process: webserver ``web`` (host, port, pid), code servers, reloads."""
    return {
        "pid": os.getpid(),
        "webserver": web,
        "servers": {s.location.name: server_entry(s) for s in servers},
        "reloads": {},
    }


def take_requests(paths: MeshPaths) -> dict[str, str]:
    """Pending reload requests (location: token), removed from disk."""
    found = {}
    folder = request_dir(paths)
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        found[path.name] = path.read_text(encoding="utf-8").strip()
        path.unlink(missing_ok=True)
    return found


def put_request(paths: MeshPaths, location: str, token: str) -> None:
    """Leave a reload request for ``location``."""
    folder = request_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / location).write_text(token, encoding="utf-8")


def reload_in_webserver(web: dict[str, Any], location: str) -> str:
    """Ask the webserver to fetch ``location`` again; its load status (or error message)."""
    host = "127.0.0.1" if web["host"] in ("0.0.0.0", "::") else web["host"]
    body = {"query": RELOAD_MUTATION, "variables": {"name": location}}
    request = urllib.request.Request(
        f"http://{host}:{web['port']}/graphql", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    result = (answer.get("data") or {}).get("reloadRepositoryLocation") or {}
    return result.get("loadStatus") or result.get("message") or str(answer)
