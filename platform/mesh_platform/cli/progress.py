"""Progress a person can follow: live rows on a terminal, plain timestamped lines in CI logs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

if TYPE_CHECKING:
    from mesh_platform.orchestration.mesh_up import DomainResult
    from mesh_platform.orchestration.run_events import StepEvent


class _Live:
    """A rich Progress shown live on a terminal only (CI logs get plain lines instead)."""

    live: bool
    progress: Progress

    def __enter__(self) -> Self:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.progress.stop()


class UpProgress(_Live):
    """What each domain of `mesh up` is doing: one live row per domain, or one line per event."""

    def __init__(self, console: Console):
        """Live rows when ``console`` is a terminal, plain lines otherwise."""
        self.console = console
        self.started = time.perf_counter()
        self.live = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.fields[domain]:<16}"),
            TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
        )  # fmt: skip
        self.tasks: dict[str, TaskID] = {}

    def _line(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        self.console.print(f"[{elapsed:7.1f}s] {text}", highlight=False, markup=False)

    def start(self, domain: str) -> None:
        """A domain's run was handed to a worker."""
        if self.live:
            self.tasks[domain] = self.progress.add_task("starting", domain=domain, total=None)
        else:
            self._line(f"{domain}: started")

    def event(self, event: StepEvent) -> None:
        """A step of a domain's run started or ended."""
        ended = f" ({event.seconds:.1f}s)" if event.status != "started" else ""
        if not self.live:
            self._line(f"{event.domain}: {event.step} {event.status}{ended}")
        elif event.domain in self.tasks:
            text = event.step if event.status == "started" else f"{event.step} {event.status}"
            self.progress.update(self.tasks[event.domain], description=text)

    def done(self, result: DomainResult) -> None:
        """A domain finished (or was skipped)."""
        status = "ok" if result.success else "failed"
        text = f"{status} in {result.seconds:.1f}s, {result.materialized} assets"
        if result.ports:
            text += f", {len(result.ports)} port(s) published"
        if not self.live:
            self._line(f"{result.domain}: {text}")
            return
        task = self.tasks.get(result.domain)
        if task is None:  # skipped before it started
            task = self.progress.add_task("", domain=result.domain, total=None)
        colour = "green" if result.success else "red"
        self.progress.update(task, description=f"[{colour}]{text}[/]", total=1, completed=1)


class GenerateProgress(_Live):
    """The demo data generator's steps: a bar on a terminal, one line per step otherwise."""

    def __init__(self, console: Console):
        """A bar when ``console`` is a terminal, plain lines otherwise."""
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(), TextColumn("generating {task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console,
            transient=True,
        )  # fmt: skip
        self.task: TaskID | None = None

    def __call__(self, step: str, done: int, total: int) -> None:
        """The generator's progress callback: ``step`` ended, ``done`` of ``total``."""
        if not self.live:
            self.console.print(f"generating: {step} ({done}/{total})", highlight=False)
            return
        if self.task is None:
            self.task = self.progress.add_task(step, total=total)
        self.progress.update(self.task, description=step, completed=done)
