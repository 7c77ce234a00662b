"""Response models: they document the API (OpenAPI); hot answers are pre-serialised bytes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model


class ModelOut(BaseModel):
    """The model and the published snapshot the answer comes from."""

    name: str
    version: int | None = Field(description="model version that scored the snapshot")
    snapshot_id: str | None
    as_of_date: str | None


class ErrorOut(BaseModel):
    """A refused request: what is wrong and how to fix it."""

    error: str
    message: str
    detail: list[dict[str, Any]] | None = None


class HealthOut(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Readiness: whether an index is loaded, and from what."""

    ready: bool
    reason: str | None = None
    model: ModelOut | None = None
    registry_champion: int | None = None
    awaiting_champion_snapshot: bool | None = None
    entities: int | None = None
    popular_items: int | None = None
    sessions: int | None = None
    pending_events: int | None = None
    last_reload_error: str | None = None


SOURCE = Field(description="model: the champion's list; popularity: best sellers (fallback or "
               "top-up); session: a best seller of a group the live session shows")  # fmt: skip


def answer_model(entity: str, item: str, group: str) -> type[BaseModel]:
    """The documented answer of ``GET /v1/<port>/{entity}``, keys named after the port's columns.

    Hot answers are pre-serialised by the index; this model documents them (OpenAPI).
    """
    item_fields: dict[str, Any] = {
        "rank": (int, Field(ge=1)), item: (int, ...),
        "score": (float, Field(description="model score; the session-adjusted score when "
                                           "re-ranked")),
        group: (str | None, ...), "source": (Literal["model", "popularity", "session"], SOURCE),
    }  # fmt: skip
    item_out = create_model("ItemOut", __doc__="One ranked item.", **item_fields)
    fields: dict[str, Any] = {
        entity: (int, ...), "k": (int, ...),
        "personalised": (bool, Field(description="false when the entity is unknown to the model")),
        "fallback": (Literal["popularity"] | None, ...),
        "reranked": (bool, Field(description="true when live session events changed the order")),
        "model": (ModelOut, ...), "items": (list[item_out], ...),
    }  # fmt: skip
    return create_model("AnswerOut", __doc__="Ranked items for one entity.", **fields)
