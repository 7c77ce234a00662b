"""Real-time events: their schema, and the line each lands as (`landing.LandingWriter`).

Lines carry the landing input's source contract columns in the generator's exact format; the
entity and item ids take the served port's column names.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from mesh_platform.serving.index import dumps

MAX_ID = 2**63 - 1
FUTURE_SLACK = timedelta(minutes=5)  # client clocks drift; later than this is a client bug
ID_PATTERN = r"^[A-Za-z0-9._:-]+$"


class EventBase(BaseModel):
    """One interaction (the fields every event has); `event_models` adds the entity and item ids.

    The entity and item fields take the served port's column names, so an event line lands in
    the format of the landing input that reads it.
    """

    model_config = ConfigDict(extra="forbid")
    names: ClassVar[tuple[str, str]] = ("entity_id", "item_id")  # set per served port

    event_type: str
    session_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    device: Literal["desktop", "mobile", "tablet"]
    occurred_at: datetime | None = Field(
        None,
        description="ISO 8601, after 2000-01-01 and at most 5 min ahead; default: receipt time",
    )
    event_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                                 description="idempotency key; default: generated")  # fmt: skip

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """Naive UTC (the contract's TIMESTAMP), between 2000 and a few minutes from now."""
        if value is None:
            return None
        try:
            utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        except OverflowError:
            raise ValueError("occurred_at is out of range") from None
        if utc.year < 2000 or utc > datetime.now(UTC) + FUTURE_SLACK:
            raise ValueError("occurred_at must be after 2000-01-01 and not in the future")
        return utc.replace(tzinfo=None)

    @property
    def entity_id(self) -> int | None:
        """Who acted (None: anonymous)."""
        return getattr(self, self.names[0])

    @property
    def item_id(self) -> int:
        """The item acted on."""
        return getattr(self, self.names[1])


class EventBatch(BaseModel):
    """Events sent together (a page's beacon batch)."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventBase] = Field(min_length=1, max_length=500)


def event_models(entity: str, item: str, event_types: list[str]) -> type[EventBatch]:
    """The batch model of a served port: ids named after its columns, its event types."""
    kinds = Literal[tuple(event_types)]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        "event_type": (kinds, ...),
        # strict: "404152" is not an id (the schema says integer; lax pydantic took the string)
        item: (int, Field(ge=1, le=MAX_ID, strict=True)),
        entity: (
            int | None,
            Field(None, ge=1, le=MAX_ID, strict=True, description="null when anonymous"),
        ),  # fmt: skip
    }
    event = create_model("EventIn", __base__=EventBase, __doc__="One interaction.", **fields)
    event.names = (entity, item)
    events: Any = list[event]  # pyright: ignore[reportInvalidTypeForm]
    return create_model("EventBatch", __base__=EventBatch, __doc__=EventBatch.__doc__,
                        events=(events, Field(min_length=1, max_length=500)))  # fmt: skip


class EventsAccepted(BaseModel):
    """What happened to a batch of events."""

    accepted: int
    reranked_entities: int = Field(description="entities whose session interest changed")
    lands_within_s: float = Field(description="longest wait before the events land for batch")


def landing_line(event: EventBase, received: datetime) -> bytes:
    """The JSON line the landing input's ingestion reads, keys in the generator's order."""
    at = event.occurred_at or received.replace(tzinfo=None)
    entity, item = event.names
    return dumps({
        "event_id": event.event_id or f"api-{uuid.uuid4().hex}", "event_type": event.event_type,
        entity: event.entity_id, "session_id": event.session_id,
        item: event.item_id, "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%S"),
        "device": event.device,
    }) + b"\n"  # fmt: skip


def event_key(line: bytes) -> str:
    """The idempotency key of a landing line: its ``event_id`` (the broker de-duplicates on it)."""
    return orjson.loads(line)["event_id"]
