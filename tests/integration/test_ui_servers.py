"""`mesh ui`: a code server per location, one location reloaded alone, nothing left on a stop."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import (
    MeshCopy,
    cmdline,
    copy_mesh,
    edit_yaml,
    free_port,
    graphql,
    process_tree,
    run_mesh,
    start_mesh,
    stop,
    wait_for_locations,
    workspace_locations,
)

pytestmark = pytest.mark.slow

TAGS_QUERY = "{ assetNodes(assetKeys: [{path: %s}]) { tags { key value } } }"


@dataclass
class RunningUi:
    """A `mesh ui` over a copy of the demo mesh: the copy, its port and process."""

    mesh: MeshCopy
    port: int
    proc: subprocess.Popen

    def state(self) -> dict:
        """What `mesh ui` recorded: its webserver and code servers (PIDs, ports)."""
        return json.loads((self.mesh.home / "dagster" / "ui.json").read_text())


@pytest.fixture(params=["fork", "grpc"])
def ui(request, tmp_path) -> Iterator[RunningUi]:
    """`mesh ui --server KIND` over a copy of the demo mesh (unbuilt: definitions load anyway)."""
    mesh = MeshCopy(root=copy_mesh(tmp_path / "mesh"), home=tmp_path / "home")
    port = free_port()
    proc = start_mesh(mesh.home, "ui", "--port", str(port), "--server", request.param,
                      root=mesh.root,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      start_new_session=True)  # fmt: skip
    try:
        wait_for_locations(port, proc, root=mesh.root)
        yield RunningUi(mesh, port, proc)
    finally:
        if proc.poll() is None:
            stop(proc)


def _servers_in_tree(pid: int) -> dict[int, str]:
    """PID -> command of every dagster code server below ``pid``."""
    found = {p: cmdline(p) for p in process_tree(pid)}
    return {p: cmd for p, cmd in found.items() if " api grpc" in cmd or " code-server " in cmd}


SERVER_MARKS = (" api grpc", " code-server ", "code_server_fork")


def _spawned_servers(pid: int) -> list[str]:
    """Commands of code servers below ``pid`` (not counting ``pid`` itself)."""
    below = [cmdline(p) for p in process_tree(pid) if p != pid]
    return [cmd for cmd in below if any(mark in cmd for mark in SERVER_MARKS)]


def check_one_server_per_location(ui: RunningUi) -> None:
    """N code servers below `mesh ui`, one webserver and one daemon spawning none of their own."""
    locations = workspace_locations(ui.mesh.root)
    servers = {name: s["pid"] for name, s in ui.state()["servers"].items()}
    assert set(servers) == locations
    tree = process_tree(ui.proc.pid)
    assert len(set(servers.values())) == len(locations) and set(servers.values()) <= set(tree)
    children = {p: cmdline(p) for p in tree if p != ui.proc.pid}
    grpc = [p for p, cmd in children.items() if " api grpc" in cmd]
    assert not grpc or sorted(grpc) == sorted(servers.values())  # `api grpc` ones: only these
    for name in ("dagster-webserver", "dagster-daemon"):
        (top,) = [p for p, c in children.items() if name in c]
        assert not _spawned_servers(top), f"{name} spawned code servers of its own"
    generated = (ui.mesh.home / "dagster" / "workspace.yaml").read_text()
    assert "grpc_server" in generated and "python_module" not in generated


def _tier(port: int, key: list[str]) -> str:
    nodes = graphql(port, TAGS_QUERY % json.dumps(key))["assetNodes"]
    return {t["key"]: t["value"] for t in nodes[0]["tags"]}["mesh/tier"]


def check_reload(ui: RunningUi) -> None:
    """`mesh reload sales` after a descriptor change: seen in GraphQL, nothing else restarted."""
    key = ["sales", "order_lines"]
    descriptor = ui.mesh.root / "domains" / "sales" / "products" / "order_lines.yaml"
    before = ui.state()
    old_tier = _tier(ui.port, key)
    new_tier = "silver" if old_tier != "silver" else "gold"
    edit_yaml(descriptor, lambda product: product.update(tier=new_tier))
    done = run_mesh(ui.mesh.home, "reload", "sales", root=ui.mesh.root, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _tier(ui.port, key) == new_tier  # the webserver shows the new code
    after = ui.state()
    assert after["servers"]["sales"]["pid"] != before["servers"]["sales"]["pid"]
    assert after["servers"]["sales"]["port"] == before["servers"]["sales"]["port"]
    others = {n: s["pid"] for n, s in before["servers"].items() if n != "sales"}
    assert others == {n: s["pid"] for n, s in after["servers"].items() if n != "sales"}
    assert after["webserver"]["pid"] == before["webserver"]["pid"]
    assert all(cmdline(pid) for pid in [*others.values(), after["webserver"]["pid"]])
    assert cmdline(before["servers"]["sales"]["pid"]) == ""  # the old server is gone
    unknown = run_mesh(ui.mesh.home, "reload", "nowhere", root=ui.mesh.root, timeout=60)
    assert unknown.returncode == 2 and "no code location 'nowhere'" in unknown.stderr


def check_failed_reload(ui: RunningUi) -> None:
    """Code that fails to load: `mesh reload` says why; the UI and other servers keep running."""
    defs = ui.mesh.root / "domains" / "web" / "defs.yaml"
    good = defs.read_text()
    before = ui.state()
    defs.write_text("type: no_such_module.NoComponent\n")
    try:
        done = run_mesh(ui.mesh.home, "reload", "web", root=ui.mesh.root, timeout=300)
        assert done.returncode == 1 and "reload of 'web'" in done.stderr, done.stderr
        assert ui.proc.poll() is None
        others = [s["pid"] for n, s in before["servers"].items() if n != "web"]
        assert all(cmdline(pid) for pid in [*others, before["webserver"]["pid"]])
    finally:
        defs.write_text(good)
    again = run_mesh(ui.mesh.home, "reload", "web", root=ui.mesh.root, timeout=300)
    assert again.returncode == 0, again.stderr
    wait_for_locations(ui.port, ui.proc, root=ui.mesh.root, timeout=60)


def check_stop(ui: RunningUi) -> None:
    """SIGTERM: `mesh ui` exits 0 and no process of its tree is left."""
    tree = process_tree(ui.proc.pid)
    assert len(tree) >= len(workspace_locations(ui.mesh.root)) + 3
    assert stop(ui.proc) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(cmdline(p) for p in tree):
        time.sleep(0.2)
    assert [cmdline(p) for p in tree if cmdline(p)] == []
    assert not (ui.mesh.home / "dagster" / "ui.json").exists()


def test_servers_reload_and_stop(ui):
    """In one test: its phases share one `mesh ui` and must run in this order."""
    check_one_server_per_location(ui)
    check_reload(ui)
    check_failed_reload(ui)
    check_stop(ui)


def test_a_location_that_fails_to_load_is_named_with_its_log(tmp_path):
    mesh = MeshCopy(root=copy_mesh(tmp_path / "mesh"), home=tmp_path / "home")
    workspace = mesh.root / "dagster_project" / "workspace.yaml"
    broken = {"python_module": {"module_name": "mesh_platform.orchestration.domain_location",
                                "attribute": "nowhere", "working_directory": "..",
                                "location_name": "broken"}}  # fmt: skip
    edit_yaml(workspace, lambda w: w["load_from"].append(broken))
    done = run_mesh(mesh.home, "ui", "--port", str(free_port()), root=mesh.root, timeout=300)
    assert done.returncode == 1
    assert "location 'broken' failed to load" in done.stderr
    assert "nowhere" in done.stderr.split("\n", 1)[1]  # the load's exception follows
    assert str(Path(mesh.home) / "logs" / "code-server-broken.log") in done.stderr
    left = subprocess.run(["pgrep", "-f", str(mesh.root)], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    # The fork server and its children name no folder of this mesh on their command line, and
    # another `mesh ui` (a session fixture's) may run beside this test: look for this home.
    assert _processes_of(mesh.home) == []


def _processes_of(home: Path) -> list[int]:
    """Processes started with MESH_HOME=home in their environment."""
    wanted, found = f"MESH_HOME={home}".encode(), []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if wanted in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found
