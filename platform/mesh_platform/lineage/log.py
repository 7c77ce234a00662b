"""The local lineage log: OpenLineage events as JSON lines, hash-chained in a sidecar file.

``events.jsonl`` holds one OpenLineage event per line, exactly as emitted, so any OpenLineage
tool can read it. ``events.chain`` holds one line per event, ``<seq> <hash>``, where
``hash[n] = sha256(hash[n-1] + line[n])`` and ``hash[-1]`` is 64 zeros. Appends from concurrent
processes are serialised with an exclusive lock, so the chain never forks. Editing, removing or
reordering an event breaks the chain at that event, which :func:`verify` reports.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = "events.jsonl"
CHAIN = "events.chain"
GENESIS = "0" * 64


def canonical(event: dict[str, Any]) -> str:
    """The one-line JSON form an event is stored and hashed in."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)


def link(prev: str, line: str) -> str:
    """The chain hash of a line after ``prev``."""
    return hashlib.sha256((prev + line).encode()).hexdigest()


@contextmanager
def _locked(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tail(chain: Path) -> tuple[int, str]:
    """(next seq, last hash) from the end of the chain file."""
    if not chain.exists() or chain.stat().st_size == 0:
        return 0, GENESIS
    with chain.open("rb") as fh:
        fh.seek(max(0, chain.stat().st_size - 200))
        last = fh.read().decode().strip().splitlines()[-1]
    seq, digest = last.split()
    return int(seq) + 1, digest


def append_events(folder: Path, events: list[dict[str, Any]]) -> list[str]:
    """Append events to the log under an exclusive lock.

    Args:
        folder: the lineage folder ($MESH_HOME/lineage).
        events: OpenLineage events as JSON-ready dicts.

    Returns:
        The chain hash of each appended event.
    """
    hashes: list[str] = []
    with _locked(folder):
        seq, prev = _tail(folder / CHAIN)
        with (folder / EVENTS).open("a") as ev, (folder / CHAIN).open("a") as ch:
            for event in events:
                line = canonical(event)
                prev = link(prev, line)
                ev.write(line + "\n")
                ch.write(f"{seq} {prev}\n")
                hashes.append(prev)
                seq += 1
    return hashes


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log with its position and chain hash."""

    seq: int
    hash: str
    event: dict[str, Any]


def read_events(folder: Path, start: int = 0) -> Iterator[LoggedEvent]:
    """Events of the log from position ``start`` on, with their recorded chain hashes."""
    events, chain = folder / EVENTS, folder / CHAIN
    if not events.exists():
        return
    with events.open() as ev, chain.open() as ch:
        for seq, (line, entry) in enumerate(zip(ev, ch, strict=False)):
            if seq >= start:
                yield LoggedEvent(seq, entry.split()[1], json.loads(line))


@dataclass(frozen=True)
class ChainProblem:
    """Where the log and its chain disagree, and the likeliest cause."""

    seq: int
    kind: str  # edited | deleted | reordered | inserted | truncated
    detail: str


def _diagnose(seq: int, prev: str, lines: list[str], hashes: list[str]) -> ChainProblem:
    line = lines[seq] if seq < len(lines) else None
    if seq + 1 < len(lines) and link(prev, lines[seq + 1]) == hashes[seq]:
        return ChainProblem(seq, "inserted", f"event at position {seq} was never logged")
    if seq + 1 < len(hashes) and line is not None and link(hashes[seq], line) == hashes[seq + 1]:
        return ChainProblem(seq, "deleted", f"event {seq} was removed from the log")
    later = (
        {link(hashes[i - 1] if i else GENESIS, line): i for i in range(len(hashes))} if line else {}
    )
    if (
        line is not None
        and link(prev, line) not in hashes
        and any(h in later for h in hashes[seq:])
    ):
        return ChainProblem(seq, "reordered", f"event at position {seq} belongs elsewhere")
    if seq + 1 < len(lines) and link(hashes[seq], lines[seq + 1]) == hashes[seq + 1]:
        return ChainProblem(seq, "edited", f"event {seq} differs from what was logged")
    return ChainProblem(seq, "edited", f"event {seq} does not match the chain from here on")


def verify(folder: Path) -> list[ChainProblem]:
    """Check the whole log against its chain; an empty list means untouched.

    Returns:
        The first break in the chain (with its likely cause), or a count mismatch.
    """
    events, chain = folder / EVENTS, folder / CHAIN
    lines = events.read_text().splitlines() if events.exists() else []
    hashes = (
        [entry.split()[1] for entry in chain.read_text().splitlines()] if chain.exists() else []
    )
    prev = GENESIS
    for seq, line in enumerate(lines):
        if seq >= len(hashes):
            return [
                ChainProblem(
                    seq, "inserted", f"{len(lines) - len(hashes)} event(s) not in the chain"
                )
            ]
        if link(prev, line) != hashes[seq]:
            return [_diagnose(seq, prev, lines, hashes)]
        prev = hashes[seq]
    if len(hashes) > len(lines):
        return [
            ChainProblem(
                len(lines), "truncated", f"{len(hashes) - len(lines)} event(s) missing at the end"
            )
        ]
    return []
