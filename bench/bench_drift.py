"""Benchmark: false-alarm and detection rates of the platform's feature drift check.

For each seed, draws a 50k-row training reference of 8 churn-like features (normal, log-normal,
Poisson, zero-inflated spend, exponential recency, a 0-1 share, a 3-level channel, an 8-level
category), profiles it with `reference_profile`, then checks serving batches of 100, 1k, 10k and
100k rows with `drift_report` (PSI >= 0.2 and test p < 0.01):

* none: a fresh sample of the same distribution; rate = batches with ANY feature flagged.
* small / medium numeric: `age` mean shifted by 0.2 / 0.5 sd (population PSI ~0.04 / ~0.25).
* small / medium categorical: `channel` web share 60% -> 50% / 35% (PSI ~0.04 / ~0.26).
  Rate = batches where the shifted feature is flagged.

Columns compare the platform rule with PSI alone and the test alone, from the same reports.

    uv run python bench/bench_drift.py               # 200 seeds, the figures in README (~6 min)
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

REFERENCE_ROWS = 50_000
BATCH_ROWS = (100, 1_000, 10_000, 100_000)
CHANNELS = ["web", "app", "store"]
SCENARIOS = {  # name -> (feature, numeric mean shift in sd, web share of channel)
    "none": (None, 0.0, 0.6),
    "numeric small (0.2 sd)": ("age", 0.2, 0.6),
    "numeric medium (0.5 sd)": ("age", 0.5, 0.6),
    "categorical small (60->50%)": ("channel", 0.0, 0.5),
    "categorical medium (60->35%)": ("channel", 0.0, 0.35),
}


def shop(rows: int, rng: np.random.Generator, age_shift_sd: float, web: float) -> pd.DataFrame:
    """Churn-like features; `age_shift_sd` and `web` move one numeric and one categorical."""
    spend = rng.lognormal(4.0, 1.0, rows) * (rng.random(rows) < 0.7)  # 30% spent nothing
    return pd.DataFrame({
        "age": rng.normal(40 + 12 * age_shift_sd, 12, rows),
        "avg_order_value": rng.lognormal(3.5, 0.8, rows),
        "orders_90d": rng.poisson(2.5, rows),
        "revenue_365d": spend,
        "recency_days": rng.exponential(45, rows),
        "promotion_order_share": rng.beta(2, 5, rows),
        "channel": rng.choice(CHANNELS, rows, p=[web, (1 - web) / 2, (1 - web) / 2]),
        "top_category": rng.choice(8, rows, p=np.arange(8, 0, -1) / 36).astype(str),
    })  # fmt: skip


def flags(report: DriftReport, feature: str | None) -> tuple[bool, bool, bool, float]:
    """(platform rule, PSI alone, test alone) for the feature (any feature when None), its PSI."""
    rows = [report.features[feature]] if feature else list(report.features.values())
    return (
        any(r.drifted for r in rows),
        any(r.psi >= report.psi_threshold for r in rows),
        any(r.p_value < report.ks_pvalue for r in rows),
        max(r.psi for r in rows),
    )


def run(seeds: int) -> list[dict]:
    """Rates per scenario and batch size over `seeds` references."""
    tallies: dict[tuple[str, int], list[tuple[bool, bool, bool, float]]] = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        profile = reference_profile(shop(REFERENCE_ROWS, rng, 0.0, 0.6), list(shop(1, rng, 0, 0.6)))
        for rows in BATCH_ROWS:
            for name, (feature, shift, web) in SCENARIOS.items():
                report = drift_report(profile, shop(rows, rng, shift, web))
                tallies.setdefault((name, rows), []).append(flags(report, feature))
    results = []
    for (name, rows), runs in tallies.items():
        rule, psi_only, test_only, psis = zip(*runs, strict=True)
        results.append({"scenario": name, "rows": rows, "runs": len(runs),
                        "rule": float(np.mean(rule)), "psi_only": float(np.mean(psi_only)),
                        "test_only": float(np.mean(test_only)),
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
    print(f"{args.seeds} seeds x {len(BATCH_ROWS)} batch sizes, reference {REFERENCE_ROWS:,} rows, "
          f"8 features; {elapsed:.1f} s")  # fmt: skip
    print("rate = any feature flagged (none) or the shifted feature flagged (shifts)")
    print(f"{'scenario':<29}{'rows':>8}{'rule':>8}{'psi>=.2':>9}{'p<.01':>8}{'med psi':>9}")
    for r in results:
        print(f"{r['scenario']:<29}{r['rows']:>8,}{r['rule']:>8.1%}{r['psi_only']:>9.1%}"
              f"{r['test_only']:>8.1%}{r['median_psi']:>9.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"seeds": args.seeds, "results": results}, indent=2))


if __name__ == "__main__":
    main()
