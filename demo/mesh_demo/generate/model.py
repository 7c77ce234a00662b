"""Month-by-month customer lifecycle: who is active, how often they order, who churns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesh_demo.generate import config as cfg
from mesh_demo.generate.customers import Population
from mesh_demo.generate.demand import Calendar

_AVG_MONTH_DAYS = 365.25 / 12
_DORMANT_AT_START = 0.4  # lapse odds of pre-window customers, scaled down by activity


@dataclass
class ChurnState:
    """Mutable lifecycle state; ``recent[:, m % RECENT_MONTHS]`` holds month m's orders."""

    churned: np.ndarray
    last_order_month: np.ndarray  # window month index, negative before the window
    recent: np.ndarray

    @classmethod
    def initial(cls, rng: np.random.Generator, pop: Population) -> ChurnState:
        """Seed pre-window customers with a plausible recent history.

        Args:
            rng: Random generator for the initial state.
            pop: The population.

        Returns:
            The state at the opening of the window.

        """
        r = cfg.RECENT_MONTHS
        before = pop.signup_day < 0
        # Low-activity customers are the ones who had already lapsed (~20% of old customers).
        lapse = _DORMANT_AT_START * np.exp(-pop.activity / cfg.ACTIVITY_MEAN)
        dormant = before & (rng.random(pop.size) < lapse)
        # history[:, k] = orders in window month -(k + 1), only for active old customers.
        history = rng.poisson(pop.activity[:, None] * np.ones(r)) * (before & ~dormant)[:, None]
        any_order = history.any(axis=1)
        signup_month = np.searchsorted(cfg.MONTH_START_DAYS, pop.signup_day, side="right") - 1
        last = np.where(any_order, -1 - np.argmax(history > 0, axis=1), -r - 1)
        recent = np.zeros((pop.size, r), dtype=np.int32)
        recent[:, (-np.arange(1, r + 1)) % r] = history
        # New customers measure recency from signup, not from a phantom earlier order.
        return cls(
            churned=dormant,
            last_order_month=np.where(before, last, signup_month),
            recent=recent,
        )

    def advance(
        self, rng: np.random.Generator, month: int, orders: np.ndarray, signed_up: np.ndarray
    ) -> None:
        """Record a month's orders per customer, then apply the churn hazard.

        Args:
            rng: The month's random generator.
            month: 0-based window month just simulated.
            orders: ``(n,)`` orders placed by each customer this month.
            signed_up: ``(n,)`` whether each customer had signed up by the month's end.

        """
        self.recent[:, month % cfg.RECENT_MONTHS] = orders
        self.last_order_month[orders > 0] = month
        recency = month - self.last_order_month
        logit = (
            cfg.CHURN_INTERCEPT
            + cfg.CHURN_RECENCY * recency
            - cfg.CHURN_FREQUENCY * self.recent.sum(axis=1)
        )
        at_risk = signed_up & ~self.churned
        self.churned |= at_risk & (rng.random(len(orders)) < 1.0 / (1.0 + np.exp(-logit)))


def order_counts(
    rng: np.random.Generator, month: int, pop: Population, state: ChurnState, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw how many orders each customer places in a month.

    Args:
        rng: The month's random generator.
        month: 0-based window month.
        pop: The population.
        state: Lifecycle state at the start of the month.
        cal: Demand calendar.

    Returns:
        ``(orders, first_allowed, signed_up)``: orders per customer, each customer's
        earliest allowed day of the month (their signup day) and the signed-up mask.

    """
    first, n_days = cal.month_days(month)
    rel = pop.signup_day - first
    signed_up = rel < n_days
    first_allowed = np.clip(rel, 0, n_days).astype(np.int64)
    vol = cal.volume[first : first + n_days]
    # Customers joining mid-month only get the demand of the days after they joined.
    remaining = vol.sum() - np.concatenate([[0.0], np.cumsum(vol)])[first_allowed]
    lam = pop.activity * remaining / _AVG_MONTH_DAYS * (signed_up & ~state.churned)
    return rng.poisson(lam), first_allowed, signed_up
