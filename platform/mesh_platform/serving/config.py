"""Serving settings: limits, intervals and the ports the index is built from."""

from __future__ import annotations

from dataclasses import dataclass

from mesh_platform.ports.snapshots import PortRef

RECOMMENDATIONS = PortRef("personalization", "recommendations", 1)
PRODUCTS = PortRef("catalog", "products", 1)
ORDER_LINES = PortRef("sales", "order_lines", 1)
MODEL_NAME = "recommender"


@dataclass(frozen=True)
class ServeConfig:
    """How the service behaves; every field has a measured or reasoned default (docs/serving.md).

    Attributes:
        default_k: Items returned when the request gives no ``k``.
        max_k: Largest ``k`` accepted; larger is a 422.
        max_pending: Requests admitted (parsed, not yet answered) per worker before shedding.
        retry_after_s: Value of the ``Retry-After`` header on a shed request.
        poll_interval_s: How often the champion watcher looks at the port pointers and registry.
        flush_interval_s: Longest time a received event waits in memory before it lands.
        flush_max_events: Events that trigger an immediate landing flush.
        session_ttl_s: Session interest older than this no longer boosts anything.
        session_boost: Weight of the session's category interest against the model's order.
        max_sessions: Customers whose session state is kept (least recently active dropped first).
        popular_window_days: Days of order lines counted for the popularity fallback.
    """

    default_k: int = 10
    max_k: int = 50
    max_pending: int = 64
    retry_after_s: int = 1
    poll_interval_s: float = 1.0
    flush_interval_s: float = 5.0
    flush_max_events: int = 5000
    session_ttl_s: float = 1800.0
    session_boost: float = 1.0
    max_sessions: int = 200_000
    popular_window_days: int = 30
