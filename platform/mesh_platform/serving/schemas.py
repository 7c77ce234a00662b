"""Response models: they document the API (OpenAPI); hot answers are pre-serialised bytes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ItemOut(BaseModel):
    """One recommended product."""

    rank: int = Field(ge=1)
    product_id: int
    score: float = Field(description="model score; the session-adjusted score when re-ranked")
    category: str | None
    source: Literal["model", "popularity", "session"] = Field(
        description="model: the champion's list; popularity: best sellers (fallback or top-up);"
        " session: a best seller of a category of the live session"
    )


class ModelOut(BaseModel):
    """The model and the published snapshot the answer comes from."""

    name: str
    version: int | None = Field(description="model version that scored the snapshot")
    snapshot_id: str | None
    as_of_date: str | None


class RecommendationsOut(BaseModel):
    """Recommendations for one customer."""

    customer_id: int
    k: int
    personalised: bool = Field(description="false when the customer is unknown to the model")
    fallback: Literal["popularity"] | None
    reranked: bool = Field(description="true when live session events changed the order")
    model: ModelOut
    items: list[ItemOut]


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
    customers: int | None = None
    popular_items: int | None = None
    sessions: int | None = None
    pending_events: int | None = None
    last_reload_error: str | None = None
