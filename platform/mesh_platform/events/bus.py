"""The event-bus interface: a publisher of keyed events and a consumer that acks after landing.

Any broker with durable, ordered storage and explicit acknowledgement fits. The NATS JetStream
implementation is `mesh_platform.events.nats`; a Kafka one would use confluent-kafka:

- `Publisher.publish` -> ``Producer(enable.idempotence=True, acks=all)``: ``produce(topic,
  payload, key=event key)`` for each message, then ``flush(timeout)``; the leading messages
  whose delivery reports succeeded are the count returned. Kafka's idempotent producer dedupes
  its own retries; a re-send after a producer restart is caught downstream by the event key.
- `Consumer.fetch` -> ``Consumer(enable.auto.commit=False)``: ``consume(num_messages,
  timeout)``; `Consumer.ack` -> ``commit(offsets=..., asynchronous=False)`` of the last
  offset + 1 per partition. ``Delivery.handle`` is the ``Message`` (topic, partition, offset).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class BusUnavailable(Exception):
    """The broker did not confirm every message: the first ``done`` were stored, re-send the rest.

    Attributes:
        done: How many leading messages the broker confirmed.
    """

    def __init__(self, message: str, done: int = 0) -> None:
        super().__init__(message)
        self.done = done


@dataclass(frozen=True)
class BusMessage:
    """One event: its idempotency key (the broker's de-duplication id) and its payload."""

    key: str
    payload: bytes


@dataclass(frozen=True)
class Delivery:
    """A message as a consumer received it; ``handle`` is what the broker needs to ack it."""

    key: str
    payload: bytes
    handle: Any


class Publisher(Protocol):
    """Stores events in the broker, in order, each under its key (re-sending a key is a no-op)."""

    def publish(self, batch: Sequence[BusMessage]) -> int:
        """Publish ``batch`` in order; the number stored (all of them).

        Raises:
            BusUnavailable: the broker is unreachable or refused; ``done`` were stored.
        """
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Consumer(Protocol):
    """A durable consumer: what it fetched and did not ack is delivered again (at least once)."""

    def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_events`` deliveries, waiting at most ``timeout_s`` for the first.

        Raises:
            BusUnavailable: the broker is unreachable.
        """
        ...

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Confirm ``deliveries`` are durably handled: the broker will not deliver them again.

        Raises:
            BusUnavailable: not every ack was confirmed (they may be delivered again).
        """
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
