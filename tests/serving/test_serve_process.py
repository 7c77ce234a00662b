"""`mesh serve` as a real process: answers over HTTP, sheds a burst, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections import Counter

import httpx
import pytest

from tests.support import free_port, start_mesh, stop, wait_for

pytestmark = pytest.mark.slow


def start(home, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`mesh serve --port <free> ARGS` (with ``env`` added), once /v1/ready answers 200."""
    port = free_port()
    proc = start_mesh(home, "serve", "--port", str(port), *args, env=env or {},
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            return httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    if not wait_for(ready, timeout=90, step=0.3):
        proc.kill()
        raise AssertionError("mesh serve did not become ready in 90 s")
    return proc, base


async def burst(base: str, n: int) -> Counter:
    """``n`` requests at once, each on its own connection."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        responses = await asyncio.gather(*[client.get("/v1/recommendations/7") for _ in range(n)])
    for r in responses:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "1" and r.json()["error"] == "overloaded"
    return Counter(r.status_code for r in responses)


def test_mesh_serve_answers_sheds_and_stops_cleanly(published):
    proc, base = start(published.home, "--max-pending", "2", "--flush-interval", "30")
    try:
        body = httpx.get(f"{base}/v1/recommendations/7?k=3").json()
        assert body["personalised"] is True and len(body["items"]) == 3
        assert httpx.get(f"{base}/v1/recommendations/abc").status_code == 422
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"]
        event = {"event_type": "view", "product_id": 3, "session_id": "s", "device": "tablet",
                 "customer_id": 7}  # fmt: skip
        assert httpx.post(f"{base}/v1/events", json={"events": [event]}).status_code == 202
        statuses = asyncio.run(burst(base, 300))
        assert set(statuses) <= {200, 503} and statuses[503] > 0, statuses
        assert "mesh_serving_shed_requests_total" in httpx.get(f"{base}/metrics").text
    finally:
        code = stop(proc, timeout=60)
    assert code == 0
    # The event was buffered for 30 s: the graceful shutdown landed it.
    assert list((published.landing / "web").glob("events_api-*.jsonl"))


def test_several_workers_share_the_port_and_the_metrics(published):
    proc, base = start(published.home, "--workers", "2")
    try:
        with httpx.Client(base_url=base) as client:  # new connections spread over workers
            for _ in range(40):
                assert httpx.get(f"{base}/v1/recommendations/7").status_code == 200
            text = client.get("/metrics").text
        line = next(ln for ln in text.splitlines() if ln.startswith(
            'mesh_serving_requests_total{route="recommendations",status="200"}'))  # fmt: skip
        assert float(line.split()[-1]) == 40  # all workers' counts, whichever answered /metrics
        event = {"event_type": "add_to_cart", "product_id": 2, "session_id": "s",
                 "device": "mobile", "customer_id": 11}  # fmt: skip
        assert httpx.post(f"{base}/v1/events", json={"events": [event]}).status_code == 202
        time.sleep(1.0)  # the journal is tailed every 0.2 s
        # Fresh connections land on either worker: every one sees the session.
        answers = [httpx.get(f"{base}/v1/recommendations/11").json() for _ in range(20)]
        assert all(a["reranked"] for a in answers)
        assert os.listdir(published.home / "serving" / "prometheus")
    finally:
        assert stop(proc, timeout=60) == 0
