"""Wall seconds and peak memory of a benchmarked command and every process it starts."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class MemorySampler:
    """Peak memory of a process and its descendants, sampled from /proc.

    ``rss``: the largest sum of the tree's resident sets (shared pages of forked workers counted
    in each); ``pss``: the largest sum of proportional set sizes (shared pages split: the
    tree's real footprint); ``largest``: the largest single process's RSS.
    """

    def __init__(self, pid: int, every: float = 0.2):
        self.pid, self.every = pid, every
        self.rss = self.pss = self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    def sample(self) -> None:
        rss = pss = 0
        for pid in self._tree():
            try:
                fields = dict(
                    line.split(":", 1)
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
                )
            except (OSError, ValueError):
                continue
            one = int(fields["Rss"].split()[0]) * 1024
            rss, pss = rss + one, pss + int(fields["Pss"].split()[0]) * 1024
            self.largest = max(self.largest, one)
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def figures(self) -> dict:
        return {"peak_rss_tree": self.rss, "peak_pss_tree": self.pss, "peak_rss_max": self.largest}


def measured(cmd: list[str], env: dict, logfile: Path, timeout: float) -> dict:
    """Run a command, its output to ``logfile``: exit code, wall seconds, peak memory.

    ``started_at`` (epoch seconds) places the run among timestamps other records hold.
    """
    started, started_at = time.perf_counter(), time.time()
    with logfile.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        with MemorySampler(proc.pid) as memory:
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                code = proc.wait()
    seconds = time.perf_counter() - started
    return {"code": code, "seconds": seconds, "started_at": started_at, **memory.figures()}
