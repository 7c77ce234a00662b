"""Web tracking of one month: purchase funnels, non-converting browsing, anonymous visits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesh_demo.generate import config as cfg
from mesh_demo.generate.customers import Population
from mesh_demo.generate.demand import Calendar
from mesh_demo.generate.orders import MonthSales
from mesh_demo.generate.sampling import ProductSampler, sample_days, sample_rows, sample_seconds

_VIEW, _CART = 0, 1
_MOBILE, _TABLET = 1, 2


@dataclass(frozen=True)
class Events:
    """Column arrays of web events; customer -1 marks an anonymous visitor."""

    kind: np.ndarray
    customer: np.ndarray
    session: np.ndarray
    product: np.ndarray
    seconds: np.ndarray
    device: np.ndarray

    @classmethod
    def concat(cls, parts: list[Events]) -> Events:
        """Stack several event batches."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__annotations__))


@dataclass(frozen=True)
class Visitors:
    """One row per browsing session: who browses and what they are drawn to."""

    customer: np.ndarray  # 0-based customer row, -1 for anonymous visitors
    taste: np.ndarray  # (n, categories) category weights
    sensitivity: np.ndarray  # index into cfg.SENSITIVITY_LEVELS
    first_allowed: np.ndarray  # earliest day of the month
    device: np.ndarray  # preferred device


def _device(rng: np.random.Generator, preferred: np.ndarray) -> np.ndarray:
    # People mostly stick to their own device but sometimes switch.
    other = rng.choice(len(cfg.DEVICES), len(preferred), p=cfg.DEVICE_SHARES)
    return np.where(rng.random(len(preferred)) < 0.75, preferred, other)


def funnel_events(
    rng: np.random.Generator, sales: MonthSales, pop: Population, month_start: int
) -> Events:
    """Simulate views and add-to-cart clicks before each purchased line, one session per order.

    Args:
        rng: The month's random generator.
        sales: The month's sales.
        pop: The population.
        month_start: Epoch seconds of the month's first instant.

    Returns:
        Funnel events; session numbers are the month's order rows.

    """
    n_lines = len(sales.line_order)
    views = np.repeat(np.arange(n_lines), 1 + rng.poisson(cfg.FUNNEL_EXTRA_VIEWS, n_lines))
    carts = np.flatnonzero(rng.random(n_lines) < cfg.FUNNEL_CART_RATE)
    line = np.concatenate([views, carts])
    # Views come minutes before the purchase, the add-to-cart shortly before it.
    offset = np.concatenate(
        [rng.integers(300, 2700, len(views)), rng.integers(20, 290, len(carts))]
    )
    order = sales.line_order[line]
    # Orders just after midnight on the 1st get a compressed funnel that stays in the month.
    room = np.minimum(1.0, (sales.seconds[order] - month_start) / 2700)
    offset = np.floor(offset * room).astype(np.int64)
    app = sales.channel == cfg.CHANNELS.index("app")
    app_device = np.where(rng.random(len(app)) < 0.85, _MOBILE, _TABLET)
    order_device = np.where(app, app_device, _device(rng, pop.device[sales.customer]))
    return Events(
        kind=np.concatenate([np.full(len(views), _VIEW), np.full(len(carts), _CART)]),
        customer=sales.customer[order],
        session=order,
        product=sales.product[line],
        seconds=sales.seconds[order] - offset,
        device=order_device[order],
    )


def browse_events(
    rng: np.random.Generator,
    cal: Calendar,
    sampler: ProductSampler,
    month: int,
    visitors: Visitors,
) -> Events:
    """Sessions of views (rarely a cart) that do not end in a purchase.

    Args:
        rng: The month's random generator.
        cal: Demand calendar (promotions attract views too).
        sampler: Product chooser for this month's assortment.
        month: 0-based window month.
        visitors: One row per session to simulate.

    Returns:
        Browsing events with session numbers 0..n_sessions-1.

    """
    v = visitors
    first, n_days = cal.month_days(month)
    day = first + sample_days(rng, cal.volume[first : first + n_days], v.first_allowed)
    start = sample_seconds(rng, day)
    session = np.repeat(np.arange(len(day)), 1 + rng.poisson(cfg.BROWSE_EXTRA_VIEWS, len(day)))
    step = np.arange(len(session)) - np.searchsorted(session, session)
    seconds = start[session] + step * 90 + rng.integers(0, 60, len(session))
    category = sample_rows(rng, v.taste[session] * cal.category_boost[day[session]])
    product = sampler.sample(rng, category, v.sensitivity[session])
    device = _device(rng, v.device)
    cart = np.flatnonzero(rng.random(len(session)) < cfg.BROWSE_CART_RATE)
    both = np.concatenate([np.arange(len(session)), cart])
    return Events(
        kind=np.concatenate([np.full(len(session), _VIEW), np.full(len(cart), _CART)]),
        customer=v.customer[session][both],
        session=session[both],
        product=product[both],
        seconds=np.concatenate([seconds, seconds[cart] + rng.integers(15, 120, len(cart))]),
        device=device[session][both],
    )
