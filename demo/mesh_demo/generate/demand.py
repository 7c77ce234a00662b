"""Day-level demand calendar: seasonality, promotion discounts and their demand effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesh_demo.generate import config as cfg
from mesh_demo.generate.promotions import Promotions


@dataclass(frozen=True)
class Calendar:
    """Per-day arrays over the window (index = days since WINDOW_START)."""

    volume: np.ndarray  # (days,) relative order volume, mean 1 over the window
    category_boost: np.ndarray  # (days, categories) multiplier on category choice
    discount: np.ndarray  # (days, categories) best active discount, 0 when none
    promotion_id: np.ndarray  # (days, categories) id of that promotion, 0 when none

    def month_days(self, month_index: int) -> tuple[int, int]:
        """Return the first day and number of days of a window month.

        Args:
            month_index: 0-based month of the window.

        Returns:
            ``(first_day, n_days)`` in days since WINDOW_START.

        """
        first = int(cfg.MONTH_START_DAYS[month_index])
        nxt = (
            cfg.N_DAYS
            if month_index + 1 == len(cfg.MONTHS)
            else cfg.MONTH_START_DAYS[month_index + 1]
        )
        return first, int(nxt) - first


def _promotion_grid(promos: Promotions) -> tuple[np.ndarray, np.ndarray]:
    n_cat = len(cfg.CATEGORIES)
    discount = np.zeros((cfg.N_DAYS, n_cat))
    promo_id = np.zeros((cfg.N_DAYS, n_cat), dtype=np.int64)
    # Overlapping promotions on one category: the deepest discount applies.
    for i in np.argsort(promos.discount, kind="stable"):
        days = slice(promos.start_day[i], promos.end_day[i] + 1)
        cat = promos.category[i]
        better = promos.discount[i] >= discount[days, cat]
        discount[days, cat] = np.where(better, promos.discount[i], discount[days, cat])
        promo_id[days, cat] = np.where(better, i + 1, promo_id[days, cat])
    return discount, promo_id


def make_calendar(promos: Promotions) -> Calendar:
    """Combine seasonality and promotions into day-level demand multipliers.

    Args:
        promos: The promotion calendar.

    Returns:
        The calendar used to time orders and pick categories.

    """
    dates = cfg.WINDOW_START + np.arange(cfg.N_DAYS)
    month_of_year = dates.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
    weekday = (dates.astype(np.int64) + 3) % 7  # 0 = Monday
    discount, promo_id = _promotion_grid(promos)
    # Promotions pull demand into the promoted category and lift total volume.
    uplift = 1.0 + cfg.PROMO_VOLUME * (discount @ cfg.CATEGORY_SHARES)
    volume = cfg.MONTH_SEASON[month_of_year] * cfg.WEEKDAY_SEASON[weekday] * uplift
    peak = np.zeros((12, len(cfg.CATEGORIES)), dtype=bool)
    for c, cat in enumerate(cfg.CATEGORIES):
        peak[np.array(cat.peak_months, dtype=int) - 1, c] = True
    season = np.where(peak[month_of_year], cfg.PEAK_MONTH_BOOST, 1.0)
    return Calendar(
        volume=volume / volume.mean(),
        category_boost=season * (1.0 + cfg.PROMO_PULL * discount),
        discount=discount,
        promotion_id=promo_id,
    )
