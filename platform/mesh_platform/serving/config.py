"""Serving settings: limits and intervals, and the ports and columns the index is built from.

Nothing here names a mesh: `ServedPorts` comes from a product's ``serving:`` block
(`mesh_platform.serving.binding`), or is built by hand (tests).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from mesh_platform.ports.refs import PortRef


def port_ref(text: str) -> PortRef:
    """``domain/port@vN`` -> PortRef."""
    name, _, major = text.partition("@v")
    domain, _, port = name.partition("/")
    return PortRef(domain, port, int(major or 1))


def ref_text(ref: PortRef) -> str:
    """PortRef -> ``domain/port@vN`` (JSON-friendly)."""
    return f"{ref.domain}/{ref.product}@v{ref.version}"


@dataclass(frozen=True)
class ServedPorts:
    """The ports and columns served, resolved from a ``serving:`` block; refs as ``d/p@vN``.

    Attributes:
        model_name: Registered model whose champion scores the predictions (the product).
        predictions: Ranked predictions: one row per entity and rank.
        entity, item, rank, score, as_of: Its columns; entity and item are the API's names.
        catalogue, catalogue_key, group: Item -> group port for session re-ranking (optional).
        popularity, popularity_item, popularity_time: Port whose recent rows rank best sellers.
        popularity_weight: Column summed per item (None: rows are counted).
        popularity_exclude: (column, values) pairs whose rows are not counted.
        landing: Folder under the landing zone events land in (None: events are not landed).
        landing_prefix: Landed file names start with it.
        event_weights: event_type -> session interest weight.
    """

    model_name: str
    predictions: str
    entity: str
    item: str
    rank: str = "rank"
    score: str = "score"
    as_of: str = "as_of_date"
    catalogue: str | None = None
    catalogue_key: str = ""
    group: str = "group"
    popularity: str | None = None
    popularity_item: str = ""
    popularity_time: str = ""
    popularity_weight: str | None = None
    popularity_exclude: tuple[tuple[str, tuple[str, ...]], ...] = ()
    landing: str | None = None
    landing_prefix: str = "events_api"
    event_weights: tuple[tuple[str, float], ...] = (("view", 1.0), ("add_to_cart", 3.0))

    def refs(self) -> tuple[PortRef | None, PortRef | None, PortRef | None]:
        """(predictions, catalogue, popularity) port refs; None where not configured."""
        catalogue = port_ref(self.catalogue) if self.catalogue else None
        popularity = port_ref(self.popularity) if self.popularity else None
        return port_ref(self.predictions), catalogue, popularity

    @property
    def path_name(self) -> str:
        """The API's path segment: ``GET /v1/<predictions port>/{<entity>}``."""
        return port_ref(self.predictions).product


@dataclass(frozen=True)
class ServeConfig:
    """How the service behaves; every field has a measured or reasoned default (docs/serving.md).

    Attributes:
        ports: What is served (ports, columns, model, event landing).
        default_k: Items returned when the request gives no ``k``.
        max_k: Largest ``k`` accepted; larger is a 422.
        max_pending: Requests admitted (parsed, not yet answered) per worker before shedding.
        retry_after_s: Value of the ``Retry-After`` header on a shed request.
        poll_interval_s: How often the champion watcher looks at the port tables and registry.
        flush_interval_s: Longest time a received event waits in memory before it lands.
        flush_max_events: Events that trigger an immediate landing flush.
        session_ttl_s: Session interest older than this no longer boosts anything.
        session_boost: Weight of the session's group interest against the model's order.
        max_sessions: Entities whose session state is kept (least recently active dropped first).
        popular_window_days: Days of the popularity port counted for the fallback.
    """

    ports: ServedPorts
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

    def to_json(self) -> str:
        """JSON for worker processes."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        """The config `to_json` wrote."""
        data = json.loads(text)
        ports = data.pop("ports")
        ports["popularity_exclude"] = tuple(
            (c, tuple(v)) for c, v in ports.get("popularity_exclude", ())
        )
        ports["event_weights"] = tuple((e, float(w)) for e, w in ports.get("event_weights", ()))
        return replace(cls(ServedPorts(**ports)), **data)
