"""The `mesh catalog` table fitted to the terminal: columns wrap, the least important go first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:  # the listing imports dagster: `mesh` must start without it (mesh validate)
    from mesh_platform.catalog.listing import CatalogEntry

_STATUS_STYLE = {"fresh": "green", "stale": "red", "never published": "yellow"}
_DESCRIPTION_MAX = 60  # wider than this a description reads better wrapped
# Columns in order of importance at their narrowest readable width (None), with a wider
# description before the columns a consumer needs least: what does not fit is dropped.
_STEPS = [("product", None), ("port", None), ("freshness", None), ("description", None),
          ("owners", None), ("description", 45), ("last update", None), ("contract", None),
          ("location", None)]  # fmt: skip
# Room left after the columns that fit goes first where wrapping hurts reading most.
_GROW = ("description", "product", "owners", "freshness")


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[CatalogEntry], str]
    wrap_min: int | None = None  # narrowest readable width of a wrapping column; None: never wraps


def _port(e: CatalogEntry) -> str:
    # Ports are public unless said otherwise: naming it on every row costs a tenth of 100 columns.
    return f"{e.port} v{e.version}" + ("" if e.visibility == "public" else f" ({e.visibility})")


def _updated(e: CatalogEntry) -> str:
    return e.last_update[:16].replace("T", " ") + " UTC" if e.last_update else "-"


def _freshness(e: CatalogEntry) -> str:
    # What the age is measured on: the SLA element's column, or the last publish.
    on = e.freshness_basis.removeprefix("element ")
    return f"{e.freshness} (SLA {e.freshness_hours:g} h, {on})"


COLUMNS = [  # in display order
    _Column("product", lambda e: f"{e.domain}/{e.product}", wrap_min=0),
    _Column("port", _port),
    _Column("owners", lambda e: ", ".join(e.owners), wrap_min=20),
    _Column("description", lambda e: e.description, wrap_min=25),
    _Column("location", lambda e: e.location),
    # The version is what a consumer compares; the id is the port's name (in --format json).
    _Column("contract", lambda e: f"v{e.contract_version}" if e.contract_id else "-"),
    _Column("freshness", lambda e: _freshness(e), wrap_min=15),
    _Column("last update", _updated),
]


def _widest(col: _Column, cells: list[str]) -> int:
    natural = max([len(col.header), *(len(c) for c in cells)])
    return min(natural, _DESCRIPTION_MAX) if col.header == "description" else natural


def _narrowest(col: _Column, cells: list[str], widest: int) -> int:
    if col.wrap_min is None:
        return widest
    # A product name breaks only after its domain's slash; other text wraps between words.
    words = [w for c in cells for w in c.replace("/", "/ ").split()]
    return min(widest, max([col.wrap_min, len(col.header), *(len(w) for w in words)]))


def fit_widths(rows: list[list[str]], width: int) -> dict[int, int]:
    """Columns kept (by index into COLUMNS) and their widths, so the table fits ``width``.

    Columns are taken in order of importance (``_STEPS``) at their narrowest readable width;
    those that no longer fit are dropped; the room left widens the kept wrapping columns.
    """
    cells = [[row[i] for row in rows] for i in range(len(COLUMNS))]
    widest = [_widest(c, cells[i]) for i, c in enumerate(COLUMNS)]
    narrow = [_narrowest(c, cells[i], widest[i]) for i, c in enumerate(COLUMNS)]
    kept: dict[int, int] = {}
    for header, wanted in _STEPS:
        i = next(i for i, c in enumerate(COLUMNS) if c.header == header)
        w = max(kept.get(i, 0), min(widest[i], wanted or narrow[i]))
        # Each column costs its padding (2) and a rule (1); the table one more rule.
        cost = w - kept.get(i, 0) + (0 if i in kept else 3)
        if sum(kept.values()) + 3 * len(kept) + 1 + cost <= width:
            kept[i] = w
    room = width - sum(kept.values()) - 3 * len(kept) - 1
    for i in sorted(
        kept, key=lambda i: _GROW.index(COLUMNS[i].header) if COLUMNS[i].header in _GROW else 9
    ):
        extra = min(room, widest[i] - kept[i])
        if COLUMNS[i].header == "product" and extra < widest[i] - kept[i]:
            continue  # a name breaks at its slash only: widen it only when it fits whole
        kept[i], room = kept[i] + extra, room - extra
    return dict(sorted(kept.items()))


def catalog_table(entries: list[CatalogEntry], width: int, title: str) -> Table:
    """The catalog as a rich table no wider than ``width`` columns."""
    rows = [[c.cell(e) for c in COLUMNS] for e in entries]
    widths = fit_widths(rows, width)
    table = Table(title=title)
    for i, w in widths.items():
        table.add_column(COLUMNS[i].header, width=w, no_wrap=COLUMNS[i].wrap_min is None)
    for e, row in zip(entries, rows, strict=True):
        values = []
        for i, w in widths.items():
            text = row[i]
            if COLUMNS[i].header == "product" and len(text) > w:
                text = text.replace("/", "/\n", 1)
            if COLUMNS[i].header == "freshness":
                style = _STATUS_STYLE.get(e.freshness, "")
                text = text.replace(e.freshness, f"[{style}]{e.freshness}[/]", 1) if style else text
            values.append(text)
        table.add_row(*values)
    return table
