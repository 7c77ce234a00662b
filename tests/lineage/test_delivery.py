"""Delivery to a configured OpenLineage backend: outages, slowness, order, exactly once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from mesh_platform.lineage.delivery import configured_transport, deliver, flush, pending
from mesh_platform.lineage.receive import event_key
from mesh_platform.lineage.server import running
from mesh_platform.lineage.transport import CONNECT_TIMEOUT, READ_TIMEOUT
from openlineage.client.transport.http import HttpTransport

from tests.lineage.test_server import (  # noqa: F401 - ol_env is a fixture
    ol_env,
    paths_at,
    run_event,
    stored,
)
from tests.support import env_with, free_port, invoke, wait_for

SERVE = (
    "import typer; from mesh_platform.cli.lineage_serve import register; "
    "app = typer.Typer(); register(app); app()"
)


pytestmark = pytest.mark.usefixtures("ol_env")  # no machine config leaks into these tests


def http_backend(monkeypatch, port: int) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", f"http://127.0.0.1:{port}")


@contextmanager
def serve_subprocess(home, port: int):
    """`serve` of the mesh CLI in its own process, as an operator would run it."""
    cmd = [sys.executable, "-c", SERVE, "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env_with(MESH_HOME=str(home)), stdout=subprocess.DEVNULL)

    def up() -> bool:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return True
        except requests.ConnectionError:
            assert proc.poll() is None, "mesh lineage serve exited"
            return False

    try:
        wait_for(up, timeout=30, step=0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_nothing_configured_keeps_the_local_log_only(monkeypatch, tmp_path):
    paths = paths_at(tmp_path, "mesh")
    assert configured_transport() is None
    deliver(paths, [run_event("sales.orders")])
    assert not (paths.lineage / "outbox").exists()
    assert flush(paths) == (0, 0)


def test_outage_spools_then_flush_delivers_each_event_once(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    events = [run_event(f"sales.step{i}") for i in range(6)]
    started = time.monotonic()
    deliver(paths, events[:4])  # backend down: must neither raise nor wait
    deliver(paths, events[4:])
    assert time.monotonic() - started < 5
    assert pending(paths) == 6
    backend = tmp_path / "backend"
    with serve_subprocess(backend, port) as url:
        assert flush(paths) == (6, 0)
        assert flush(paths) == (0, 0)
        health = requests.get(f"{url}/api/v1/health", timeout=5).json()
    assert (health["received"], health["stored"]) == (6, 6)  # nothing sent twice
    received = stored(paths_at(tmp_path, "backend"))
    assert [event_key(e) for e in received] == [event_key(e) for e in events]  # in order
    assert (paths.lineage / "outbox" / "events.jsonl").read_bytes() == b""


def test_deliver_retries_the_outbox_once_the_backend_is_back(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    first, second = run_event("a"), run_event("b")
    deliver(paths, [first])
    with running(paths_at(tmp_path, "backend"), port=port):
        deliver(paths, [second])  # sends the older spooled event first
    assert pending(paths) == 0
    assert [e["job"]["name"] for e in stored(paths_at(tmp_path, "backend"))] == ["a", "b"]


def test_slow_backend_does_not_stall_a_run(monkeypatch, tmp_path):
    paths = paths_at(tmp_path, "mesh")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        http_backend(monkeypatch, silent.getsockname()[1])
        started = time.monotonic()
        deliver(paths, [run_event(f"s{i}") for i in range(5)])
        elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # one short timeout, then the rest waits in the outbox
    assert pending(paths) == 5


def test_refused_event_is_set_aside_and_the_rest_flows(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    bad = {**run_event("bad"), "run": {}}  # no runId: the backend answers 400 forever
    deliver(paths, [run_event("a"), bad, run_event("b")])
    with running(paths_at(tmp_path, "backend"), port=port):
        assert flush(paths) == (2, 0)
    assert [e["job"]["name"] for e in stored(paths_at(tmp_path, "backend"))] == ["a", "b"]
    assert b'"name":"bad"' in (paths.lineage / "outbox" / "rejected.jsonl").read_bytes()


def test_concurrent_flushes_send_each_event_once(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    deliver(paths, [run_event(f"e{i}") for i in range(30)])
    results: list[tuple[int, int]] = []
    with running(paths_at(tmp_path, "backend"), port=port) as url:
        # flock locks separate open files even within one process, as between two runs
        threads = [threading.Thread(target=lambda: results.append(flush(paths)))
                   for _ in range(4)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        health = requests.get(f"{url}/api/v1/health", timeout=5).json()
    assert sum(sent for sent, _ in results) == 30
    assert health["received"] == 30 and health["stored"] == 30


def test_console_transport_by_configuration_prints_events(monkeypatch, tmp_path):
    # a plain process, with no logging set up, as a `mesh` command or a run would be
    script = (
        "import json, sys; from mesh_platform.lineage.delivery import deliver, pending; "
        "from mesh_platform.settings import mesh_paths; paths = mesh_paths(); "
        "deliver(paths, [json.loads(sys.argv[1])]); print('pending', pending(paths))"
    )
    event = run_event("sales.orders")
    env = env_with(MESH_HOME=str(tmp_path / "mesh"), OPENLINEAGE__TRANSPORT__TYPE="console")
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(event)],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert event["run"]["runId"] in done.stderr
    assert "pending 0" in done.stdout


def test_openlineage_yml_is_read_and_bounded(monkeypatch, tmp_path):
    (tmp_path / "openlineage.yml").write_text(
        "transport:\n  type: http\n  url: http://127.0.0.1:9\n  timeout: 30\n"
    )
    transport = configured_transport()
    assert isinstance(transport, HttpTransport)
    assert transport.timeout == (CONNECT_TIMEOUT, READ_TIMEOUT)
    adapter = transport.session.get_adapter("http://127.0.0.1:9/api/v1/lineage")
    assert adapter.max_retries.total == 0  # type: ignore[attr-defined]


def test_yml_without_transport_or_disabled_means_none(monkeypatch, tmp_path):
    (tmp_path / "openlineage.yml").write_text("facets:\n  environment_variables: []\n")
    assert configured_transport() is None
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    assert isinstance(configured_transport(), HttpTransport)
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert configured_transport() is None


def test_a_torn_spool_line_does_not_block_delivery(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    deliver(paths, [run_event("a")])
    with (paths.lineage / "outbox" / "events.jsonl").open("ab") as fh:
        fh.write(b'{"eventTime": "2024')  # a writer crashed mid-line
    deliver(paths, [run_event("b")])
    with running(paths_at(tmp_path, "backend"), port=port):
        assert flush(paths) == (2, 0)
    assert [e["job"]["name"] for e in stored(paths_at(tmp_path, "backend"))] == ["a", "b"]


def test_flush_command_exits_1_while_the_backend_is_down(monkeypatch, tmp_path):
    import typer
    from mesh_platform.cli.lineage_serve import register

    app = typer.Typer()
    register(app)
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    monkeypatch.setenv("MESH_HOME", str(paths.home))
    monkeypatch.setenv("DAGSTER_HOME", str(paths.home / "dagster"))
    http_backend(monkeypatch, port)
    deliver(paths, [run_event("a"), run_event("b")])
    down = invoke(app, "flush")
    assert down.exit_code == 1 and "2 waiting" in down.output
    with running(paths_at(tmp_path, "backend"), port=port):
        up = invoke(app, "flush")
    assert up.exit_code == 0 and "delivered 2 event(s), 0 waiting" in up.output
