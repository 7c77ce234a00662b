"""Customer population: CRM attributes plus the latent behaviour that drives purchases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mesh_demo.generate import config as cfg
from mesh_demo.generate.vocab import CITIES, FIRST_NAMES, LAST_NAMES

# Pre-window customers signed up within the six years before the window opened.
_HISTORY_DAYS = 6 * 365


@dataclass(frozen=True)
class Population:
    """Latent per-customer traits; row i belongs to customer_id i + 1."""

    pref: np.ndarray  # (n, n_categories) taste, rows sum to 1
    activity: np.ndarray  # expected orders per month while active
    sensitivity: np.ndarray  # index into cfg.SENSITIVITY_LEVELS
    signup_day: np.ndarray  # days since WINDOW_START, negative before the window
    channel: np.ndarray  # index into cfg.CHANNELS
    device: np.ndarray  # index into cfg.DEVICES

    @property
    def size(self) -> int:
        """Number of customers."""
        return len(self.activity)


def make_population(rng: np.random.Generator, n: int) -> Population:
    """Draw latent traits for ``n`` customers, ordered by signup date.

    Args:
        rng: Random generator dedicated to the population.
        n: Number of customers.

    Returns:
        The population, with customer ids increasing with signup date like a CRM.

    """
    n_initial = round(n * cfg.INITIAL_CUSTOMER_SHARE)
    before = rng.integers(-_HISTORY_DAYS, 0, n_initial)
    during = rng.integers(0, cfg.N_DAYS, n - n_initial)
    signup_day = np.sort(np.concatenate([before, during]))
    # Small Dirichlet alphas concentrate each customer on a few favourite categories.
    alpha = cfg.PREF_CONCENTRATION * cfg.CATEGORY_SHARES
    return Population(
        pref=rng.dirichlet(alpha, size=n),
        activity=rng.gamma(cfg.ACTIVITY_SHAPE, cfg.ACTIVITY_MEAN / cfg.ACTIVITY_SHAPE, n),
        sensitivity=rng.integers(0, len(cfg.SENSITIVITY_LEVELS), n),
        signup_day=signup_day,
        channel=rng.choice(len(cfg.CHANNELS), n, p=cfg.CHANNEL_SHARES),
        device=rng.choice(len(cfg.DEVICES), n, p=cfg.DEVICE_SHARES),
    )


def crm_frame(rng: np.random.Generator, pop: Population) -> pd.DataFrame:
    """Build the CRM export of the population.

    Args:
        rng: Random generator for the descriptive attributes.
        pop: The latent population (provides signup dates).

    Returns:
        One row per customer with the ``crm_customers.csv`` columns, all as text.

    """
    n = pop.size
    ids = pd.Series(np.arange(1, n + 1)).astype(str)
    first = pd.Series(np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)])
    last = pd.Series(np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)])
    city_weights = np.array([c[2] for c in CITIES], dtype=float)
    city = rng.choice(len(CITIES), n, p=city_weights / city_weights.sum())
    # Ages at the window start; everyone was an adult when signing up.
    age_days = (np.clip(rng.normal(42, 14, n), 25, 85) * 365.25).astype(np.int64)
    birth = cfg.WINDOW_START - age_days - rng.integers(0, 365, n)
    signup = cfg.WINDOW_START + pop.signup_day
    opt_in = rng.random(n) < 0.55
    return pd.DataFrame(
        {
            "customer_id": ids,
            "first_name": first,
            "last_name": last,
            "email": (first + "." + last + "." + ids).str.lower() + "@example.com",
            "birth_date": np.datetime_as_string(birth, unit="D"),
            "city": np.array([c[0] for c in CITIES])[city],
            "country": np.array([c[1] for c in CITIES])[city],
            "signup_date": np.datetime_as_string(signup, unit="D"),
            "marketing_opt_in": np.where(opt_in, "true", "false"),
        }
    )
