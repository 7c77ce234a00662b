"""The in-memory answer index: an immutable snapshot of answers, swapped as a whole."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

try:  # orjson serialises ~5x faster; the standard library is the fallback
    import orjson

    def dumps(value: Any) -> bytes:
        """JSON bytes of a value."""
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - orjson is installed with the project
    import json

    def dumps(value: Any) -> bytes:
        """JSON bytes of a value."""
        return json.dumps(value, separators=(",", ":")).encode()


MODEL, POPULARITY, SESSION = "model", "popularity", "session"


class Item(NamedTuple):
    """One rankable item with its score, its group and where it came from."""

    item_id: int
    score: float
    group: str | None
    source: str


class ApiNames(NamedTuple):
    """The answer's keys for the entity, the item and its group (the served port's columns)."""

    entity: str
    item: str
    group: str


@dataclass(frozen=True)
class ModelInfo:
    """Which model and which published snapshot the answers come from."""

    name: str
    version: int | None
    snapshot_id: str | None
    as_of_date: str | None
    registry_champion: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``model`` object of a response."""
        return {"name": self.name, "version": self.version, "snapshot_id": self.snapshot_id,
                "as_of_date": self.as_of_date}  # fmt: skip


@dataclass(frozen=True)
class RecIndex:
    """Every answer the service gives without session context, precomputed.

    Built once per champion/port change; its answers never change (only a cache of rendered
    bodies fills up): the app swaps the reference, so a request sees one index throughout.
    """

    model: ModelInfo
    personal: Mapping[int, tuple[Item, ...]]
    popular: tuple[Item, ...]
    popular_by_group: Mapping[str, tuple[Item, ...]]
    groups: Mapping[int, str]
    default_k: int
    names: ApiNames
    sources: tuple[str | None, ...] = ()  # snapshot ids (and champion) it was built from
    _bodies: dict[int, bytes] = field(default_factory=dict, repr=False)

    def items_for(self, entity_id: int, k: int) -> tuple[list[Item], bool]:
        """Top ``k`` items and whether they are personalised (else the popularity fallback)."""
        own = self.personal.get(entity_id)
        if own is None:
            return list(self.popular[:k]), False
        return pad(own, self.popular, k), True

    def body(self, entity_id: int, k: int) -> bytes:
        """The JSON answer for an entity without session context."""
        if k == self.default_k:
            cached = self._bodies.get(entity_id)
            if cached is not None:
                return cached
        items, personalised = self.items_for(entity_id, k)
        body = self.render(entity_id, items, k, personalised, False)
        if k == self.default_k and personalised:
            # Rendered on first use, not at build: the build stays short (it holds the GIL
            # while requests are served); from then on the common request is a dict lookup.
            self._bodies[entity_id] = body
        return body

    def render(
        self, entity_id: int, items: Iterable[Item], k: int, personalised: bool, reranked: bool
    ) -> bytes:
        """Serialise one response (the RecommendationsOut schema)."""
        n = self.names
        return dumps({
            n.entity: entity_id, "k": k, "personalised": personalised,
            "fallback": None if personalised else POPULARITY, "reranked": reranked,
            "model": self.model.as_json(),
            "items": [{"rank": r, n.item: i.item_id, "score": i.score, n.group: i.group,
                       "source": i.source} for r, i in enumerate(items, start=1)],
        })  # fmt: skip

    @property
    def entities(self) -> int:
        """Entities with personalised answers."""
        return len(self.personal)


def pad(own: tuple[Item, ...], popular: tuple[Item, ...], k: int) -> list[Item]:
    """The first ``k`` of ``own``, topped up with popular items it does not already hold."""
    items = list(own[:k])
    if len(items) < k:
        seen = {i.item_id for i in items}
        items += [p for p in popular if p.item_id not in seen][: k - len(items)]
    return items
