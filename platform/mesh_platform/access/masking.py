"""PII masking at publish: columns a public port's contract classifies ``pii`` leave hashed.

A contract's ``pii`` column in a public port is hashed in the staged snapshot, before its audit
and publish, with salted SHA-256 (hex, 64 characters; NULL stays NULL) unless the product
declares a ``pii_purpose`` naming the column. ``pii-masked`` columns were masked by the
domain's own SQL (hashed or coarsened) and are left as they are. The salt comes from
``MESH_PII_SALT``; the embedded default keeps hashes stable across runs and machines, so set a
secret salt in production (a pseudonym must not be reversible by hashing guessed values).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from mesh_platform.contracts.odcs import Contract
    from mesh_platform.descriptors.models import OutputPort, ProductSpec

PII, MASKED = "pii", "pii-masked"
SALT_ENV = "MESH_PII_SALT"
DEFAULT_SALT = "mesh-platform/pii/v1"


def salt() -> str:
    """The salt of PII hashes: ``MESH_PII_SALT`` or the embedded default."""
    return os.environ.get(SALT_ENV) or DEFAULT_SALT


@dataclass(frozen=True)
class PiiVerdict:
    """What a consumer of a public port sees of one column derived from PII."""

    classification: str | None
    hashed_at_publish: bool = False  # the platform hashes it before the audit
    masked: bool = False  # consumers see no raw PII (hashed here or by the domain's SQL)
    permitted: bool = False  # published unmasked for a declared, approved purpose
    reason: str = ""

    @property
    def flagged(self) -> bool:
        """Raw PII reaches consumers without an approved purpose."""
        return not (self.masked or self.permitted)


def pii_verdict(
    classification: str | None, column: str, permitted: Collection[str] = ()
) -> PiiVerdict:
    """The one verdict on a public port's column, for masking at publish, governance and lineage.

    Args:
        classification: the column's classification in the port's contract (None: not in it).
        column: the column's name.
        permitted: columns the product's ``pii_purpose`` lets through unmasked.

    Returns:
        Whether the column is hashed at publish, masked, or permitted, and why.
    """
    if classification == MASKED:
        return PiiVerdict(classification, masked=True, reason="masked by the domain's SQL")
    if classification == PII and column in permitted:
        return PiiVerdict(
            classification, permitted=True, reason="published for an approved purpose"
        )
    if classification == PII:
        return PiiVerdict(classification, hashed_at_publish=True, masked=True,
                          reason="hashed at publish (salted SHA-256)")  # fmt: skip
    if classification is None:
        return PiiVerdict(None, reason="column not in the port's contract")
    return PiiVerdict(classification, reason=f"classified {classification!r}, not {MASKED!r}")


def columns_to_mask(contract: Contract | None, product: ProductSpec, port: OutputPort) -> list[str]:
    """Columns of a public port classified ``pii`` that no permitted purpose lets through."""
    if contract is None or port.visibility != "public":
        return []
    allowed = set(product.pii_purpose.columns) if product.pii_purpose else set()
    return [
        c.name
        for c in contract.columns
        if c.name and pii_verdict(c.classification, c.name, allowed).hashed_at_publish
    ]


def hash_sql(column: str, salt_value: str) -> str:
    """SQL expression: salted SHA-256 (hex) of a column cast to text; NULL stays NULL."""
    quoted = salt_value.replace("'", "''")
    return f"""sha256('{quoted}' || CAST("{column}" AS VARCHAR))"""


def mask_folder(folder: Path, columns: list[str]) -> list[str]:
    """Rewrite the Parquet files of a staged snapshot with ``columns`` hashed.

    Returns:
        The columns hashed (those present in the files).
    """
    files = sorted(Path(folder).glob("*.parquet"))
    if not columns or not files:
        return []
    with duckdb.connect() as con:
        present = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                              [[str(f) for f in files]]).fetchall()}  # fmt: skip
        hashed = [c for c in columns if c in present]
        if not hashed:
            return []
        replace = ", ".join(f'{hash_sql(c, salt())} AS "{c}"' for c in hashed)
        for path in files:
            tmp = path.with_suffix(".masking")
            con.execute(
                f"COPY (SELECT * REPLACE ({replace}) FROM read_parquet('{path}')) "
                f"TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)"
            )
            os.replace(tmp, path)
    return hashed


def masked_writer(
    write: Callable[[Path], None], columns: list[str], log: Callable[[str], object] | None = None
) -> Callable[[Path], None]:
    """Wrap a snapshot writer so the staged files have ``columns`` hashed before the audit."""
    if not columns:
        return write

    def write_masked(folder: Path) -> None:
        write(folder)
        hashed = mask_folder(folder, columns)
        if log and hashed:
            log(f"PII hashed before publish (salted SHA-256): {', '.join(hashed)}")

    return write_masked
