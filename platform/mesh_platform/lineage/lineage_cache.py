"""Traced column sources kept on disk, one JSON file per (compiled SQL, warehouse schema)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlglot.errors import SqlglotError

Sources = frozenset[tuple[str, str, str, str]]
# What a caller skips a column on (sql_lineage and catalog.column_lineage): deterministic for a
# given SQL, schema and sqlglot, so kept like a result and never retried run after run.
UNTRACEABLE: tuple[type[Exception], ...] = (SqlglotError, KeyError, ValueError)
Outcome = Sources | Exception
_FORMAT = 1  # bumped when the file's layout or the tracing changes meaning
_SQLGLOT = version("sqlglot")  # another sqlglot may trace differently: its own files


def cache_key(sql: str, schema: Any) -> str:
    """The file name of ``sql`` traced over ``schema``: a hash of both and of sqlglot's version.

    The whole schema, not only the tables the SQL reads: finding those takes a parse (the cost
    kept away) or a guess from the text, and qualification resolves a table name against every
    table of the schema; the warehouse's schema is the same run after run unless a model changed.
    """
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=str)
    parts = (str(_FORMAT), _SQLGLOT, sql, text)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _decode(entry: dict[str, Any]) -> Outcome:
    if "error" in entry:
        kind = {c.__name__: c for c in UNTRACEABLE}[entry["error"]]
        return kind(*entry["args"])
    return frozenset((str(c), str(s), str(t), str(col)) for c, s, t, col in entry["sources"])


def _encode(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Exception):
        kind = next(c for c in UNTRACEABLE if isinstance(outcome, c))
        args = outcome.args if all(isinstance(a, str) for a in outcome.args) else (str(outcome),)
        return {"error": kind.__name__, "args": list(args)}
    return {"sources": sorted(outcome)}


def load(folder: Path, key: str) -> dict[str, Outcome]:
    """Column -> outcome kept under ``key``; empty when there is no file or it cannot be read."""
    try:
        kept = json.loads((folder / f"{key}.json").read_text())
        return {column: _decode(entry) for column, entry in kept["columns"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # absent, corrupt or from another layout: traced again and rewritten


def save(folder: Path, key: str, outcomes: dict[str, Outcome]) -> None:
    """Keep ``outcomes`` under ``key``, atomically (a reader sees the old file or the new one).

    Never raises on a disk problem: the outcomes are known already, only the next run pays.
    """
    body = {"sqlglot": _SQLGLOT, "columns": {c: _encode(o) for c, o in outcomes.items()}}
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, prefix=f".{key}.", suffix=".tmp", delete=False
        ) as out:
            tmp = Path(out.name)
            json.dump(body, out, separators=(",", ":"))
        os.replace(tmp, folder / f"{key}.json")
    except (OSError, TypeError, ValueError):
        if tmp is not None:
            tmp.unlink(missing_ok=True)
