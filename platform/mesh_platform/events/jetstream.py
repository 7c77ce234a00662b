"""NATS JetStream implementation of the event bus (nats-py), behind a synchronous facade.

nats-py is asyncio; its callers (the serving flusher thread, a Dagster sensor) are not, so each
bus runs its own event loop in a daemon thread. A connection is never reconnected in the
background: a failed call drops it and the next call connects again, so a broker that is down
costs one ``timeout_s`` per attempt and nothing is buffered out of sight in the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from mesh_platform.events.bus import BusMessage, BusUnavailable, Delivery
from mesh_platform.events.config import URL_ENV, BusConfig

MSG_ID = "Nats-Msg-Id"  # JetStream drops a message whose id it stored within the window
DUPLICATE_WINDOW_S = 600.0  # covers a re-send after a lost publish ack (seconds later)
MAX_AGE_S = 7 * 86400.0  # events are kept a week after landing, for a replay
ACK_WAIT_S = 60.0  # a fetched batch must be landed within this, else it is delivered again
MAX_ACK_PENDING = 50_000  # above any batch a sensor tick fetches (the default 1,000 is not)
POLL_S = 0.05  # a fetch waiting for a first event asks again this often
STATUS = "Status"  # header of JetStream's status messages (nats.js.api.Header.STATUS)


class _Loop:
    """An asyncio loop in a daemon thread, and a blocking call into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="event-bus")  # fmt: skip
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()  # else it runs on beside the next call, on the same connection
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


async def _quiet(*_args: Any) -> None:
    """Connection callbacks: failures surface as BusUnavailable, not as logged tracebacks."""


def _require_client() -> None:
    """Fail at start, not at the first event, when the 'nats' extra is not installed."""
    try:
        import nats  # noqa: F401
    except ImportError:
        raise RuntimeError(
            f"the event bus needs nats-py: install mesh-platform[nats] "
            f"(or unset {URL_ENV} to land events as files)"
        ) from None


class _JetStream:
    """One connection and its JetStream context; (re)connected on demand."""

    def __init__(self, config: BusConfig, timeout_s: float) -> None:
        _require_client()
        self.config, self.timeout_s = config, timeout_s
        self._loop = _Loop()
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None  # a consumer's inbox subscription, bound to this connection
        self._inbox = ""

    async def _context(self) -> Any:
        import nats  # the optional extra 'nats': only a configured bus needs it

        if self._nc is None or not self._nc.is_connected:
            await self._drop()
            # nats-py retries a refused first connect forever unless max_reconnect_attempts > 0
            # (0 is not "none"): 1 and no wait give up after two attempts, at once.
            self._nc = await asyncio.wait_for(nats.connect(
                self.config.url, allow_reconnect=False, connect_timeout=self.timeout_s,
                max_reconnect_attempts=1, reconnect_time_wait=0, error_cb=_quiet,
                disconnected_cb=_quiet, closed_cb=_quiet,
            ), self.timeout_s * 2)  # fmt: skip
            self._js = self._nc.jetstream(timeout=self.timeout_s)
            await self._ensure_stream()
        return self._js

    async def _ensure_stream(self) -> None:
        from nats.js.api import StorageType
        from nats.js.errors import NotFoundError

        try:
            await self._js.stream_info(self.config.stream)
        except NotFoundError:
            await self._js.add_stream(
                name=self.config.stream, subjects=[f"{self.config.subjects}.>"],
                storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S,
                max_age=MAX_AGE_S,
            )  # fmt: skip

    async def _drop(self) -> None:
        nc, self._nc, self._js, self._sub = self._nc, None, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):  # a broken connection is dropped either way
                await asyncio.wait_for(nc.close(), self.timeout_s)

    def call(self, coro: Coroutine[Any, Any, Any], what: str) -> Any:
        """Run ``coro`` on the bus loop; any failure drops the connection -> BusUnavailable."""
        try:
            return self._loop.run(coro, self.timeout_s * 4 + 5)
        except BusUnavailable:
            self._loop.run(self._drop(), self.timeout_s + 5)
            raise
        except Exception as exc:  # noqa: BLE001 - nats, socket and timeout errors alike
            self._loop.run(self._drop(), self.timeout_s + 5)
            raise BusUnavailable(f"{what} on {self.config.url}: {exc!r}") from exc

    def close(self) -> None:
        """Close the connection and stop the loop."""
        try:
            self._loop.run(self._drop(), self.timeout_s + 5)
        finally:
            self._loop.stop()


class JetStreamPublisher(_JetStream):
    """Publishes a feed's events to ``<subjects>.<folder>``, each with ``Nats-Msg-Id`` = key."""

    def __init__(self, config: BusConfig, folder: str, timeout_s: float = 2.0) -> None:
        """Publish the events that land in ``folder`` (under the landing zone)."""
        super().__init__(config, timeout_s)
        self.subject = config.subject(folder)
        self.duplicates = 0  # re-sent events JetStream recognised and did not store again

    async def _publish(self, batch: Sequence[BusMessage]) -> int:
        js = await self._context()
        # publish_async pipelines the batch on one connection: sent in order, acks awaited after.
        futures = [await js.publish_async(self.subject, m.payload, headers={MSG_ID: m.key})
                   for m in batch]  # fmt: skip
        done = 0
        for future in futures:
            try:
                ack = await asyncio.wait_for(future, self.timeout_s)
            except Exception as exc:  # noqa: BLE001 - the rest is re-sent, de-duplicated
                raise BusUnavailable(f"publish to {self.config.url}: {exc!r}", done) from exc
            self.duplicates += bool(ack.duplicate)
            done += 1
        return done

    def publish(self, batch: Sequence[BusMessage]) -> int:
        """Publish ``batch`` in order; the number stored (all of them).

        Raises:
            BusUnavailable: the broker is unreachable or refused; ``done`` were stored.
        """
        return self.call(self._publish(batch), "publish") if batch else 0


class JetStreamConsumer(_JetStream):
    """A durable pull consumer of one feed: explicit acks, redelivery after ACK_WAIT_S."""

    def __init__(self, config: BusConfig, folder: str, prefix: str, timeout_s: float = 2.0):
        """Consume the events of ``folder`` with the durable consumer of ``(folder, prefix)``."""
        super().__init__(config, timeout_s)
        self.subject, self.durable = config.subject(folder), config.durable(folder, prefix)

    async def _bind(self) -> Any:
        """The durable consumer (created on first use) and the subscription of its inbox."""
        from nats.js.api import AckPolicy, ConsumerConfig
        from nats.js.errors import NotFoundError

        js = await self._context()
        try:
            await js.consumer_info(self.config.stream, self.durable)
        except NotFoundError:
            await js.add_consumer(self.config.stream, ConsumerConfig(
                durable_name=self.durable, filter_subject=self.subject,
                ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_S,
                max_ack_pending=MAX_ACK_PENDING,
            ))  # fmt: skip
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox)
        return self._sub

    async def _pull(self, max_events: int) -> list[Any]:
        """What the consumer holds now, up to ``max_events``: a ``no_wait`` pull request.

        Not nats-py's ``fetch``: its lingering request outlives the client's own timeout on
        the server, which then sends messages to a caller that has gone (the sensor closes
        its connection every tick); they wait ACK_WAIT_S to be delivered again. A ``no_wait``
        request is answered at once, with a status message when fewer than asked remain.
        """
        sub = self._sub or await self._bind()
        request = json.dumps({"batch": max_events, "no_wait": True}).encode()
        api = f"$JS.API.CONSUMER.MSG.NEXT.{self.config.stream}.{self.durable}"
        await self._nc.publish(api, request, reply=self._inbox)
        msgs: list[Any] = []
        while len(msgs) < max_events:
            msg = await sub.next_msg(timeout=self.timeout_s)
            if msg.headers and msg.headers.get(STATUS):  # 404 no messages, 408: the request ended
                break
            msgs.append(msg)
        return msgs

    async def _fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not (msgs := await self._pull(max_events)):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return []
            await asyncio.sleep(min(POLL_S, left))
        return [Delivery((m.headers or {}).get(MSG_ID) or f"seq-{m.metadata.sequence.stream}",
                         m.data, m) for m in msgs]  # fmt: skip

    def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_events`` deliveries, waiting at most ``timeout_s`` for the first.

        Raises:
            BusUnavailable: the broker is unreachable.
        """
        return self.call(self._fetch(max_events, timeout_s), "fetch")

    async def _ack(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            await d.handle.ack()
        await self._nc.flush(timeout=max(1, int(self.timeout_s)))  # the server has them all

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Ack ``deliveries``; confirmed once the server answered a ping sent after them.

        Raises:
            BusUnavailable: not every ack was confirmed (they may be delivered again).
        """
        if deliveries:
            self.call(self._ack(deliveries), "ack")
