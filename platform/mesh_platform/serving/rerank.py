"""Session re-ranking: categories a customer views or carts now lift matching recommended items."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from mesh_platform.serving.index import SESSION, Item, RecIndex, pad

# An add-to-cart says more about current intent than a view.
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0}
HALF_LIFE_S = 600.0  # interest halves every 10 minutes of inactivity
MAX_EVENTS = 50  # per customer: the most recent ones carry the session


class SessionStore:
    """Recent interest per customer: (time, category, weight), bounded in customers and events.

    Thread-safe: events arrive on the event loop, the journal tailer may apply others' events.
    """

    def __init__(
        self, ttl_s: float, max_customers: int, clock: Callable[[], float] = time.time
    ) -> None:
        """Keep at most ``max_customers`` sessions, forgetting interest older than ``ttl_s``."""
        self._ttl, self._max, self._clock = ttl_s, max_customers, clock
        self._data: OrderedDict[int, list[tuple[float, str, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, customer_id: int) -> bool:
        return customer_id in self._data

    def __len__(self) -> int:
        return len(self._data)

    def add(self, customer_id: int, category: str, weight: float, at: float | None = None) -> None:
        """Record interest of a customer in a category."""
        with self._lock:
            events = self._data.pop(customer_id, [])
            events.append((self._clock() if at is None else at, category, weight))
            self._data[customer_id] = events[-MAX_EVENTS:]  # re-inserted: most recent last
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def interest(self, customer_id: int) -> dict[str, float]:
        """Category -> decayed interest, the strongest scaled to 1; empty when none is recent."""
        now = self._clock()
        with self._lock:
            events = self._data.get(customer_id)
            if events is None:
                return {}
            events = [e for e in events if now - e[0] <= self._ttl]
            if not events:
                del self._data[customer_id]
                return {}
            self._data[customer_id] = events
        totals: dict[str, float] = {}
        for at, category, weight in events:
            decay = math.pow(0.5, max(0.0, now - at) / HALF_LIFE_S)
            totals[category] = totals.get(category, 0.0) + weight * decay
        top = max(totals.values())
        return {c: v / top for c, v in totals.items()}


def rerank(
    index: RecIndex, customer_id: int, k: int, interest: dict[str, float], boost: float
) -> tuple[list[Item], bool]:
    """Top ``k`` after lifting items of the session's categories; and whether personalised.

    The base order (the model's, then popularity) becomes a position score in (0, 1]; each item
    gains ``boost * interest[category]``. Best sellers of the session's categories join the
    candidates, so a session can surface a category the model did not pick.
    """
    own = index.personal.get(customer_id)
    personalised = own is not None
    base = pad(own or (), index.popular, max(k, len(own or ())))
    seen = {i.product_id for i in base}
    extra = [i for c in interest for i in index.popular_by_category.get(c, ())[:k]
             if i.product_id not in seen]  # fmt: skip
    n = len(base)
    scored = []
    for pos, item in enumerate(base + extra):
        lift = boost * interest.get(item.category or "", 0.0)
        position = (n - pos) / n if pos < n else 0.0
        source = SESSION if pos >= n else item.source
        scored.append((position + lift, pos, item._replace(source=source)))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [i._replace(score=round(s, 6)) for s, _, i in scored[:k]], personalised
