"""Session re-ranking: groups (e.g. categories) an entity interacts with now lift their items."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from mesh_platform.serving.index import SESSION, Item, RecIndex, pad

HALF_LIFE_S = 600.0  # interest halves every 10 minutes of inactivity
MAX_EVENTS = 50  # per entity: the most recent ones carry the session


class SessionStore:
    """Recent interest per entity: (time, group, weight), bounded in entities and events.

    Thread-safe: events arrive on the event loop, the journal tailer may apply others' events.
    """

    def __init__(
        self, ttl_s: float, max_entities: int, clock: Callable[[], float] = time.time
    ) -> None:
        """Keep at most ``max_entities`` sessions, forgetting interest older than ``ttl_s``."""
        self._ttl, self._max, self._clock = ttl_s, max_entities, clock
        self._data: OrderedDict[int, list[tuple[float, str, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, entity_id: int) -> bool:
        return entity_id in self._data

    def __len__(self) -> int:
        return len(self._data)

    def add(self, entity_id: int, group: str, weight: float, at: float | None = None) -> None:
        """Record interest of an entity in a group."""
        with self._lock:
            events = self._data.pop(entity_id, [])
            events.append((self._clock() if at is None else at, group, weight))
            self._data[entity_id] = events[-MAX_EVENTS:]  # re-inserted: most recent last
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def interest(self, entity_id: int) -> dict[str, float]:
        """Category -> decayed interest, the strongest scaled to 1; empty when none is recent."""
        now = self._clock()
        with self._lock:
            events = self._data.get(entity_id)
            if events is None:
                return {}
            events = [e for e in events if now - e[0] <= self._ttl]
            if not events:
                del self._data[entity_id]
                return {}
            self._data[entity_id] = events
        totals: dict[str, float] = {}
        for at, group, weight in events:
            decay = math.pow(0.5, max(0.0, now - at) / HALF_LIFE_S)
            totals[group] = totals.get(group, 0.0) + weight * decay
        top = max(totals.values())
        return {c: v / top for c, v in totals.items()}


def rerank(
    index: RecIndex, entity_id: int, k: int, interest: dict[str, float], boost: float
) -> tuple[list[Item], bool]:
    """Top ``k`` after lifting items of the session's groups; and whether personalised.

    The base order (the model's, then popularity) becomes a position score in (0, 1]; each item
    gains ``boost * interest[group]``. Best sellers of the session's groups join the
    candidates, so a session can surface a group the model did not pick.
    """
    own = index.personal.get(entity_id)
    personalised = own is not None
    base = pad(own or (), index.popular, max(k, len(own or ())))
    seen = {i.item_id for i in base}
    extra = [i for c in interest for i in index.popular_by_group.get(c, ())[:k]
             if i.item_id not in seen]  # fmt: skip
    n = len(base)
    scored = []
    for pos, item in enumerate(base + extra):
        lift = boost * interest.get(item.group or "", 0.0)
        position = (n - pos) / n if pos < n else 0.0
        source = SESSION if pos >= n else item.source
        scored.append((position + lift, pos, item._replace(source=source)))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [i._replace(score=round(s, 6)) for s, _, i in scored[:k]], personalised
