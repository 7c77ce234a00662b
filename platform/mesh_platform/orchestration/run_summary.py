"""What a failed `mesh up` says: each failed check (asset, check, one-line reason), no traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Errors a person fixes in their declarations, SQL or data: the message is the whole story.
USER_ERRORS = {"Failure", "SpecErrors", "AccessDenied", "ValueError", "FileNotFoundError",
               "DbtCliInvocationFailedError", "DagsterDbtCliRuntimeError"}  # fmt: skip
# A service that failed (an object store down...): the message names it and what was kept, and
# is the story even though the client's own error is its cause (kept for the logs).
SERVICE_ERRORS = {"WarehouseUnavailable"}
_WHOLE = USER_ERRORS | SERVICE_ERRORS
_LENGTH = 240  # a reason stays on one line of a wide terminal or CI log


@dataclass(frozen=True)
class FailedCheck:
    """One asset check that failed in a run."""

    asset: str  # "domain/name"
    check: str
    reason: str

    def __str__(self) -> str:
        return f"{self.asset} {self.check}: {self.reason}"


def one_line(text: str, length: int = _LENGTH) -> str:
    """``text`` on one line: its lines joined, list dashes dropped, cut at ``length``."""
    lines = [line.strip().removeprefix("- ") for line in text.strip().splitlines()]
    joined = "; ".join(line for line in lines if line)
    return joined if len(joined) <= length else joined[: length - 1] + "…"


def _reason(description: str | None, metadata: dict[str, Any]) -> str:
    if description:
        lines = [line for line in description.strip().splitlines() if line.strip()]
        # A contract report: the first line counts rows, the next ones name the failed rules.
        return one_line("\n".join(lines[1:] if len(lines) > 1 else lines))
    for key, value in metadata.items():
        if key.endswith("failed_row_count"):  # dagster-dbt's data tests
            return f"{getattr(value, 'value', value)} failing row(s)"
    return "failed"


def failed_checks(result: Any) -> list[FailedCheck]:
    """Every failed asset check evaluation of a Dagster run result, in the order they ran."""
    return [
        FailedCheck("/".join(e.asset_key.path), e.check_name, _reason(e.description, e.metadata))
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]


def root_message(error: Any) -> str:
    """A Dagster step error's innermost cause (or a failed service's own error), one message."""
    while error.cause is not None and error.cls_name not in SERVICE_ERRORS:
        error = error.cause
    message = error.message.strip()
    head, sep, rest = message.partition(": ")
    # "dagster._core.definitions.events.Failure: text" -> "text" for an error a person fixes
    return rest if sep and error.cls_name in _WHOLE and head.endswith(error.cls_name) else message


def exception_message(exc: BaseException) -> str:
    """A worker's exception as one message: the text of a user error, else its type and text."""
    name = type(exc).__name__
    return str(exc) if name in _WHOLE else f"{name}: {exc} (a platform error: see the logs)"
