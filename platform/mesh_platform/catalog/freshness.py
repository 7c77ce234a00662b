"""The one freshness verdict of a port, in ODCS's meaning: its element's newest value, else publish.

A contract's ``freshness`` SLA with an ``element`` promises that the newest value of that column
is at most that old; without one, that the current snapshot was published at most that long ago.
Catalog, Dagster check, governance and publish metadata all call ``port_verdict``/``judge``.

A DATE element's newest value counts from the *start* of that day (midnight UTC), the value
DuckDB gives a DATE cast to TIMESTAMP. It is the strict reading, the earliest any reading calls
the port stale, so the verdict never flatters the data; and a day's rows are not known complete
before the day ends. So a DATE element needs an SLA of at least 24 h to be satisfiable all day
(the contract lint says so). TIMESTAMP values without a zone are read as UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from mesh_platform import ports
from mesh_platform.contracts.odcs import Contract
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.ports.object_store import register_filesystems
from mesh_platform.warehouse import connect

FRESH, STALE, NEVER = "fresh", "stale", "never published"
LAST_PUBLISH = "last publish"
FALLBACK_FRESHNESS_HOURS = 24.0  # never used by a mesh that validates (conformance checks it)


@dataclass(frozen=True)
class FreshnessSla:
    """What a port promises: the maximum age in hours, and of which column (None: the publish)."""

    hours: float
    element: str | None = None

    @property
    def basis(self) -> str:
        """``element <column>`` or ``last publish``: what the age is measured on."""
        return f"element {self.element}" if self.element else LAST_PUBLISH


@dataclass(frozen=True)
class Verdict:
    """One port's freshness, judged at one moment."""

    status: str  # fresh, stale or never published
    basis: str  # element <column> or last publish
    promised_hours: float
    newest: str | None  # ISO-8601 UTC: the element's newest value, or the publish time
    age_hours: float | None  # negative when the newest value lies in the future

    @property
    def fresh(self) -> bool:
        """True only for ``fresh``."""
        return self.status == FRESH

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: status, basis, newest value and age against the promise."""
        if self.status == NEVER:
            return f"never published (promised {self.promised_hours:g} h by {self.basis})"
        age = "no value" if self.age_hours is None else f"{self.age_hours:.1f} h old"
        return (f"{self.status}: {self.basis} newest {self.newest or '-'} is {age}, "
                f"promised {self.promised_hours:g} h")  # fmt: skip


def freshness_hours(product: ProductSpec, contract: Contract | None) -> float:
    """The freshness promise: the contract's SLA when it states one, else the product's SLO."""
    promised = contract.freshness_hours if contract else None
    if promised is not None:
        return promised
    return float(product.slos.freshness_hours or FALLBACK_FRESHNESS_HOURS)


def freshness_sla(product: ProductSpec, contract: Contract | None) -> FreshnessSla:
    """The port's freshness SLA: hours and, when the contract names one, the element column."""
    element = contract.freshness_element if contract else None
    return FreshnessSla(freshness_hours(product, contract), element)


def newest_value(files: Sequence[str], column: str, home: Path | None = None) -> datetime | None:
    """Newest value of a date or timestamp column over a snapshot's Parquet files, UTC.

    Args:
        files: the snapshot's data files (read with DuckDB).
        column: the column; a DATE counts from its midnight, a zoneless TIMESTAMP as UTC.
        home: the mesh home, whose warehouse's filesystem reads ``s3://`` files (None: local).

    Returns:
        The newest value, or None when the column is all NULL, absent or not a time.
    """
    if not files:
        return None
    quoted = '"' + column.replace('"', '""') + '"'
    con = connect()
    try:
        if home is not None:
            register_filesystems(con, home)
        row = con.execute(
            f"SELECT epoch(max({quoted})) FROM read_parquet(?, union_by_name = true)", [list(files)]
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None


def judge(
    sla: FreshnessSla, snapshot: ports.Snapshot | None, now: datetime,
    newest: datetime | None = None, home: Path | None = None,
) -> Verdict:  # fmt: skip
    """The verdict on one snapshot: fresh while its newest value is within the promise.

    Args:
        sla: the port's promise.
        snapshot: its current snapshot, None when never published.
        now: the moment judged at (aware).
        newest: the element's newest value when already known (else read from the snapshot).
        home: the mesh home, to read the snapshot's files from its warehouse (None: local).

    Returns:
        The verdict; an element without any value is ``stale``.
    """
    if snapshot is None:
        return Verdict(NEVER, sla.basis, sla.hours, None, None)
    if sla.element is None:
        newest = datetime.fromisoformat(snapshot.published_at)
    elif newest is None:
        newest = newest_value(snapshot.files, sla.element, home)
    if newest is None:
        return Verdict(STALE, sla.basis, sla.hours, None, None)
    age = (now - newest).total_seconds() / 3600
    status = FRESH if age <= sla.hours else STALE
    return Verdict(status, sla.basis, sla.hours, newest.isoformat(), round(age, 3))


def port_verdict(
    home: Path, ref: ports.PortRef, product: ProductSpec, contract: Contract | None,
    now: datetime | None = None,
) -> Verdict:  # fmt: skip
    """The verdict on a port's current snapshot, read from its table.

    Args:
        home: the mesh home (its catalog).
        ref: the port.
        product: its product (for the SLO of a port without a contract).
        contract: its contract, None for an uncontracted private port.
        now: the moment judged at (default: now, UTC).

    Returns:
        Status, basis, newest value, age and promised hours.
    """
    snapshot = ports.current_snapshot(home, ref)
    return judge(freshness_sla(product, contract), snapshot, now or datetime.now(UTC), home=home)
