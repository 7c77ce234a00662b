"""Champion watcher: polls the port tables and the registry alias, swaps a new index atomically."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from mesh_platform.serving import metrics
from mesh_platform.serving.config import ServeConfig
from mesh_platform.serving.index import RecIndex
from mesh_platform.serving.journal import TAIL_INTERVAL_S, SessionJournal
from mesh_platform.serving.landing import EventWriter
from mesh_platform.serving.loader import NothingToServe, build_index
from mesh_platform.serving.rerank import SessionStore
from mesh_platform.serving.shedding import Admission
from mesh_platform.serving.sources import poll_key, source_key
from mesh_platform.settings import MeshPaths

log = logging.getLogger(__name__)


@dataclass
class ServingState:
    """Everything a worker serves from. ``index`` is replaced whole, never mutated."""

    paths: MeshPaths
    config: ServeConfig
    sessions: SessionStore
    admission: Admission
    writer: EventWriter | None = None
    journal: SessionJournal | None = None  # only with several workers
    index: RecIndex | None = None
    not_ready: str = "starting"
    polled: tuple[str | None, ...] | None = None  # the poll key the index (or its absence) is of
    last_error: str | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)

    def swap(self, index: RecIndex) -> None:
        """Make ``index`` the one every new request reads (one reference assignment)."""
        self.index, self.not_ready = index, ""
        metrics.SWAPS.inc()
        metrics.MODEL_VERSION.set(index.model.version or 0)
        metrics.ENTITIES.set(index.entities)
        log.info("serving %s v%s (snapshot %s, %d entities)", index.model.name,
                 index.model.version, index.model.snapshot_id, index.entities)  # fmt: skip


def new_state(paths: MeshPaths, config: ServeConfig) -> ServingState:
    """A state with an empty session store and admission control, before any index is loaded."""
    sessions = SessionStore(config.session_ttl_s, config.max_sessions)
    return ServingState(paths, config, sessions, Admission(config.max_pending,
                                                           config.retry_after_s))  # fmt: skip


async def refresh(state: ServingState) -> bool:
    """Rebuild and swap the index if its sources changed; True when a new index was swapped.

    Each poll compares the cheap `poll_key` only; a change resolves the snapshot ids, and only
    new ids (or a new champion) rebuild. Building happens in a thread; a failure keeps the
    current index, is reported, and is retried at the next poll.
    """
    paths, served = state.paths, state.config.ports
    try:
        polled = await asyncio.to_thread(poll_key, paths, served)
        if polled == state.polled:
            return False
        key = await asyncio.to_thread(source_key, paths, served)
        if state.index is not None and key == state.index.sources:  # an expiry commit, say
            state.polled = polled
            return False
        index = await asyncio.to_thread(build_index, paths, state.config, key)
    except NothingToServe as exc:
        state.not_ready, state.polled = str(exc), polled
        return False
    except Exception as exc:  # noqa: BLE001 - a bad snapshot must not take the service down
        metrics.SWAP_FAILURES.inc()
        state.last_error = f"{type(exc).__name__}: {exc}"
        state.not_ready = state.not_ready if state.index is None else ""
        log.error("index rebuild failed, still serving the previous one: %s", state.last_error)
        return False
    state.swap(index)
    state.polled, state.last_error = polled, None
    return True


async def follow_journal(state: ServingState) -> None:
    """Apply the session interest other workers record, until cancelled."""
    assert state.journal is not None
    while True:
        try:
            for entity, group, weight, at in await asyncio.to_thread(state.journal.tail):
                state.sessions.add(entity, group, weight, at)
        except (OSError, ValueError) as exc:  # a torn or removed file: skip, keep serving
            log.warning("session journal: %s", exc)
        await asyncio.sleep(TAIL_INTERVAL_S)


async def watch(state: ServingState) -> None:
    """Poll for a new champion or snapshot every ``poll_interval_s`` until cancelled."""
    while True:
        await asyncio.sleep(state.config.poll_interval_s)
        await refresh(state)
