"""The landing writer: buffers event lines and lands them as complete files for the batch side.

Files are written and fsynced under a dot-name the landing glob does not match, then renamed
(atomic in one folder), so the landing sensor never sees half a file. A failed write keeps the
lines for the next flush; past ``MAX_BUFFERED`` waiting lines new events are refused (503).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mesh_platform.serving import metrics

log = logging.getLogger(__name__)
MAX_BUFFERED = 200_000  # events held while the landing zone cannot be written; then 503


class EventWriter(Protocol):
    """Where accepted events go: `LandingWriter`, or `bus_writer.BusWriter` with a broker."""

    interval_s: float  # the longest an accepted event waits before it is handed on

    def start(self) -> None: ...  # noqa: D102
    def close(self) -> None: ...  # noqa: D102
    def add(self, lines: list[bytes]) -> None: ...  # noqa: D102
    @property
    def pending(self) -> int: ...  # noqa: D102


class LandingFull(Exception):
    """The landing zone has been unwritable for too long: events are refused, not dropped."""


class LandingWriter:
    """Buffers event lines and lands them as complete files, by time or by count."""

    def __init__(
        self, folder: Path, interval_s: float, max_events: int, prefix: str = "events_api"
    ) -> None:
        """Land ``<prefix>-*.jsonl`` into ``folder`` at least every ``interval_s`` seconds."""
        self.folder, self.interval_s, self.max_events = Path(folder), interval_s, max_events
        self.prefix = prefix
        self._buffer: list[bytes] = []
        self._lock, self._flush_lock = threading.Lock(), threading.Lock()
        self._stop = threading.Event()
        self._seq = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.files_written = 0
        self.failures = 0

    def start(self) -> None:
        """Start the background flusher."""
        self._thread = threading.Thread(target=self._run, name="landing-flush", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the flusher and land whatever is buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def add(self, lines: list[bytes]) -> None:
        """Buffer lines; a full buffer is flushed by the background thread, not the caller.

        Raises:
            LandingFull: too many events are waiting because writing keeps failing.
        """
        with self._lock:
            if len(self._buffer) + len(lines) > MAX_BUFFERED:
                raise LandingFull(f"{len(self._buffer)} events wait for {self.folder}")
            self._buffer.extend(lines)
            full = len(self._buffer) >= self.max_events
        if full:
            threading.Thread(target=self.flush, daemon=True).start()

    @property
    def pending(self) -> int:
        """Events received and not landed yet."""
        return len(self._buffer)

    def flush(self) -> Path | None:
        """Land the buffered events as one file; on failure they stay buffered for a retry."""
        with self._flush_lock:
            with self._lock:
                lines, self._buffer = self._buffer, []
            if not lines:
                return None
            try:
                return self._write(lines)
            except OSError as exc:
                self.failures += 1
                log.error("cannot land %d events in %s: %s (kept for retry)",
                          len(lines), self.folder, exc)  # fmt: skip
                with self._lock:
                    self._buffer = lines + self._buffer
                return None

    def _write(self, lines: list[bytes]) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{next(self._seq):06d}.jsonl"
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp, final = self.folder / f".{name}.tmp", self.folder / name
        try:
            with open(tmp, "wb") as fh:
                fh.write(b"".join(lines))
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, final)  # same folder: atomic; the glob never matches the dot-name
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.files_written += 1
        metrics.LANDED_FILES.inc()
        return final

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()
