"""Benchmark: the platform's ML training and tuning beside plain LightGBM on the same features.

For each scale, generates the demo shop under /tmp/bench_ml (reused across runs, removed unless
--keep), builds the churn and ranker training sets once (timed separately), then times:

* train: `train_classifier` / `train_ranker` vs. `lgb.train` called directly with the same
  parameters on the same rows (median of --repeat fits each, interleaved);
* tune: `tune(..., trials=N)` vs. a plain Optuna loop over `lgb.train` with the same sampler,
  seed, search space, trial count and validation split;
* scoring: `score_churn` / `top_k` vs. `booster.predict` on a NumPy matrix, in rows per second.

Every fit runs on one thread (the platform default). Writes bench/results/ml.json.

    uv run python bench/bench_ml.py                        # scales 1 and 10, 5 trials
    uv run python bench/bench_ml.py --scales 0.3 --trials 3  # quick run
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import optuna
from mesh_demo.generate import generate
from mesh_platform.ml import features as F
from mesh_platform.ml.train import (
    CLASSIFIER_PARAMS,
    RANKER_PARAMS,
    lgb_params,
    score_churn,
    top_k,
    train_classifier,
    train_ranker,
)
from mesh_platform.ml.tune import search_space, tune, validation_split
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench/results/ml.json"
WORK = Path("/tmp/bench_ml")
HORIZON = {"classifier": 90, "ranker": 30}
RANKER_SNAPSHOTS = 3  # training months of the ranker (its candidate sets are ~70 rows a customer)
SEED = 1
# Monthly snapshots over the generator's fixed window (Nov 2024 - Oct 2026).
AS_OF_DATES = [date(2025, m, 1) for m in range(5, 13)] + [date(2026, m, 1) for m in range(1, 11)]


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def build(scale: float):
    landing = WORK / f"scale_{scale:g}"
    gen_s = 0.0
    if not (landing / "catalog/promotions.parquet").exists():
        gen_s, _ = timed(lambda: generate(landing, scale=scale, seed=42))
    con = duckdb.connect()
    src = F.landing_sources(con, landing)
    end = F.data_end(con, src)
    dates = AS_OF_DATES
    cs = F.time_split(dates, HORIZON["classifier"], end)
    churn_s, churn = timed(lambda: F.churn_dataset(con, src, [*cs.train, cs.evaluate]))
    rs = F.time_split(dates, HORIZON["ranker"], end)
    rs = F.TimeSplit(rs.train[-RANKER_SNAPSHOTS:], rs.evaluate)
    rank_s, rank = timed(lambda: F.ranker_dataset(con, src, [*rs.train, rs.evaluate], 30, 20))
    data = {
        "classifier": (F.rows_at(churn, cs.train), F.rows_at(churn, cs.evaluate)),
        "ranker": (F.rows_at(rank, rs.train), F.rows_at(rank, rs.evaluate)),
    }
    sizes = {"churn_rows": len(churn), "ranker_rows": len(rank)}
    return data, {"generate_s": gen_s, "churn_features_s": churn_s, "ranker_features_s": rank_s,
                  **sizes}  # fmt: skip


def matrix(df, feats: list[str]) -> np.ndarray:
    return df[feats].to_numpy(dtype=np.float64, na_value=np.nan)


def plain_dataset(task: str, df, feats: list[str], reference=None) -> lgb.Dataset:
    """What a hand-written script does: filter empty query groups, count group sizes."""
    if task == "classifier":
        return lgb.Dataset(matrix(df, feats), df["churned"].to_numpy(), reference=reference)
    keep = df.groupby("group_id")["relevance"].transform("max").to_numpy() > 0
    df = df[keep]
    _, sizes = np.unique(df["group_id"].to_numpy(), return_counts=True)
    x, y = matrix(df, feats), df["relevance"].to_numpy()
    return lgb.Dataset(x, y, group=sizes, reference=reference)


def plain_train(task: str, df, feats: list[str], params: dict) -> lgb.Booster:
    p, rounds = lgb_params(params, SEED, 1)
    return lgb.train(p, plain_dataset(task, df, feats), num_boost_round=rounds)


def plain_tune(task: str, train_df, feats: list[str], trials: int) -> float:
    fit_df, valid_df = validation_split(train_df, HORIZON[task])
    base = CLASSIFIER_PARAMS if task == "classifier" else RANKER_PARAMS

    def objective(trial: optuna.Trial) -> float:
        p, rounds = lgb_params({**base, **search_space(trial)}, SEED, 1)
        train_set = plain_dataset(task, fit_df, feats)
        booster = lgb.train(p, train_set, num_boost_round=rounds, keep_training_booster=True)
        if task == "classifier":
            proba = booster.predict(matrix(valid_df, feats), num_threads=1)
            return float(roc_auc_score(valid_df["churned"], np.asarray(proba)))
        # LightGBM's own NDCG@10 (metric "ndcg", eval_at [10]) on the validation groups.
        valid = plain_dataset(task, valid_df, feats, reference=train_set)
        return float(booster.eval(valid, "valid")[0][2])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    study.optimize(objective, n_trials=trials)
    return study.best_value


def bench_task(task: str, train_df, eval_df, trials: int, repeat: int) -> dict:
    feats = F.CHURN_FEATURES if task == "classifier" else F.RANKER_FEATURES
    train_fn = train_classifier if task == "classifier" else train_ranker
    params = CLASSIFIER_PARAMS if task == "classifier" else RANKER_PARAMS
    fw, plain = [], []
    for _ in range(repeat):  # interleaved, so load changes hit both alike
        fw.append(timed(lambda: train_fn(train_df, feats, seed=SEED))[0])
        plain.append(timed(lambda: plain_train(task, train_df, feats, params))[0])
    fw_tune, _ = timed(lambda: tune(task, train_df, feats, HORIZON[task], SEED, trials))
    plain_tune_s, _ = timed(lambda: plain_tune(task, train_df, feats, trials))
    model = train_fn(train_df, feats, seed=SEED)
    rows = eval_df if task == "ranker" else train_df
    score = (lambda: top_k(model.booster, rows)) if task == "ranker" else (
        lambda: score_churn(model.booster, rows))  # fmt: skip
    score_s, _ = timed(score)
    # The plain path gets its matrix ready-made: it measures LightGBM's own predict speed.
    x = matrix(rows, feats)
    raw_s, _ = timed(lambda: model.booster.predict(x, num_threads=1))
    return {
        "train_rows": len(train_df),
        "train_s": statistics.median(fw),
        "plain_train_s": statistics.median(plain),
        "tune_s": fw_tune,
        "plain_tune_s": plain_tune_s,
        "score_rows": len(rows),
        "score_rows_per_s": len(rows) / score_s,
        "plain_score_rows_per_s": len(rows) / raw_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated generator scales")
    ap.add_argument("--trials", type=int, default=5, help="Optuna trials per tuning run")
    ap.add_argument("--repeat", type=int, default=3, help="fits per training timing")
    ap.add_argument("--keep", action="store_true", help="keep the generated data in /tmp")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report = {}
    try:
        for scale in (float(s) for s in args.scales.split(",")):
            data, prep = build(scale)
            tasks = {t: bench_task(t, *data[t], args.trials, args.repeat) for t in data}
            report[f"{scale:g}"] = {"prep": prep, **tasks}
            print_scale(scale, prep, tasks, args.trials)
    finally:
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


def print_scale(scale: float, prep: dict, tasks: dict, trials: int) -> None:
    print(
        f"scale {scale:g}: features churn {prep['churn_rows']:,} rows in "
        f"{prep['churn_features_s']:.1f} s, ranker {prep['ranker_rows']:,} rows in "
        f"{prep['ranker_features_s']:.1f} s"
    )
    print(f"{'task':<11}{'step':<16}{'platform s':>11}{'plain s':>9}{'ratio':>7}")
    for task, r in tasks.items():
        for step, a, b in (
            (f"train ({r['train_rows']:,})", r["train_s"], r["plain_train_s"]),
            (f"tune ({trials} trials)", r["tune_s"], r["plain_tune_s"]),
        ):
            print(f"{task:<11}{step:<16}{a:>11.2f}{b:>9.2f}{a / b:>7.2f}")
        print(
            f"{task:<11}{'score rows/s':<16}{r['score_rows_per_s']:>11,.0f}"
            f"{r['plain_score_rows_per_s']:>9,.0f}"
            f"{r['plain_score_rows_per_s'] / r['score_rows_per_s']:>7.2f}"
            f"  ({r['score_rows']:,} rows)"
        )


if __name__ == "__main__":
    main()
