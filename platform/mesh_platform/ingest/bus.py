"""Events from the bus, landed for ingestion: the landing sensor pulls them before it looks.

A feed is a serving block's event landing (``events.landing`` folder and ``prefix``) that one
of the domain's landing inputs reads. With MESH_EVENTS_URL set, the serving API publishes the
feed's events to the broker instead of landing files; the sensor lands them here as the same
files, so ingestion, its contract checks and everything downstream are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatch
from pathlib import Path

from mesh_platform.descriptors.loader import Domain
from mesh_platform.events.bus import BusUnavailable
from mesh_platform.events.config import BusConfig, bus_config
from mesh_platform.events.lander import land_feed
from mesh_platform.ingest.assets import landing_ports
from mesh_platform.settings import MeshPaths

Feed = tuple[str, str]  # (folder under the landing zone, file prefix)


def bus_feeds(domain: Domain, domains: Mapping[str, Domain]) -> list[Feed]:
    """The event feeds of the mesh's serving blocks that ``domain``'s landing inputs read."""
    globs = [p.location for p in landing_ports(domain).values() if p.location]
    feeds = set()
    for product in (p for d in domains.values() for p in d.products.values()):
        events = product.serving.events if product.serving else None
        sample = events and f"{events.landing}/{events.prefix}-x.jsonl"
        if events and sample and any(fnmatch(sample, g) for g in globs):
            feeds.add((events.landing, events.prefix))
    return sorted(feeds)


def journal_path(paths: MeshPaths, durable: str) -> Path:
    """The lander's journal of landed-but-unacked batches, one per durable consumer."""
    return paths.home / "events" / f"{durable}.unacked.json"


def pull_feeds(paths: MeshPaths, feeds: Sequence[Feed], log, config: BusConfig | None = None,
               max_events: int = 50_000) -> int:  # fmt: skip
    """Land what the broker holds for ``feeds``; the number of events landed.

    A broker that is down is logged and skipped: its events wait there for the next tick, and
    files already landed are ingested as usual.
    """
    config = config or bus_config()
    if config is None or not feeds:
        return 0
    from mesh_platform.events.jetstream import JetStreamConsumer  # needs the 'nats' extra

    landed = 0
    for folder, prefix in feeds:
        consumer = JetStreamConsumer(config, folder, prefix)
        journal = journal_path(paths, config.durable(folder, prefix))
        try:
            done = land_feed(consumer, paths.landing / folder, prefix, journal, max_events, 0.2)
        except BusUnavailable as exc:
            log.warning(f"event bus {config.url}: {exc}; events wait in the broker")
            continue
        finally:
            consumer.close()
        landed += done.events
        if done.events or done.redelivered:
            log.info(f"landed {done.events} events from {consumer.subject} in {done.files} "
                     f"file(s); {done.redelivered} redelivered were landed before")  # fmt: skip
    return landed
