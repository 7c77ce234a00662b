"""Assemble a month of web tracking from funnels, customer browsing and anonymous visits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from mesh_demo.generate import config as cfg
from mesh_demo.generate.customers import Population
from mesh_demo.generate.demand import Calendar
from mesh_demo.generate.events import Events, Visitors, browse_events, funnel_events
from mesh_demo.generate.orders import MonthSales
from mesh_demo.generate.sampling import ProductSampler

_AVG_MONTH_DAYS = 365.25 / 12


def _known_visitors(
    rng: np.random.Generator,
    pop: Population,
    churned: np.ndarray,
    first_allowed: np.ndarray,
    n_days: int,
) -> Visitors:
    signed_up = first_allowed < n_days
    # Churned customers mostly stop visiting; a few still drop by.
    lapse = np.where(churned, cfg.CHURNED_BROWSE_FACTOR, 1.0)
    months = (n_days - first_allowed) / _AVG_MONTH_DAYS
    rate = pop.activity * cfg.BROWSE_SESSIONS_PER_ORDER * months * lapse * signed_up
    customer = np.repeat(np.arange(pop.size), rng.poisson(rate))
    w = cfg.BROWSE_PREF_WEIGHT
    return Visitors(
        customer=customer,
        taste=w * pop.pref[customer] + (1 - w) * cfg.CATEGORY_SHARES,
        sensitivity=pop.sensitivity[customer],
        first_allowed=first_allowed[customer],
        device=pop.device[customer],
    )


def _anonymous_visitors(rng: np.random.Generator, n: int) -> Visitors:
    return Visitors(
        customer=np.full(n, -1),
        taste=np.tile(cfg.CATEGORY_SHARES, (n, 1)),
        sensitivity=rng.integers(0, len(cfg.SENSITIVITY_LEVELS), n),
        first_allowed=np.zeros(n, dtype=np.int64),
        device=rng.choice(len(cfg.DEVICES), n, p=cfg.DEVICE_SHARES),
    )


def month_events(
    rng: np.random.Generator,
    month: int,
    sales: MonthSales,
    pop: Population,
    churned: np.ndarray,
    first_allowed: np.ndarray,
    cal: Calendar,
    sampler: ProductSampler,
) -> Events:
    """Simulate all web events of a month, sorted by time.

    Args:
        rng: The month's random generator.
        month: 0-based window month.
        sales: The month's sales (each purchased line gets a funnel).
        pop: The population.
        churned: Churn flags at the start of the month.
        first_allowed: Earliest allowed day of the month per customer.
        cal: Demand calendar.
        sampler: Product chooser for this month's assortment.

    Returns:
        The month's events in a stable order (time, session, type, product).

    """
    first, n_days = cal.month_days(month)
    start = cfg.START_EPOCH_SECONDS + first * cfg.SECONDS_PER_DAY
    funnel = funnel_events(rng, sales, pop, start)
    visitors = _known_visitors(rng, pop, churned, first_allowed, n_days)
    browse = browse_events(rng, cal, sampler, month, visitors)
    known = len(funnel.kind) + len(browse.kind)
    per_session = (1 + cfg.BROWSE_EXTRA_VIEWS) * (1 + cfg.BROWSE_CART_RATE)
    share = cfg.ANONYMOUS_EVENT_SHARE
    n_anon = int(rng.poisson(known * share / (1 - share) / per_session))
    anon = browse_events(rng, cal, sampler, month, _anonymous_visitors(rng, n_anon))
    # Number sessions uniquely: orders first, then customer browsing, then anonymous.
    browse = dataclasses.replace(browse, session=browse.session + len(sales.customer))
    anon = dataclasses.replace(
        anon, session=anon.session + len(sales.customer) + len(visitors.customer)
    )
    ev = Events.concat([funnel, browse, anon])
    # Browsing that would run past midnight of the month's last day is cut off there.
    seconds = np.clip(ev.seconds, start, start + n_days * cfg.SECONDS_PER_DAY - 1)
    ev = dataclasses.replace(ev, seconds=seconds)
    order = np.lexsort((ev.product, ev.kind, ev.session, ev.seconds))
    return Events(*(getattr(ev, f)[order] for f in Events.__annotations__))


def events_table(ev: Events) -> pa.Table:
    """Compact Arrow form of events; the JSONL writer renders ids and labels from it.

    Args:
        ev: Sorted events.

    Returns:
        Table with ``seq, kind, customer_id, session, product_id, occurred_at, device``.

    """
    return pa.table(
        {
            "seq": pa.array(np.arange(len(ev.kind)), pa.int64()),
            "kind": pa.array(ev.kind, pa.int8()),
            "customer_id": pa.array(ev.customer + 1, pa.int64(), mask=ev.customer < 0),
            "session": pa.array(ev.session, pa.int64()),
            "product_id": pa.array(ev.product + 1, pa.int64()),
            "occurred_at": pa.array(ev.seconds, pa.int64()).cast(pa.timestamp("s")),
            "device": pa.array(ev.device, pa.int8()),
        }
    )
