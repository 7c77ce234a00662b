"""The HAProxy configuration `mesh serve --replicas` writes, and its runtime API client."""

from __future__ import annotations

import resource
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from mesh_platform.serving import balancer
from mesh_platform.serving.balancer import BalancerConfig

from tests.s3server import free_ports
from tests.support import wait_for

CFG = BalancerConfig("127.0.0.1", 8000, 8001, (9001, 9002, 9003), Path("/tmp/x.sock"))


def test_config_checks_ready_retries_elsewhere_and_lists_every_replica():
    text = balancer.render(CFG)
    lines = {line.strip() for line in text.splitlines()}
    assert {"option httpchk GET /v1/ready", "http-check expect status 200", "retries 3",
            "option redispatch 1", "retry-on conn-failure empty-response",
            "http-request disable-l7-retry if !METH_GET", "bind 127.0.0.1:8000",
            "bind 127.0.0.1:8001", "stats uri /stats", "monitor-uri /health",
            "stats socket /tmp/x.sock mode 600 level admin"} <= lines  # fmt: skip
    assert "default-server check inter 500 fastinter 250 downinter 500 fall 2 rise 2" in lines
    servers = [line.strip() for line in text.splitlines() if line.strip().startswith("server ")]
    assert servers == [f"server r{i} 127.0.0.1:{9000 + i}" for i in (1, 2, 3)]


@pytest.mark.skipif(balancer.haproxy_binary() is None, reason="haproxy not installed")
def test_haproxy_accepts_the_config(tmp_path):
    cfg_file = tmp_path / "haproxy.cfg"
    cfg_file.write_text(balancer.render(CFG))
    binary = balancer.haproxy_binary()
    assert binary is not None
    check = subprocess.run([binary, "-c", "-f", str(cfg_file)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(balancer.haproxy_binary() is None, reason="haproxy not installed")
def test_haproxy_starts_under_a_low_open_file_limit(tmp_path, monkeypatch):
    """`haproxy -c` accepts any maxconn; starting needs 2 descriptors a connection."""
    limit = 4096
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (1024, limit))
    ports = free_ports(2)
    cfg = BalancerConfig("127.0.0.1", ports[0], ports[1], (9001,), tmp_path / "admin.sock")
    (tmp_path / "haproxy.cfg").write_text(balancer.render(cfg))
    binary = balancer.haproxy_binary()
    assert binary is not None and balancer.max_connections() < limit // 2
    proc = subprocess.Popen([binary, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: resource.setrlimit(  # noqa: PLW1509 - no threads
                                resource.RLIMIT_NOFILE, (limit, limit)))  # fmt: skip
    try:
        assert wait_for(lambda: (tmp_path / "admin.sock").exists() or proc.poll() is not None, 10)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
    finally:
        proc.terminate()
        proc.wait(10)


STAT = """# pxname,svname,qcur,qmax,scur,smax,status,wretr,wredis
serve,FRONTEND,,,3,5,OPEN,,
replicas,r1,0,0,1,4,UP,0,0
replicas,r2,0,0,0,3,DRAIN,2,1
replicas,BACKEND,0,0,1,5,UP,2,1

"""


def fake_runtime_api(path, answers: dict[str, str], seen: list[str]) -> socket.socket:
    """A unix socket answering one command per connection, as HAProxy's runtime API does."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed by the test
                return
            with conn:
                line = conn.recv(4096).decode().strip()
                seen.append(line)
                conn.sendall(answers.get(line.split(" state")[0], "").encode())

    threading.Thread(target=loop, daemon=True).start()
    return server


def test_runtime_api_reads_server_states_and_sets_drain(tmp_path):
    path, seen = tmp_path / "a.sock", []
    answers = {"show stat": STAT, "set server replicas/r9": "No such server.\n"}
    server = fake_runtime_api(path, answers, seen)
    try:
        states = balancer.servers(path)
        assert {n: (s["status"], s["scur"], s["wretr"]) for n, s in states.items()} == {
            "r1": ("UP", "1", "0"), "r2": ("DRAIN", "0", "2")}  # fmt: skip
        balancer.set_state(path, 1, "drain")
        assert seen[-1] == "set server replicas/r2 state drain"
        with pytest.raises(RuntimeError, match="No such server"):
            balancer.set_state(path, 8, "ready")
    finally:
        server.close()
