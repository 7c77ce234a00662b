"""Prometheus metrics of the service; multi-process aware when PROMETHEUS_MULTIPROC_DIR is set.

The environment variable must be set before ``prometheus_client`` is first imported (the CLI does
so for ``--workers`` > 1): each worker then writes its samples to memory-mapped files there and
``/metrics`` on any worker aggregates all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Sub-millisecond resolution where this service lives, up to the client timeouts worth knowing.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25,
                   0.5, 1.0, 2.5)  # fmt: skip

REQUESTS = Counter("mesh_serving_requests", "HTTP requests answered", ["route", "status"])
LATENCY = Histogram("mesh_serving_request_duration_seconds", "Time in the application, by route",
                    ["route"], buckets=LATENCY_BUCKETS)  # fmt: skip
SHED = Counter("mesh_serving_shed_requests", "Requests refused with 503 by admission control")
FALLBACKS = Counter("mesh_serving_fallbacks", "Answers from the popularity fallback")
RERANKED = Counter("mesh_serving_reranked", "Answers re-ranked by session interest")
EVENTS = Counter("mesh_serving_events", "Events received", ["event_type"])
LANDED_FILES = Counter("mesh_serving_landed_files", "Event files landed for the batch side")
SWAPS = Counter("mesh_serving_index_swaps", "Index rebuilds swapped in (champion/port changes)")
SWAP_FAILURES = Counter("mesh_serving_index_swap_failures", "Index rebuilds that failed")
MODEL_VERSION = Gauge("mesh_serving_model_version", "Model version of the served snapshot",
                      multiprocess_mode="livemax")  # fmt: skip
ENTITIES = Gauge("mesh_serving_index_entities", "Entities with personalised answers",
                 multiprocess_mode="livemax")  # fmt: skip

_children: dict[tuple[str, str], object] = {}


def observe(route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency (label children cached: hot path)."""
    key = (route, str(status))
    child = _children.get(key)
    if child is None:
        child = _children[key] = (REQUESTS.labels(*key), LATENCY.labels(route))
    count, hist = child  # type: ignore[misc]
    count.inc()
    hist.observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The Prometheus text exposition (all workers' samples in multi-process mode)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
