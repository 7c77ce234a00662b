"""Product catalogue (PIM/ERP) with category-dependent prices and latent popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mesh_demo.generate import config as cfg
from mesh_demo.generate.vocab import ADJECTIVES, BRANDS, NOUNS

# Products launched up to eight years before the window; some launch during it.
_HISTORY_DAYS = 8 * 365
_LAUNCHED_IN_WINDOW = 0.15
# The first few products of every category predate the window so none is ever empty.
_GUARANTEED_OLD = 3


@dataclass(frozen=True)
class Products:
    """Catalogue arrays; row i is product_id i + 1 (ids follow launch order)."""

    category: np.ndarray  # index into cfg.CATEGORIES
    brand: np.ndarray
    name: np.ndarray
    price: np.ndarray
    launched_day: np.ndarray  # days since WINDOW_START
    popularity: np.ndarray  # log-scale latent popularity

    @property
    def size(self) -> int:
        """Number of products."""
        return len(self.price)


def _category_counts(n: int) -> np.ndarray:
    counts = np.maximum(_GUARANTEED_OLD + 2, np.round(n * cfg.CATEGORY_SHARES)).astype(int)
    # Absorb rounding in the largest category so the total is exactly n (n >= 500 here).
    counts[np.argmax(counts)] += n - counts.sum()
    return counts


def _names(rng: np.random.Generator, category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    brands = np.empty(len(category), dtype=object)
    names = np.empty(len(category), dtype=object)
    adjectives = np.array(ADJECTIVES)[rng.integers(0, len(ADJECTIVES), len(category))]
    for c, cat in enumerate(cfg.CATEGORY_NAMES):
        rows = np.flatnonzero(category == c)
        b = np.array(BRANDS[cat])[rng.integers(0, len(BRANDS[cat]), len(rows))]
        noun = np.array(NOUNS[cat])[rng.integers(0, len(NOUNS[cat]), len(rows))]
        brands[rows] = b
        names[rows] = [f"{x} {a} {y}" for x, a, y in zip(b, adjectives[rows], noun, strict=True)]
    return brands, names


def make_products(rng: np.random.Generator, n: int) -> Products:
    """Draw the product catalogue.

    Args:
        rng: Random generator dedicated to the catalogue.
        n: Approximate number of products (each category gets at least a few).

    Returns:
        Products sorted by launch date, so product ids grow with launch date.

    """
    counts = _category_counts(n)
    category = np.repeat(np.arange(len(counts)), counts)
    medians = np.array([c.price_median for c in cfg.CATEGORIES])[category]
    sigmas = np.array([c.price_sigma for c in cfg.CATEGORIES])[category]
    raw = medians * np.exp(sigmas * rng.standard_normal(len(category)))
    # Shelf prices end in .99 (or .49 for cheap items), like a real price list.
    price = np.where(raw >= 2, np.round(raw) - 0.01, np.round(raw * 2) / 2 - 0.01)
    price = np.maximum(price, 0.49).round(2)
    new = rng.random(len(category)) < _LAUNCHED_IN_WINDOW
    starts = np.cumsum(counts) - counts
    new[(starts[:, None] + np.arange(_GUARANTEED_OLD)).ravel()] = False
    launched = np.where(
        new,
        rng.integers(0, cfg.N_DAYS, len(category)),
        rng.integers(-_HISTORY_DAYS, 0, len(category)),
    )
    popularity = rng.normal(0.0, 0.9, len(category))
    brand, name = _names(rng, category)
    order = np.lexsort((np.arange(len(category)), launched))
    return Products(
        category=category[order],
        brand=brand[order],
        name=name[order],
        price=price[order],
        launched_day=launched[order],
        popularity=popularity[order],
    )


def products_table(products: Products) -> pa.Table:
    """Render the catalogue as the ``catalog/products.parquet`` table.

    Args:
        products: The catalogue.

    Returns:
        Arrow table with the contracted column names and types.

    """
    ids = np.arange(1, products.size + 1, dtype=np.int64)
    launched = (cfg.WINDOW_START + products.launched_day).astype("datetime64[D]")
    return pa.table(
        {
            "product_id": pa.array(ids, pa.int64()),
            "sku": pa.array([f"SKU-{i:06d}" for i in ids], pa.string()),
            "product_name": pa.array(products.name.tolist(), pa.string()),
            "category": pa.array(np.array(cfg.CATEGORY_NAMES)[products.category], pa.string()),
            "brand": pa.array(products.brand.tolist(), pa.string()),
            "list_price": pa.array(products.price, pa.float64()),
            "launched_on": pa.array(launched, pa.date32()),
        }
    )
