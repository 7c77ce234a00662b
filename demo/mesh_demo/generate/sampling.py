"""Vectorised sampling helpers: per-row categorical draws, day timing, product choice."""

from __future__ import annotations

import numpy as np

from mesh_demo.generate import config as cfg
from mesh_demo.generate.catalog import Products


def sample_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Draw one column index per row, proportional to that row's non-negative weights.

    Args:
        rng: Random generator.
        weights: ``(n, k)`` array of weights.

    Returns:
        ``(n,)`` array of column indices.

    """
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def sample_days(
    rng: np.random.Generator, day_weights: np.ndarray, first_allowed: np.ndarray
) -> np.ndarray:
    """Draw a day of the month per item, proportional to weights, not before a given day.

    Args:
        rng: Random generator.
        day_weights: ``(days,)`` relative demand per day of the month.
        first_allowed: ``(n,)`` earliest allowed 0-based day of month per item.

    Returns:
        ``(n,)`` 0-based days of the month.

    """
    cdf = np.cumsum(day_weights) / day_weights.sum()
    lower = np.concatenate([[0.0], cdf])[first_allowed]
    u = lower + rng.random(len(first_allowed)) * (1.0 - lower)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def sample_seconds(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Turn window days into epoch seconds at a plausible time of day.

    Args:
        rng: Random generator.
        days: Days since WINDOW_START.

    Returns:
        Epoch seconds (UTC-naive) within those days.

    """
    hours = rng.choice(24, len(days), p=cfg.HOUR_WEIGHTS / cfg.HOUR_WEIGHTS.sum())
    seconds = hours * 3600 + rng.integers(0, 3600, len(days))
    return cfg.START_EPOCH_SECONDS + days.astype(np.int64) * cfg.SECONDS_PER_DAY + seconds


class ProductSampler:
    """Chooses products within a category by popularity and the buyer's price sensitivity."""

    def __init__(self, products: Products, last_day: int):
        """Prepare per-category, per-sensitivity cumulative weights.

        Args:
            products: The catalogue.
            last_day: Only products launched on or before this window day are offered.

        """
        self._ids: list[np.ndarray] = []
        self._cdf: list[np.ndarray] = []
        levels = cfg.SENSITIVITY_LEVELS[:, None]
        for c in range(len(cfg.CATEGORIES)):
            ids = np.flatnonzero((products.category == c) & (products.launched_day <= last_day))
            rel_price = np.log(products.price[ids]) - np.log(products.price[ids]).mean()
            # Price-sensitive customers discount expensive items exponentially harder.
            weights = np.exp(products.popularity[ids] - levels * rel_price)
            cdf = np.cumsum(weights, axis=1)
            self._ids.append(ids)
            self._cdf.append(cdf / cdf[:, -1:])

    def sample(
        self, rng: np.random.Generator, category: np.ndarray, sensitivity: np.ndarray
    ) -> np.ndarray:
        """Draw a product row index for each (category, sensitivity) pair.

        Args:
            rng: Random generator.
            category: ``(n,)`` category indices.
            sensitivity: ``(n,)`` indices into ``cfg.SENSITIVITY_LEVELS``.

        Returns:
            ``(n,)`` product row indices (product_id - 1).

        """
        n_levels = len(cfg.SENSITIVITY_LEVELS)
        key = category.astype(np.int64) * n_levels + sensitivity
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(key[order], np.arange(len(cfg.CATEGORIES) * n_levels + 1))
        u = rng.random(len(key))
        out = np.empty(len(key), dtype=np.int64)
        for k in range(len(bounds) - 1):
            rows = order[bounds[k] : bounds[k + 1]]
            if len(rows):
                cdf = self._cdf[k // n_levels][k % n_levels]
                pick = np.minimum(np.searchsorted(cdf, u[rows], side="right"), len(cdf) - 1)
                out[rows] = self._ids[k // n_levels][pick]
        return out
