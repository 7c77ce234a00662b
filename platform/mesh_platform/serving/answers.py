"""What the endpoints compute, shared by the documented routes and the gateway's fast path."""

from __future__ import annotations

from datetime import UTC, datetime

from mesh_platform.serving import metrics
from mesh_platform.serving.champion import ServingState
from mesh_platform.serving.events import EventBatch, EventsAccepted, landing_line
from mesh_platform.serving.index import dumps
from mesh_platform.serving.rerank import rerank


class NotReady(Exception):
    """No index is loaded yet (nothing published): a deliberate 503."""


def recommend(state: ServingState, entity_id: int, k: int) -> bytes:
    """The JSON answer for one entity: precomputed, or re-ranked by the live session.

    Raises:
        NotReady: nothing has been published to serve from yet.
    """
    index = state.index  # one read: the whole request uses this index even if a swap happens
    if index is None:
        raise NotReady(state.not_ready)
    if entity_id in state.sessions:
        interest = state.sessions.interest(entity_id)
        if interest:
            items, personalised = rerank(index, entity_id, k, interest,
                                         state.config.session_boost)  # fmt: skip
            metrics.RERANKED.inc()
            if not personalised:
                metrics.FALLBACKS.inc()
            return index.render(entity_id, items, k, personalised, True)
    if entity_id not in index.personal:
        metrics.FALLBACKS.inc()
    return index.body(entity_id, k)


def accept_events(state: ServingState, batch: EventBatch) -> EventsAccepted:
    """Apply events to session interest now, and queue them for the landing zone.

    Raises:
        LandingFull: the landing zone has been unwritable for too long.
    """
    now = datetime.now(UTC)
    lines = [landing_line(e, now) for e in batch.events]
    if state.writer is not None:
        state.writer.add(lines)  # first: an event refused here changes no session either
    index, touched, shared = state.index, set(), []
    weights = dict(state.config.ports.event_weights)
    epoch = now.timestamp()
    for event in batch.events:
        metrics.EVENTS.labels(event.event_type).inc()
        group = index.groups.get(event.item_id) if index else None
        if event.entity_id is None or group is None:
            continue  # anonymous, or an item the catalogue port does not know yet
        at = event.occurred_at.replace(tzinfo=UTC).timestamp() if event.occurred_at else epoch
        entry = (event.entity_id, group, weights[event.event_type], min(at, epoch))
        state.sessions.add(*entry)
        touched.add(event.entity_id)
        shared.append(entry)
    if state.journal is not None:
        state.journal.write(shared)  # the other workers apply it within ~0.2 s
    wait = state.writer.interval_s if state.writer else 0.0
    return EventsAccepted(accepted=len(lines), reranked_entities=len(touched),
                          lands_within_s=wait)  # fmt: skip


def readiness(state: ServingState) -> tuple[int, bytes]:
    """(status, body) of /v1/ready: 200 once an index is loaded, else 503 with the reason."""
    index = state.index
    if index is None:
        return 503, dumps({"ready": False, "reason": state.not_ready or "no index loaded"})
    info = index.model
    stale = info.registry_champion is not None and info.registry_champion != info.version
    return 200, dumps({
        "ready": True, "model": info.as_json(), "registry_champion": info.registry_champion,
        "awaiting_champion_snapshot": stale, "entities": index.entities,
        "popular_items": len(index.popular), "sessions": len(state.sessions),
        "pending_events": state.writer.pending if state.writer else 0,
        "last_reload_error": state.last_error,
    })  # fmt: skip
