"""Promotion calendar: a few category promotions a month plus a Black Friday week."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mesh_demo.generate import config as cfg
from mesh_demo.generate.vocab import BLACK_FRIDAY_CATEGORIES, PROMO_SUFFIXES, PROMO_THEMES

_REGULAR_DISCOUNTS = np.array([0.05, 0.10, 0.15, 0.20, 0.25, 0.30])
_BLACK_FRIDAY_DISCOUNTS = np.array([0.25, 0.30, 0.35, 0.40])


@dataclass(frozen=True)
class Promotions:
    """Promotion arrays; row i is promotion_id i + 1 (ids follow start date)."""

    name: list[str]
    category: np.ndarray  # index into cfg.CATEGORIES
    discount: np.ndarray
    start_day: np.ndarray  # days since WINDOW_START, inclusive
    end_day: np.ndarray  # days since WINDOW_START, inclusive


def _black_friday(year: int) -> np.datetime64:
    # Black Friday follows the fourth Thursday of November.
    first = np.datetime64(f"{year}-11-01", "D")
    first_thursday = first + (3 - (first.astype(np.int64) - 4) % 7) % 7
    return first_thursday + 22


def _regular(rng: np.random.Generator, month: np.datetime64) -> list[tuple]:
    start = int((month.astype("datetime64[D]") - cfg.WINDOW_START).astype(int))
    days = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
    k = int(rng.integers(2, 5))
    cats = rng.choice(len(cfg.CATEGORIES), k, replace=False, p=cfg.CATEGORY_SHARES)
    month_no = int(str(month)[5:7])
    rows = []
    for c in cats:
        first = start + int(rng.integers(0, days - 2))
        last = min(first + int(rng.integers(3, 15)) - 1, cfg.N_DAYS - 1)
        suffix = PROMO_SUFFIXES[int(rng.integers(0, len(PROMO_SUFFIXES)))]
        title = f"{PROMO_THEMES[month_no]} {cfg.CATEGORY_NAMES[c].title()} {suffix}"
        name = f"{title} {str(month)[:4]}"
        rows.append((name, int(c), float(rng.choice(_REGULAR_DISCOUNTS)), first, last))
    return rows


def _black_friday_week(rng: np.random.Generator, year: int) -> list[tuple]:
    friday = _black_friday(year)
    # Monday of Black Friday week through Cyber Monday.
    first = int((friday - 4 - cfg.WINDOW_START).astype(int))
    rows = []
    for cat in BLACK_FRIDAY_CATEGORIES:
        c = cfg.CATEGORY_NAMES.index(cat)
        name = f"Black Friday {year} {cat.title()}"
        rows.append((name, c, float(rng.choice(_BLACK_FRIDAY_DISCOUNTS)), first, first + 7))
    return rows


def make_promotions(rng: np.random.Generator) -> Promotions:
    """Draw the promotion calendar for the whole window.

    Args:
        rng: Random generator dedicated to promotions.

    Returns:
        Promotions sorted by start day then category.

    """
    rows = []
    for month in cfg.MONTHS:
        rows += _regular(rng, month)
        if str(month).endswith("-11"):
            rows += _black_friday_week(rng, int(str(month)[:4]))
    # A window cut mid-month: promotions drawn after its end day are dropped, the rest end by
    # it (after all draws, so an end date on a month's last day changes nothing).
    last_day = cfg.N_DAYS - 1
    rows = [(name, c, off, first, min(last, last_day))
            for name, c, off, first, last in rows if first <= last_day]  # fmt: skip
    rows.sort(key=lambda r: (r[3], r[1], r[4]))
    return Promotions(
        name=[r[0] for r in rows],
        category=np.array([r[1] for r in rows]),
        discount=np.array([r[2] for r in rows]),
        start_day=np.array([r[3] for r in rows]),
        end_day=np.array([r[4] for r in rows]),
    )


def promotions_table(promos: Promotions) -> pa.Table:
    """Render promotions as the ``catalog/promotions.parquet`` table.

    Args:
        promos: The promotion calendar.

    Returns:
        Arrow table with the contracted column names and types.

    """
    n = len(promos.name)
    return pa.table(
        {
            "promotion_id": pa.array(np.arange(1, n + 1), pa.int64()),
            "promotion_name": pa.array(promos.name, pa.string()),
            "category": pa.array(np.array(cfg.CATEGORY_NAMES)[promos.category], pa.string()),
            "discount_pct": pa.array(promos.discount, pa.float64()),
            "starts_on": pa.array(cfg.WINDOW_START + promos.start_day, pa.date32()),
            "ends_on": pa.array(cfg.WINDOW_START + promos.end_day, pa.date32()),
        }
    )
