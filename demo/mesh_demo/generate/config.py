"""Calendar window, category and behaviour constants of the simulated web shop."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

WINDOW_MONTHS = 24
SECONDS_PER_DAY = 86_400
# The window: WINDOW_MONTHS calendar months, the last one cut at the end date (inclusive). A seed
# and an end date always yield the same files; ``use_window`` sets these before a generation
# (end date 2026-10-31 gives the window the generator had when it was fixed, Nov 2024-Oct 2026).
WINDOW_START: np.datetime64
END_DATE: np.datetime64
MONTHS: np.ndarray
MONTH_START_DAYS: np.ndarray
N_DAYS: int
START_EPOCH_SECONDS: int


def use_window(end: date) -> None:
    """Make the simulated window end on ``end``: the months before it and its own, up to it.

    Args:
        end: the last day with data (whole day; its events may lie later than the moment of
            generating when that is the same day).
    """
    global WINDOW_START, END_DATE, MONTHS, MONTH_START_DAYS, N_DAYS, START_EPOCH_SECONDS
    END_DATE = np.datetime64(end.isoformat(), "D")
    last = END_DATE.astype("datetime64[M]")
    MONTHS = np.arange(last - (WINDOW_MONTHS - 1), last + 1, dtype="datetime64[M]")
    WINDOW_START = MONTHS[0].astype("datetime64[D]")
    MONTH_START_DAYS = (MONTHS.astype("datetime64[D]") - WINDOW_START).astype(np.int64)
    N_DAYS = int((END_DATE - WINDOW_START).astype(np.int64)) + 1
    START_EPOCH_SECONDS = int(WINDOW_START.astype("datetime64[s]").astype(np.int64))


END_DATE_ENV = "MESH_DEMO_END_DATE"  # YYYY-MM-DD: a default end date other than today


def default_end() -> date:
    """The default end date: ``$MESH_DEMO_END_DATE`` when set, else today in UTC.

    The test suite sets it so its builds, and the model gates they judge, are the same whatever
    day it runs; everyone else gets data ending today.
    """
    pinned = os.environ.get(END_DATE_ENV)
    return date.fromisoformat(pinned) if pinned else datetime.now(UTC).date()


use_window(default_end())


@dataclass(frozen=True)
class Category:
    """A fixed retail category and the parameters of its products and demand."""

    name: str
    share: float  # long-run share of demand; also the mean of customer preferences
    price_median: float
    price_sigma: float
    extra_units: float  # Poisson mean of units bought beyond the first
    peak_months: tuple[int, ...] = ()


CATEGORIES = (
    Category("electronics", 0.12, 120.0, 0.8, 0.05, (11, 12)),
    Category("books", 0.10, 16.0, 0.4, 0.2, (12,)),
    Category("home", 0.10, 40.0, 0.7, 0.15),
    Category("garden", 0.06, 35.0, 0.7, 0.3, (4, 5, 6)),
    Category("toys", 0.08, 25.0, 0.6, 0.15, (11, 12)),
    Category("sports", 0.08, 45.0, 0.7, 0.1, (1, 6)),
    Category("beauty", 0.09, 18.0, 0.5, 0.4),
    Category("fashion", 0.13, 40.0, 0.6, 0.2, (3, 9)),
    Category("grocery", 0.09, 5.0, 0.5, 1.5),
    Category("pets", 0.05, 20.0, 0.6, 0.6),
    Category("office", 0.05, 12.0, 0.7, 0.5, (9,)),
    Category("music", 0.05, 15.0, 0.5, 0.1, (12,)),
)
CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)
CATEGORY_SHARES = np.array([c.share for c in CATEGORIES])

CHANNELS = ("web", "app", "store")
CHANNEL_SHARES = np.array([0.55, 0.30, 0.15])
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_SHARES = np.array([0.45, 0.45, 0.10])
STATUSES = ("completed", "returned", "cancelled")
STATUS_SHARES = np.array([0.91, 0.06, 0.03])

# Demand shape over the calendar: month of year (1..12), weekday (Mon..Sun), hour.
MONTH_SEASON = np.array([0.85, 0.85, 0.95, 1.0, 1.0, 0.95, 0.95, 0.95, 1.0, 1.05, 1.2, 1.4])
WEEKDAY_SEASON = np.array([0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.0])
HOUR_WEIGHTS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1,
        2,
        3,
        4,
        4.5,
        5,
        5.5,
        5,
        4.5,
        4.5,
        5,
        5.5,
        6.5,
        8,
        8.5,
        7,
        5,
        2.5,
    ]
)
PEAK_MONTH_BOOST = 1.5

# Latent customer behaviour.
PREF_CONCENTRATION = 0.3 * len(CATEGORIES)  # Dirichlet alpha averages ~0.3 per category
PREF_WEIGHT = 0.9  # purchases: weight of personal taste vs. global category shares
BROWSE_PREF_WEIGHT = 0.6  # browsing is noisier than buying but reveals the same taste
ACTIVITY_MEAN = 0.75  # expected orders per month of an active customer
ACTIVITY_SHAPE = 1.3
SENSITIVITY_LEVELS = np.linspace(0.0, 2.5, 6)  # exponent on relative price
EXTRA_LINES_MEAN = 0.9
PROMO_PULL = 6.0  # category weight multiplier per unit of discount
PROMO_VOLUME = 5.0  # order volume uplift per unit of demand-weighted discount
INITIAL_CUSTOMER_SHARE = 0.6  # customers already signed up when the window opens

# Monthly churn hazard = sigmoid(a + b * recency_months - c * orders_in_recent_months).
CHURN_INTERCEPT = -2.8
CHURN_RECENCY = 0.35
CHURN_FREQUENCY = 0.35
RECENT_MONTHS = 6
CHURNED_BROWSE_FACTOR = 0.05

# Web tracking.
FUNNEL_EXTRA_VIEWS = 0.25
FUNNEL_CART_RATE = 0.8
BROWSE_SESSIONS_PER_ORDER = 0.3
BROWSE_EXTRA_VIEWS = 1.2
BROWSE_CART_RATE = 0.08
ANONYMOUS_EVENT_SHARE = 0.10


@dataclass(frozen=True)
class Sizes:
    """Entity counts derived from the scale factor."""

    customers: int
    products: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        """Size the population so scale 1 yields roughly 100,000 order lines.

        Args:
            scale: Positive multiplier; fractional values shrink the customer base.

        Returns:
            The customer and product counts for this scale.

        """
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        customers = max(200, round(5000 * scale))
        products = round(500 * max(1.0, math.sqrt(scale)))
        return cls(customers=customers, products=products)
