"""The ``serving:`` block of an ML product: what `mesh serve` answers from, named in configuration.

The product publishes ranked predictions (one row per entity and rank) to one of its output
ports; the server answers ``GET /v1/<port>/{<entity>}`` from it, lifts items of the groups a live
session shows interest in (the catalogue port maps item -> group) and falls back to the items
most present in a popularity port for entities the model does not know. Whether the named ports
and columns exist is checked against the mesh and the contracts (`mesh validate`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PORT_PATTERN = r"^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$"
# Keys of the API's own answer: an entity, item or group column may not take one of them.
RESERVED = frozenset({"k", "rank", "score", "source", "personalised", "fallback", "reranked",
                      "model", "items", "event_type", "session_id", "device", "occurred_at",
                      "event_id"})  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PredictionsRef(_Strict):
    """The ranked predictions port: an output port of this product, one row per entity and rank."""

    port: str = Field(pattern=NAME_PATTERN, description="output port of this product")
    entity: str = Field(pattern=NAME_PATTERN, description="who asks: the id in the request path")
    item: str = Field(pattern=NAME_PATTERN, description="the recommended item's id column")
    rank: str = Field(default="rank", pattern=NAME_PATTERN, description="1 = best")
    score: str = Field(default="score", pattern=NAME_PATTERN)
    as_of: str = Field(default="as_of_date", pattern=NAME_PATTERN)


class CatalogueRef(_Strict):
    """Item -> group (e.g. a category): session re-ranking lifts the groups a session shows."""

    port: str = Field(pattern=PORT_PATTERN, description="domain/port")
    version: int | None = Field(default=None, ge=1, description="major read (default: newest)")
    key: str = Field(pattern=NAME_PATTERN, description="the item id column")
    group: str = Field(pattern=NAME_PATTERN, description="the grouping column")


class PopularityRef(_Strict):
    """Best sellers for the fallback: items weighted over the last ``window_days`` of a port."""

    port: str = Field(pattern=PORT_PATTERN, description="domain/port")
    version: int | None = Field(default=None, ge=1, description="major read (default: newest)")
    item: str = Field(pattern=NAME_PATTERN, description="the item id column")
    time: str = Field(pattern=NAME_PATTERN, description="date or timestamp of each row")
    weight: str | None = Field(default=None, pattern=NAME_PATTERN, description="default: rows")
    exclude: dict[str, list[str]] = Field(
        default_factory=dict, description="column -> values whose rows are not counted"
    )
    window_days: int = Field(default=30, ge=1)


class EventsRef(_Strict):
    """Where ``POST /v1/events`` lands events for the batch side (a landing input's glob)."""

    landing: str = Field(
        pattern=r"^[a-z0-9_][a-z0-9_.-]*(/[a-z0-9_][a-z0-9_.-]*)*$",
        description="folder under the landing zone",
    )
    prefix: str = Field(default="events_api", pattern=r"^[a-z0-9_][a-z0-9_.-]*$")
    weights: dict[str, float] = Field(
        default_factory=lambda: {"view": 1.0, "add_to_cart": 3.0},
        description="event_type -> session interest weight",
    )


class ServingSpec(_Strict):
    """What `mesh serve` answers from: predictions, catalogue, popularity, event landing."""

    predictions: PredictionsRef
    catalogue: CatalogueRef | None = None
    popularity: PopularityRef | None = None
    events: EventsRef | None = None

    @model_validator(mode="after")
    def _names_free(self) -> ServingSpec:
        names = [self.predictions.entity, self.predictions.item]
        if self.catalogue:
            names.append(self.catalogue.group)
        taken = [n for n in names if n in RESERVED]
        if taken:
            raise ValueError(f"{', '.join(taken)}: a key of the API's answer; rename the column")
        if self.predictions.entity == self.predictions.item:
            raise ValueError("predictions.entity and predictions.item must differ")
        return self
