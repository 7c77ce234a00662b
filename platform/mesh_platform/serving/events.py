"""Real-time events: their schema, and the writer that lands them for a landing input.

Events land as complete JSON-lines files in the folder ``serving.events`` names (the landing
input's source contract, the generator's exact line format): written under a dot-name the
landing glob does not match, then renamed, so the landing sensor never sees half a file.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from mesh_platform.serving import metrics
from mesh_platform.serving.index import dumps

log = logging.getLogger(__name__)
MAX_ID = 2**63 - 1
MAX_BUFFERED = 200_000  # events held while the landing zone cannot be written; then 503
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
        item: (int, Field(ge=1, le=MAX_ID)),
        entity: (int | None, Field(None, ge=1, le=MAX_ID, description="null when anonymous")),
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


class LandingFull(Exception):
    """The landing zone has been unwritable for too long: events are refused, not dropped."""


class LandingWriter:
    """Buffers event lines and lands them as complete files, by time or by count."""

    def __init__(
        self, folder: Path, interval_s: float, max_events: int, prefix: str = "events_api"
    ) -> None:
        """Land ``<prefix>-*.jsonl`` into ``folder`` at least every ``interval_s`` seconds."""
        self.folder, self.interval_s, self.max_events = Path(folder), interval_s, max_events
        self.prefix = prefix
        self._buffer: list[bytes] = []
        self._lock, self._flush_lock = threading.Lock(), threading.Lock()
        self._stop = threading.Event()
        self._seq = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.files_written = 0
        self.failures = 0

    def start(self) -> None:
        """Start the background flusher."""
        self._thread = threading.Thread(target=self._run, name="landing-flush", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the flusher and land whatever is buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def add(self, lines: list[bytes]) -> None:
        """Buffer lines; a full buffer is flushed by the background thread, not the caller.

        Raises:
            LandingFull: too many events are waiting because writing keeps failing.
        """
        with self._lock:
            if len(self._buffer) + len(lines) > MAX_BUFFERED:
                raise LandingFull(f"{len(self._buffer)} events wait for {self.folder}")
            self._buffer.extend(lines)
            full = len(self._buffer) >= self.max_events
        if full:
            threading.Thread(target=self.flush, daemon=True).start()

    @property
    def pending(self) -> int:
        """Events received and not landed yet."""
        return len(self._buffer)

    def flush(self) -> Path | None:
        """Land the buffered events as one file; on failure they stay buffered for a retry."""
        with self._flush_lock:
            with self._lock:
                lines, self._buffer = self._buffer, []
            if not lines:
                return None
            try:
                return self._write(lines)
            except OSError as exc:
                self.failures += 1
                log.error("cannot land %d events in %s: %s (kept for retry)",
                          len(lines), self.folder, exc)  # fmt: skip
                with self._lock:
                    self._buffer = lines + self._buffer
                return None

    def _write(self, lines: list[bytes]) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{next(self._seq):06d}.jsonl"
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp, final = self.folder / f".{name}.tmp", self.folder / name
        try:
            with open(tmp, "wb") as fh:
                fh.write(b"".join(lines))
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, final)  # same folder: atomic; the glob never matches the dot-name
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.files_written += 1
        metrics.LANDED_FILES.inc()
        return final

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()
