"""`mesh serve --host 0.0.0.0` as a real process: refused without a token, 401/202 with one."""

from __future__ import annotations

import ipaddress
import socket
import subprocess

import httpx
import pytest

from tests.serving.test_auth import EVENT
from tests.support import free_port, run_mesh, start_mesh, stop, wait_for

pytestmark = pytest.mark.slow
TOKEN = "exposed-token-0123456789abcdef"
NO_TOKENS = {f"MESH_{s}_{v}": "" for s in ("SERVE", "API") for v in ("TOKEN", "TOKEN_FILE")}


def outside_address() -> str:
    """This machine's non-loopback IPv4 address, as another machine would call it.

    Connecting a UDP socket sends nothing; it only picks the interface of the default route.
    Without one, loopback: the service still binds 0.0.0.0, so the start-up rule is exercised.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            found = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return "127.0.0.1" if ipaddress.ip_address(found).is_loopback else found


def test_an_open_service_beyond_loopback_is_refused(published):
    done = run_mesh(published.home, "serve", "--host", "0.0.0.0", "--port", str(free_port()),
                    timeout=60, **NO_TOKENS)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "MESH_SERVE_TOKEN" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_mesh_serve_on_all_interfaces_requires_its_token(published, tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")  # as Kubernetes mounts a secret
    port = free_port()
    env = {**NO_TOKENS, "MESH_SERVE_TOKEN_FILE": str(secret), "MESH_SERVE_PROTECT_READS": "1"}
    proc = start_mesh(published.home, "serve", "--host", "0.0.0.0", "--port", str(port),
                      "--log-level", "debug", env=env, stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://{outside_address()}:{port}"
    try:
        ready = wait_for(lambda: _status(f"{base}/v1/ready", proc) == 200, timeout=90, step=0.3)
        assert ready, "mesh serve did not become ready"  # the probe needs no token
        assert httpx.post(f"{base}/v1/events", json={"events": [EVENT]}).status_code == 401
        assert httpx.get(f"{base}/v1/recommendations/7").status_code == 401
        good = {"Authorization": f"Bearer {TOKEN}"}
        answer = httpx.post(f"{base}/v1/events", json={"events": [EVENT]}, headers=good)
        assert answer.status_code == 202, answer.text
        assert httpx.get(f"{base}/v1/recommendations/7", headers=good).status_code == 200
    finally:
        assert stop(proc, timeout=60) == 0
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "MESH_SERVE_TOKEN_FILE" in output and TOKEN not in output


def _status(url: str, proc: subprocess.Popen) -> int:
    assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.TransportError:
        return 0
