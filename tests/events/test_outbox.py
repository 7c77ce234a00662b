"""The outbox keeps events in order across restarts, bounded, and one process per folder."""

from __future__ import annotations

import pytest
from mesh_platform.events.bus import BusMessage
from mesh_platform.events.outbox import Outbox, OutboxBusy, OutboxFull, claim


def msgs(start: int, count: int) -> list[BusMessage]:
    return [BusMessage(f"e{i}", b'{"event_id": "e%d"}\n' % i) for i in range(start, start + count)]


def keys(batch) -> list[str]:
    return [m.key for m in batch.messages]


def test_peek_commit_in_order_across_segments_and_restart(tmp_path):
    box = Outbox(tmp_path, segment_events=3)
    box.append(msgs(0, 4))
    box.append(msgs(4, 4))
    # A batch is written whole to one segment: 4 events fill the first of 3.
    assert box.pending == 8 and len(list(tmp_path.glob("seg-*.log"))) == 2
    batch = box.peek(5)
    assert keys(batch) == [f"e{i}" for i in range(5)]
    assert batch.messages[0].payload == b'{"event_id": "e0"}'
    box.commit(batch, 2)  # the broker stored two: the other three are read again
    assert box.pending == 6 and keys(box.peek(2)) == ["e2", "e3"]
    box.commit(box.peek(4), 4)
    assert box.pending == 2 and len(list(tmp_path.glob("seg-*.log"))) == 1
    box.close()
    again = Outbox(tmp_path, segment_events=3)  # a restart: the cursor and the rest survive
    assert again.pending == 2 and keys(again.peek(10)) == ["e6", "e7"]
    again.append(msgs(8, 1))
    assert keys(again.peek(10)) == ["e6", "e7", "e8"]
    again.commit(again.peek(10), 3)
    assert again.pending == 0 and again.pending_bytes == 0 and keys(again.peek(10)) == []


def test_bounded_by_events_and_bytes(tmp_path):
    box = Outbox(tmp_path / "a", max_events=5)
    box.append(msgs(0, 5))
    with pytest.raises(OutboxFull):
        box.append(msgs(5, 1))
    assert box.pending == 5  # the refused event is not half-written
    box.commit(box.peek(1), 1)
    box.append(msgs(5, 1))  # room again
    small = Outbox(tmp_path / "b", max_bytes=80)  # 22 bytes an event
    small.append(msgs(0, 3))
    with pytest.raises(OutboxFull):
        small.append(msgs(3, 1))


def test_one_process_per_outbox_and_claim_takes_a_free_one(tmp_path):
    held = claim(tmp_path)
    assert held.folder.name == "0"
    with pytest.raises(OutboxBusy):
        Outbox(tmp_path / "0")
    other = claim(tmp_path)
    assert other.folder.name == "1"
    held.close()
    assert claim(tmp_path).folder.name == "0"  # a dead worker's outbox is taken over
