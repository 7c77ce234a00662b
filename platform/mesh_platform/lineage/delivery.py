"""Delivery of lineage events to the configured OpenLineage transport through a durable outbox."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import requests
from openlineage.client.transport import Transport

from mesh_platform.lineage.log import canonical
from mesh_platform.lineage.transport import configured_transport
from mesh_platform.settings import MeshPaths

log = logging.getLogger(__name__)

OUTBOX = "outbox"
SPOOL = "events.jsonl"  # events waiting for the backend, oldest first
CURSOR = "cursor"  # byte offset in SPOOL of the first event not yet accepted
REJECTED = "rejected.jsonl"  # events the backend refused for good (4xx): kept, not retried
RUN_BUDGET = 5.0  # seconds deliver() may spend sending inside a data run
SENT, REFUSED, FAILED = "sent", "refused", "failed"
FIX_TOKEN = "set MESH_LINEAGE_TOKEN (or _TOKEN_FILE) to its token; events stay in the outbox"


class _Event(dict):
    """An event dict that also answers attribute access, as some transports expect."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return _Event(value) if isinstance(value, dict) else value


@contextmanager
def _locked(path: Path, wait: bool = True):
    """An exclusive fcntl lock on ``path``; yields False when ``wait`` is off and it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_cursor(box: Path) -> int:
    try:
        return int((box / CURSOR).read_text().strip() or 0)
    except FileNotFoundError:
        return 0


def _write_cursor(box: Path, offset: int) -> None:
    tmp = box / f"{CURSOR}.tmp"
    with tmp.open("w") as fh:
        fh.write(str(offset))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, box / CURSOR)


def _spool(box: Path, events: list[dict[str, Any]]) -> None:
    """Append events to the outbox durably (fsync) before any delivery is attempted."""
    with _locked(box / ".append.lock"), (box / SPOOL).open("ab") as fh:
        if fh.tell() and _last_byte(box / SPOOL) != b"\n":
            fh.write(b"\n")  # a crashed writer left a torn line: keep it on its own line
        fh.write("".join(canonical(event) + "\n" for event in events).encode())
        fh.flush()
        os.fsync(fh.fileno())


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1)


def _send(transport: Transport, raw: bytes) -> str:
    """Hand one spooled line to the transport: SENT, REFUSED (never retried) or FAILED."""
    try:
        event = json.loads(raw)
    except ValueError:
        return REFUSED
    try:
        transport.emit(cast(Any, _Event(event)))
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):  # a token to fix, not a bad event: keep it for the next flush
            log.error("lineage backend refused the credentials (HTTP %s): %s", status, FIX_TOKEN)
            return FAILED
        if 400 <= status < 500 and status not in (408, 429):
            log.error("lineage backend refused an event (HTTP %s); kept in %s", status, REJECTED)
            return REFUSED
        log.warning("lineage backend unavailable: %s", exc)
        return FAILED
    except Exception as exc:  # any transport: a failure leaves the event in the outbox
        log.warning("lineage backend unavailable: %s", exc)
        return FAILED
    return SENT


def _drain(box: Path, transport: Transport, wait: bool, budget: float | None) -> int:
    """Send spooled events in order until one fails or the budget runs out; count those sent."""
    if not (box / SPOOL).exists():
        return 0
    deadline = None if budget is None else time.monotonic() + budget
    sent = 0
    with _locked(box / ".flush.lock", wait) as owned:
        if not owned:
            return 0  # another process is flushing: it owns delivery order, we must not race it
        offset = _read_cursor(box)
        with (box / SPOOL).open("rb") as fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n") or (deadline and time.monotonic() > deadline):
                    break  # an append still in progress, or out of time: next flush takes it
                outcome = _send(transport, raw)
                if outcome == FAILED:
                    break  # keep order: nothing after a failed event goes out before it
                if outcome == REFUSED:
                    with (box / REJECTED).open("ab") as dead:
                        dead.write(raw)
                sent += outcome == SENT
                offset += len(raw)
                _write_cursor(box, offset)  # marked only after the transport accepted it
        _compact(box, offset)
    return sent


def _compact(box: Path, offset: int) -> None:
    """Drop delivered events from the spool; a crash here re-sends rather than loses events."""
    if offset == 0:
        return
    with _locked(box / ".append.lock"):
        rest = (box / SPOOL).read_bytes()[offset:]
        _write_cursor(box, 0)  # first: a stale cursor over a shorter file would skip events
        tmp = box / f"{SPOOL}.tmp"
        with tmp.open("wb") as fh:
            fh.write(rest)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, box / SPOOL)


def deliver(paths: MeshPaths, events: list[dict[str, Any]]) -> None:
    """Spool events and try to send the outbox to the configured transport; never raises.

    Args:
        paths: the mesh whose outbox ($MESH_HOME/lineage/outbox) holds undelivered events.
        events: OpenLineage events already written to the local log.
    """
    try:
        transport = configured_transport()
        if transport is None:
            return
        box = paths.lineage / OUTBOX
        if events:
            _spool(box, events)
        try:
            _drain(box, transport, wait=False, budget=RUN_BUDGET)
        finally:
            transport.close(0)
    except Exception:  # a lineage backend must never fail a data run
        log.warning("lineage delivery failed; undelivered events stay in the outbox", exc_info=True)


def flush(paths: MeshPaths) -> tuple[int, int]:
    """Send everything in the outbox, waiting for a concurrent flush to finish first.

    Returns:
        (events delivered now, events still waiting).
    """
    transport = configured_transport()
    if transport is None:
        return 0, pending(paths)
    try:
        sent = _drain(paths.lineage / OUTBOX, transport, wait=True, budget=None)
    finally:
        transport.close(0)
    return sent, pending(paths)


def pending(paths: MeshPaths) -> int:
    """Number of events in the outbox not yet accepted by the backend."""
    box = paths.lineage / OUTBOX
    if not (box / SPOOL).exists():
        return 0
    with _locked(box / ".append.lock"):
        offset = _read_cursor(box)
        with (box / SPOOL).open("rb") as fh:
            fh.seek(offset)
            return sum(1 for raw in fh if raw.endswith(b"\n"))
