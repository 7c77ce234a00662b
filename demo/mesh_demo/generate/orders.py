"""ERP sales of one month: orders and their lines, driven by the latent customer model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mesh_demo.generate import config as cfg
from mesh_demo.generate.catalog import Products
from mesh_demo.generate.customers import Population
from mesh_demo.generate.demand import Calendar
from mesh_demo.generate.sampling import ProductSampler, sample_days, sample_rows, sample_seconds

_MAIN_CHANNEL_LOYALTY = 0.7
_EXTRA_UNITS = np.array([c.extra_units for c in cfg.CATEGORIES])


@dataclass(frozen=True)
class MonthSales:
    """A month's orders and lines, sorted by order id, plus arrays the web funnel reuses."""

    customer: np.ndarray  # per order, 0-based customer row
    seconds: np.ndarray  # per order, epoch seconds
    channel: np.ndarray  # per order, index into cfg.CHANNELS
    status: np.ndarray  # per order, index into cfg.STATUSES
    line_order: np.ndarray  # per line, 0-based order row within the month
    line_number: np.ndarray
    product: np.ndarray  # per line, 0-based product row
    quantity: np.ndarray
    discount: np.ndarray
    promotion_id: np.ndarray  # 0 when no promotion


def make_sales(
    rng: np.random.Generator,
    month: int,
    counts: np.ndarray,
    first_allowed: np.ndarray,
    pop: Population,
    cal: Calendar,
    sampler: ProductSampler,
) -> MonthSales:
    """Place each customer's orders in time, then fill them with lines.

    Args:
        rng: The month's random generator.
        month: 0-based window month.
        counts: Orders per customer this month.
        first_allowed: Earliest allowed day of the month per customer.
        pop: The population.
        cal: Demand calendar.
        sampler: Product chooser for this month's assortment.

    Returns:
        The month's sales, orders sorted by time (order ids follow that order).

    """
    first, n_days = cal.month_days(month)
    customer = np.repeat(np.arange(len(counts)), counts)
    day = first + sample_days(rng, cal.volume[first : first + n_days], first_allowed[customer])
    seconds = sample_seconds(rng, day)
    order = np.lexsort((customer, seconds))
    customer, seconds, day = customer[order], seconds[order], day[order]
    n = len(customer)
    loyal = rng.random(n) < _MAIN_CHANNEL_LOYALTY
    channel = np.where(loyal, pop.channel[customer], rng.choice(3, n, p=cfg.CHANNEL_SHARES))
    status = rng.choice(len(cfg.STATUSES), n, p=cfg.STATUS_SHARES)
    lines = _make_lines(rng, customer, day, pop, cal, sampler)
    return MonthSales(customer, seconds, channel, status, *lines)


def _make_lines(rng, customer, day, pop, cal, sampler) -> tuple[np.ndarray, ...]:
    n_lines = 1 + rng.poisson(cfg.EXTRA_LINES_MEAN, len(customer))
    line_order = np.repeat(np.arange(len(customer)), n_lines)
    lc, ld = customer[line_order], day[line_order]
    taste = cfg.PREF_WEIGHT * pop.pref[lc] + (1 - cfg.PREF_WEIGHT) * cfg.CATEGORY_SHARES
    category = sample_rows(rng, taste * cal.category_boost[ld])
    product = sampler.sample(rng, category, pop.sensitivity[lc])
    # A basket lists each product once: drop repeated picks, keep first-drawn order.
    _, first_idx = np.unique(line_order * (product.max() + 1) + product, return_index=True)
    keep = np.sort(first_idx)
    line_order, category, product, ld = line_order[keep], category[keep], product[keep], ld[keep]
    line_number = np.arange(len(keep)) - np.searchsorted(line_order, line_order) + 1
    quantity = 1 + rng.poisson(_EXTRA_UNITS[category])
    return (
        line_order,
        line_number,
        product,
        quantity,
        cal.discount[ld, category],
        cal.promotion_id[ld, category],
    )


def _take(names: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(names, pa.string()).take(pa.array(idx, pa.int64()))


def orders_table(sales: MonthSales, first_order_id: int) -> pa.Table:
    """Render the month's orders as the ``sales/orders_YYYY-MM.parquet`` table.

    Args:
        sales: The month's sales.
        first_order_id: Id of the month's first order (ids are unique across months).

    Returns:
        Arrow table with the contracted column names and types.

    """
    n = len(sales.customer)
    return pa.table(
        {
            "order_id": pa.array(first_order_id + np.arange(n), pa.int64()),
            "customer_id": pa.array(sales.customer + 1, pa.int64()),
            "ordered_at": pa.array(sales.seconds * 1_000_000, pa.int64()).cast(pa.timestamp("us")),
            "channel": _take(cfg.CHANNELS, sales.channel),
            "status": _take(cfg.STATUSES, sales.status),
        }
    )


def lines_table(sales: MonthSales, products: Products, first_order_id: int) -> pa.Table:
    """Render the month's lines as the ``sales/order_lines_YYYY-MM.parquet`` table.

    Args:
        sales: The month's sales.
        products: The catalogue (for list prices).
        first_order_id: Id of the month's first order.

    Returns:
        Arrow table with the contracted column names and types.

    """
    unit_price = np.round(products.price[sales.product] * (1.0 - sales.discount), 2)
    return pa.table(
        {
            "order_id": pa.array(first_order_id + sales.line_order, pa.int64()),
            "line_number": pa.array(sales.line_number, pa.int32()),
            "product_id": pa.array(sales.product + 1, pa.int64()),
            "quantity": pa.array(sales.quantity, pa.int32()),
            "unit_price": pa.array(unit_price, pa.float64()),
            "discount_pct": pa.array(sales.discount, pa.float64()),
            "promotion_id": pa.array(sales.promotion_id, pa.int64(), mask=sales.promotion_id == 0),
        }
    )
