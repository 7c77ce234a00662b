"""Where events go: the broker named by MESH_EVENTS_URL, else (None) files in the landing zone."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

URL_ENV = "MESH_EVENTS_URL"  # nats://host:port; unset: the embedded default (landing files)
STREAM_ENV = "MESH_EVENTS_STREAM"
SUBJECTS_ENV = "MESH_EVENTS_SUBJECTS"


@dataclass(frozen=True)
class BusConfig:
    """The broker and the stream events are kept in.

    Attributes:
        url: Broker URL (``nats://127.0.0.1:4222``).
        stream: JetStream stream holding every feed's events.
        subjects: Subject prefix; a feed's subject is ``<subjects>.<landing folder>``.
    """

    url: str
    stream: str = "MESH_EVENTS"
    subjects: str = "mesh.events"

    def subject(self, folder: str) -> str:
        """The subject of the events landed in ``folder`` (a folder under the landing zone)."""
        return f"{self.subjects}.{_token(folder, '.')}"

    def durable(self, folder: str, prefix: str) -> str:
        """The durable consumer that lands ``<folder>/<prefix>-*``: one per landing feed."""
        return _token(f"land_{folder}_{prefix}", "_")


def _token(text: str, sep: str) -> str:
    """Only the characters subjects and consumer names allow (no dots in names, no spaces)."""
    return re.sub(r"[^A-Za-z0-9_-]+", sep, text).strip(sep)


def bus_config(env: dict[str, str] | None = None) -> BusConfig | None:
    """The broker from the environment; None when MESH_EVENTS_URL is unset (landing files)."""
    env = dict(os.environ) if env is None else env
    url = env.get(URL_ENV, "").strip()
    if not url:
        return None
    return BusConfig(url, env.get(STREAM_ENV) or "MESH_EVENTS",
                     env.get(SUBJECTS_ENV) or "mesh.events")  # fmt: skip
