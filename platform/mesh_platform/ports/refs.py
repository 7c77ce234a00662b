"""Names of output ports and their published snapshots, and the refusal of a candidate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mesh_platform.descriptors.models import OutputPort


ROWS = "mesh.rows"  # the snapshot summary property every publish carries: its row count


@dataclass(frozen=True)
class PortRef:
    """Names one major version of one output port."""

    domain: str
    product: str
    version: int = 1

    @property
    def relative_dir(self) -> str:
        """The port's location below the warehouse root (also its OpenLineage dataset name)."""
        return f"{self.domain}/{self.product}/v{self.version}"

    @property
    def identifier(self) -> tuple[str, str]:
        """Its Iceberg table: namespace = domain, table = ``<product>_v<major>``."""
        return (self.domain, f"{self.product}_v{self.version}")

    @property
    def table(self) -> str:
        """The table identifier as one string, ``<domain>.<product>_v<major>``."""
        return ".".join(self.identifier)


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot of a port: an Iceberg snapshot of its table, with the mesh's facts."""

    domain: str
    product: str
    version: int
    snapshot_id: str
    path: str
    rows: int
    published_at: str
    run_id: str | None = None
    table: str = ""
    files: tuple[str, ...] = ()  # its data files: what a reader of this snapshot reads


class AuditFailed(Exception):
    """The candidate failed its audit: it never became a snapshot and is kept with the reason."""

    def __init__(self, ref: PortRef, reason: str, kept_at: Path):
        self.ref, self.reason, self.kept_at = ref, reason, kept_at
        super().__init__(
            f"{ref.relative_dir}: not published: {reason} (candidate kept at {kept_at})"
        )


def retired(port: OutputPort, today: date | None = None) -> bool:
    """True once the port major's deprecation date has passed: it is no longer published.

    The deprecation date itself is the last day it is published.
    """
    return port.deprecation_date is not None and (today or date.today()) > port.deprecation_date
