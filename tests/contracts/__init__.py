"""Contract tests; helpers to write edited copies of the reference contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support import REPO

REFERENCE = REPO / "contracts" / "sales" / "order_lines.odcs.yaml"
Edit = Callable[[dict[str, Any]], object]


def reference() -> dict[str, Any]:
    return yaml.safe_load(REFERENCE.read_text())


def prop(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in data["schema"][0]["properties"] if p["name"] == name)


def write_contract(root: Path, *edits: Edit, rel: str = "sales/order_lines.odcs.yaml") -> Path:
    """Write the reference contract, edited in place by each ``edit``, to root/contracts/<rel>."""
    data = reference()
    for edit in edits:
        edit(data)
    path = root / "contracts" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
