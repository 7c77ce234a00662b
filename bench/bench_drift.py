"""Benchmark: false-alarm and detection rates of the platform's feature drift check.

Each seed simulates a shop seen at two as-of dates 90 days apart, as the platform compares them:
the reference is profiled (`reference_profile`) from the evaluation window (as-of day 640 of the
data), and serving rows (as-of day 730) are checked with `drift_report` at the defaults (PSI >= 0.2
and the test at p < 0.01 / features), with the two time-driven features declared non-stationary.
Both windows hold the same number of rows: 100, 1k, 10k or 50k. Features: 8 stationary ones
(normal age, log-normal order value, Poisson order count, zero-inflated spend, exponential
recency, a beta share, a 3-level channel, an 8-level category) and 2 that move with time by
construction: `first_order_days` (days since the first order, most customers' first order at the
start of the data, so the whole mass moves by the elapsed 90 days) and `promo_discount` (the
promotion calendar of the as-of day: which share of rows has which discount changes by date).

* none: nothing but the elapsed time; rate = reports with ANY feature flagged (false alarms).
* shifts: `age` +0.2 / +0.5 sd (population PSI ~0.04 / ~0.25), `channel` web 60% -> 50% / 35%
  (PSI ~0.04 / ~0.26), and `first_order_days` a third null; rate = the shifted feature flagged.

`rule` is the platform; `p<.01` the same reports with each feature's test at p < 0.01 instead of
0.01 / features (no Bonferroni split); `old rule` as before this change: that, and no feature
declared non-stationary.

    uv run python bench/bench_drift.py               # 200 seeds, the figures in README
    uv run python bench/bench_drift.py --seeds 20    # quick run
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from mesh_platform.ml.drift import DriftReport, drift_report, reference_profile

ROWS = (100, 1_000, 10_000, 50_000)
REFERENCE_DAY, SERVING_DAY = 640, 730  # as-of days since the start of the data
NON_STATIONARY = ["first_order_days", "promo_discount"]
CHANNELS = ["web", "app", "store"]
SCENARIOS = {  # name -> (feature, age shift in sd, web share of channel, null share)
    "none": (None, 0.0, 0.6, 0.0),
    "numeric small (0.2 sd)": ("age", 0.2, 0.6, 0.0),
    "numeric medium (0.5 sd)": ("age", 0.5, 0.6, 0.0),
    "categorical small (60->50%)": ("channel", 0.0, 0.5, 0.0),
    "categorical medium (60->35%)": ("channel", 0.0, 0.35, 0.0),
    "non-stationary 1/3 null": ("first_order_days", 0.0, 0.6, 1 / 3),
}


def shop(rows: int, day: int, rng: np.random.Generator, scenario: tuple) -> pd.DataFrame:
    """Features of `rows` customers as of `day`; `scenario` moves one feature."""
    _, age_sd, web, nulls = scenario
    spend = rng.lognormal(4.0, 1.0, rows) * (rng.random(rows) < 0.7)  # 30% spent nothing
    first = np.where(rng.random(rows) < 0.6, rng.uniform(0, 30, rows), rng.uniform(0, day, rows))
    calendar = np.random.default_rng(day)  # the day's promotions, the same for every seed
    on_promo, discount = calendar.uniform(0.05, 0.4), calendar.choice([0.1, 0.15, 0.2, 0.3])
    return pd.DataFrame({
        "age": rng.normal(40 + 12 * age_sd, 12, rows),
        "avg_order_value": rng.lognormal(3.5, 0.8, rows),
        "orders_90d": rng.poisson(2.5, rows),
        "revenue_365d": spend,
        "recency_days": rng.exponential(45, rows),
        "promotion_order_share": rng.beta(2, 5, rows),
        "channel": rng.choice(CHANNELS, rows, p=[web, (1 - web) / 2, (1 - web) / 2]),
        "top_category": rng.choice(8, rows, p=np.arange(8, 0, -1) / 36).astype(str),
        "first_order_days": np.where(rng.random(rows) < nulls, np.nan, np.floor(day - first)),
        "promo_discount": np.where(rng.random(rows) < on_promo, discount, 0.0),
    })  # fmt: skip


def flags(report: DriftReport, feature: str | None) -> tuple[bool, bool, bool, float]:
    """(platform rule, per-feature p < .01, old rule) for the feature (any when None), its PSI."""
    rows = [report.features[feature]] if feature else list(report.features.values())
    old = [r.psi >= report.psi_threshold and not r.p_value >= report.ks_pvalue for r in rows]
    per_feature = [r.drifted if r.non_stationary else o for o, r in zip(old, rows, strict=True)]
    return any(r.drifted for r in rows), any(per_feature), any(old), max(r.psi for r in rows)


def run(seeds: int) -> list[dict]:
    """Rates per scenario and window size over `seeds` simulated shops."""
    tallies: dict[tuple[str, int], list[tuple[bool, bool, bool, float]]] = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for rows in ROWS:
            reference = shop(rows, REFERENCE_DAY, rng, SCENARIOS["none"])
            profile = reference_profile(reference, list(reference.columns), seed=seed)
            for name, scenario in SCENARIOS.items():
                current = shop(rows, SERVING_DAY, rng, scenario)
                report = drift_report(profile, current, non_stationary=NON_STATIONARY)
                tallies.setdefault((name, rows), []).append(flags(report, scenario[0]))
    results = []
    for (name, rows), runs in sorted(tallies.items(), key=lambda kv: kv[0][1]):
        rule, per_feature, old, psis = zip(*runs, strict=True)
        results.append({"scenario": name, "rows": rows, "runs": len(runs),
                        "rule": float(np.mean(rule)), "per_feature": float(np.mean(per_feature)),
                        "old_rule": float(np.mean(old)),
                        "median_psi": statistics.median(psis)})  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run(args.seeds)
    elapsed = time.perf_counter() - started
    print(
        f"{args.seeds} seeds x {len(ROWS)} window sizes, 10 features (2 non-stationary), "
        f"reference as of day {REFERENCE_DAY}, serving {SERVING_DAY}; {elapsed:.1f} s"
    )
    print("rate = any feature flagged (none) or the shifted feature flagged (shifts)")
    print(f"{'scenario':<30}{'rows':>8}{'rule':>8}{'p<.01':>8}{'old rule':>10}{'med psi':>9}")
    for r in results:
        print(f"{r['scenario']:<30}{r['rows']:>8,}{r['rule']:>8.1%}{r['per_feature']:>8.1%}"
              f"{r['old_rule']:>10.1%}"
              f"{r['median_psi']:>9.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"seeds": args.seeds, "results": results}, indent=2))


if __name__ == "__main__":
    main()
