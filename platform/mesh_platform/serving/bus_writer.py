"""The bus writer: accepted events go to an on-disk outbox, then to the broker, in order.

It takes the landing writer's place when MESH_EVENTS_URL names a broker (`create_app`):
``add`` only appends to the outbox, so a request never waits on the broker and a broker that
is down costs nothing but outbox space; past the outbox's bound, events get 503.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from mesh_platform.events.bus import BusMessage, BusUnavailable, Publisher
from mesh_platform.events.config import bus_config
from mesh_platform.events.outbox import Outbox, OutboxFull, claim
from mesh_platform.serving.config import ServeConfig
from mesh_platform.serving.events import event_key
from mesh_platform.serving.landing import EventWriter, LandingFull, LandingWriter
from mesh_platform.settings import MeshPaths

log = logging.getLogger(__name__)
PUBLISH_BATCH = 500  # events per publish round trip (a whole POST batch at most)
MAX_BACKOFF_S = 5.0  # longest pause between attempts while the broker is down


class BusWriter:
    """Appends event lines to an outbox; a background thread publishes them, oldest first."""

    def __init__(self, outbox: Outbox, publisher: Publisher, interval_s: float) -> None:
        """Publish from ``outbox`` through ``publisher``; check at least every ``interval_s``."""
        self.outbox, self.publisher, self.interval_s = outbox, publisher, interval_s
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.failures = 0

    def start(self) -> None:
        """Start the background publisher (events a previous process left are sent first)."""
        self._thread = threading.Thread(target=self._run, name="bus-publish", daemon=True)
        self._thread.start()
        if self.outbox.pending:
            self._wake.set()

    def close(self) -> None:
        """Stop publishing; what the broker has not stored stays in the outbox for next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()  # a last attempt: what fails waits in the outbox
        self.publisher.close()
        self.outbox.close()

    def add(self, lines: list[bytes]) -> None:
        """Append lines to the outbox and wake the publisher.

        Raises:
            LandingFull: the outbox holds its bound (the broker has been down too long).
        """
        try:
            self.outbox.append([BusMessage(event_key(line), line) for line in lines])
        except OutboxFull as exc:
            raise LandingFull(str(exc)) from None
        self._wake.set()

    @property
    def pending(self) -> int:
        """Events accepted and not yet stored by the broker."""
        return self.outbox.pending

    def flush(self) -> bool:
        """Publish everything pending; False when the broker failed (the rest stays)."""
        self.outbox.sync()
        while True:
            batch = self.outbox.peek(PUBLISH_BATCH)
            if not batch.messages:
                return True
            try:
                done = self.publisher.publish(batch.messages)
            except BusUnavailable as exc:
                self.outbox.commit(batch, exc.done)
                self.published += exc.done
                self.failures += 1
                log.warning("event bus: %s (%d events wait in the outbox)", exc,
                            self.outbox.pending)  # fmt: skip
                return False
            self.outbox.commit(batch, done)
            self.published += done
        return True

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            ok = self.flush()
            backoff = 0.0 if ok else min(MAX_BACKOFF_S, max(0.1, backoff * 2))


def outbox_root(home: Path) -> Path:
    """Where the serving workers' outboxes live (one per live worker, taken over on restart)."""
    return home / "serving" / "outbox"


def event_writer(paths: MeshPaths, config: ServeConfig, folder: str) -> EventWriter:
    """Files in ``landing/<folder>`` by default; the broker when MESH_EVENTS_URL names one."""
    bus = bus_config()
    if bus is None:
        return LandingWriter(paths.landing / folder, config.flush_interval_s,
                             config.flush_max_events, config.ports.landing_prefix)  # fmt: skip
    from mesh_platform.events.jetstream import JetStreamPublisher  # needs the 'nats' extra

    outbox = claim(outbox_root(paths.home))
    return BusWriter(outbox, JetStreamPublisher(bus, folder), config.flush_interval_s)
