"""Sample scan of published ports for e-mail-like and phone-like values in text columns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mesh_platform.ports.object_store import register_filesystems

SAMPLE_ROWS = 2000  # per port: a sample backs the static check, it does not replace it
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# A phone number: optional +, then digits with spaces, dots, dashes or brackets, 7-15 digits.
PHONE = r"^\+?\(?[0-9][0-9 ().-]{5,18}[0-9]$"
_TEXT_TYPES = ("VARCHAR", "TEXT", "STRING")


@dataclass(frozen=True)
class PiiHit:
    """A text column of a port whose sampled values look like e-mail addresses or phones."""

    column: str
    kind: str  # "e-mail" or "phone"
    matches: int
    sampled: int
    example: str  # redacted


def redact(value: str) -> str:
    """Keep the shape, hide the person: ``j***@e***.com``, ``+4*********12``."""
    if "@" in value:
        local, _, host = value.partition("@")
        name, _, tld = host.rpartition(".")
        return f"{local[:1]}***@{name[:1]}***.{tld}"
    return value[:2] + re.sub(r"[0-9]", "*", value[2:-2]) + value[-2:]


def _phone_like(value: str) -> bool:
    return re.match(PHONE, value) is not None and 7 <= sum(ch.isdigit() for ch in value) <= 15


def scan_files(
    files: Sequence[str], skip: set[str] | None = None, rows: int = SAMPLE_ROWS,
    home: Path | None = None,
) -> list[PiiHit]:  # fmt: skip
    """Sample the Parquet files of one snapshot and report text columns that hold PII-like values.

    A column counts when at least one sampled value matches; the redacted first match is kept.

    Args:
        files: The snapshot's data files.
        skip: Columns not to scan (a declared PII purpose).
        rows: Rows to sample.
        home: The mesh home, whose warehouse's filesystem reads ``s3://`` files (None: local).

    Returns:
        One hit per column and kind of PII-like value found.
    """
    files = list(files)
    if not files:
        return []
    with duckdb.connect() as con:
        if home is not None:
            register_filesystems(con, home)
        types = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files]).fetchall()
        text = [n for n, t, *_ in types if str(t).upper() in _TEXT_TYPES and n not in (skip or ())]
        if not text:
            return []
        cols = ", ".join(f'"{c}"' for c in text)
        sample = con.execute(
            f"SELECT {cols} FROM read_parquet(?) USING SAMPLE {int(rows)} ROWS", [files]
        ).fetchall()
    hits = []
    for i, column in enumerate(text):
        values = [str(r[i]) for r in sample if r[i] is not None]
        for kind, test in (("e-mail", lambda v: re.search(EMAIL, v)), ("phone", _phone_like)):
            found = [v for v in values if test(v)]
            if found:
                hits.append(PiiHit(column, kind, len(found), len(values), redact(found[0])))
    return hits
