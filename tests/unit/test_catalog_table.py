"""`mesh catalog` fits the terminal: at 100 and 200 columns every kept column is readable."""

from __future__ import annotations

import io

import pytest
from mesh_platform.catalog.listing import catalog
from mesh_platform.cli.catalog_table import COLUMNS, catalog_table, fit_widths
from mesh_platform.settings import MeshPaths
from rich.console import Console

from tests.support import REPO


@pytest.fixture
def entries(tmp_path):
    found, errors = catalog(MeshPaths(root=REPO, home=tmp_path / "home"))
    assert found and errors == []
    return found


def render(entries, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(catalog_table(entries, console.width, "data products"))
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("width", "must_show"),
    [(100, ["product", "port", "description", "freshness"]),
     (200, ["product", "port", "owners", "description", "contract", "freshness", "last update"])],
)  # fmt: skip
def test_table_fits_and_keeps_the_important_columns(entries, width, must_show):
    text = render(entries, width)
    assert max(len(line) for line in text.splitlines()) <= width
    header = next(line for line in text.splitlines() if " product " in line)
    assert [h for h in must_show if f" {h} " in header] == must_show
    rows = [[c.cell(e) for c in COLUMNS] for e in entries]
    for i, w in fit_widths(rows, width).items():  # no column squeezed below its header
        assert w >= len(COLUMNS[i].header), COLUMNS[i].header
    for e in entries:  # every product and port can be read, wrapped or not
        assert e.product in text and f"{e.domain}/" in text and f"{e.port} v{e.version}" in text


def test_least_important_columns_go_first(entries):
    rows = [[c.cell(e) for c in COLUMNS] for e in entries]
    shown = {w: {COLUMNS[i].header for i in fit_widths(rows, w)} for w in (60, 100, 200, 400)}
    assert shown[60] < shown[100] < shown[200] <= shown[400]
    assert "location" in shown[400] and "location" not in shown[100]
