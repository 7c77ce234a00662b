"""The plain contender of bench_ml.py: one Python process, no mesh, the same work on the same data.

Given a MESH_HOME whose upstream ports are published and the personalization dbt manifest that
`mesh up -d personalization` compiled, it:

1. runs every personalization model's compiled SQL (dbt's ``compiled_code``, never re-typed) in
   dependency order in ONE DuckDB process, into a scratch database file ATTACHed as
   ``personalization`` (the compiled relation names resolve as under dbt), over the mesh's port
   files (``file_search_path`` = MESH_HOME), memory_limit as the dbt profile's; COPYs the dbt
   output port (customer_features) to Parquet;
2. per declared model (churn_model, recommender): reads the training table once (same columns,
   time split, whole-unit sampling cap, ranker groups without a relevant item dropped for
   training), tunes with Optuna (the platform's search space and LightGBM params, same sampler
   seed, trials and timeout, validated on the last training date), fits with the best params,
   evaluates beside the naive baseline on the evaluation date, scores the scoring table and
   writes the predictions (a ranker's top_k) as Parquet.

Prints one JSON document (seconds per stage, rows, metrics) on stdout.

    uv run python bench/plain_ml.py --home /tmp/h --manifest M --out /tmp/out
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import optuna
import yaml

# The same algorithm, not the mesh: LightGBM defaults per kind, reproducibility pins, search space.
from mesh_platform.ml.train import PARAMS, lgb_params
from mesh_platform.ml.tune import search_space
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import raw_baseline  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DOMAIN = "personalization"
MODELS = ("churn_model", "recommender")


def q(name: str) -> str:
    return '"' + name + '"'


def model_spec(product: str) -> dict:
    """The ``model:`` block of a product descriptor, with the defaults the mesh applies."""
    from mesh_platform.descriptors.models import ModelSpec  # parsing only: defaults, no mesh

    raw = yaml.safe_load((REPO / "domains" / DOMAIN / "products" / f"{product}.yaml").read_text())
    return ModelSpec.model_validate(raw["model"]).model_dump()


def build_sql(con: duckdb.DuckDBPyConnection, home: Path, manifest: Path, out: Path) -> dict:
    """Every personalization model as dbt materialises it, then the dbt output port."""
    sql = raw_baseline._load_compiled(DOMAIN, manifest, REPO, REPO / "domains" / DOMAIN)
    started = time.perf_counter()
    for m in sql.models:
        con.execute(
            f"CREATE OR REPLACE {m.materialized.upper()} {m.relation} AS (\n{m.sql}\n)"
        ).fetchall()
    relations = {m.name: m.relation for m in sql.models}
    for port in sql.ports:
        target = out / f"{port.product}.parquet"
        con.execute(
            f"COPY (SELECT * FROM {relations[port.model]}) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()
    return {"seconds": time.perf_counter() - started, "models": len(sql.models)}


def split_dates(con, spec: dict, rel: str, score_rel: str) -> tuple[list[date], date]:
    """Evaluate on the last as-of date whose horizon closes by the data end, train before it."""
    as_of, h = q(spec["as_of"]), timedelta(days=spec["horizon_days"])
    ((end,),) = con.execute(f"SELECT max({as_of})::DATE FROM {score_rel}").fetchall()
    dates = con.execute(
        f"SELECT DISTINCT {as_of}::DATE FROM {rel} WHERE {q(spec['label'])} IS NOT NULL"
    ).fetchall()
    fits = sorted(d for (d,) in dates if d + h <= end)
    evaluate = fits[-1]
    return [d for d in fits if d + h <= evaluate], evaluate


def training_sql(spec: dict, rel: str, features: list[str], train: list[date], ev: date) -> str:
    """Rows of the split's dates, whole units sampled by a seeded hash up to the row cap."""
    ranker = spec["kind"] == "ranker"
    unit = ", ".join(q(c) for c in (spec["group"] if ranker else spec["entity"]))
    entity = ", ".join(q(c) for c in spec["entity"])
    dates = ", ".join(f"DATE '{d}'" for d in [*train, ev])
    base = f", {q(spec['baseline'])}::DOUBLE AS __baseline" if spec["baseline"] else ""
    label = f"{q(spec['label'])}::{'INTEGER' if ranker else 'DOUBLE'} AS __label"
    keep = f"QUALIFY __as_of = DATE '{ev}' OR max(__label) OVER (PARTITION BY __as_of, {unit}) > 0"
    return f"""
      WITH base AS (
        SELECT {q(spec["as_of"])}::DATE AS __as_of, {entity}, {label}{base},
               {", ".join(f"{q(f)}::DOUBLE AS {q(f)}" for f in features)}
        FROM {rel} WHERE {q(spec["as_of"])}::DATE IN ({dates}) AND {q(spec["label"])} IS NOT NULL
      ), kept AS (SELECT * FROM base {keep if ranker else ""}),
      units AS (SELECT {unit}, count(*) AS n, hash({spec["seed"]}, {unit}) AS h
                FROM kept GROUP BY ALL),
      chosen AS (SELECT {unit} FROM units QUALIFY sum(n) OVER
                 (ORDER BY h, {unit} ROWS UNBOUNDED PRECEDING) <= {spec["max_training_rows"]})
      SELECT {f"dense_rank() OVER (ORDER BY __as_of, {unit})" if ranker else "0"} AS __query,
             __as_of, __label{", __baseline" if base else ""}, {", ".join(map(q, features))}
      FROM kept SEMI JOIN chosen USING ({unit}) ORDER BY __as_of, {unit}, {entity}
    """


def to_matrix(table, features: list[str]) -> np.ndarray:
    """Feature columns as one column-major float64 matrix (what LightGBM reads without a copy)."""
    x = np.empty((table.num_rows, len(features)), dtype=np.float64, order="F")
    for j, name in enumerate(features):
        x[:, j] = table.column(name).to_numpy(zero_copy_only=False)
    return x


def read_training(con, spec: dict) -> dict:
    """The training rows as numpy arrays sorted by as-of date, and the split."""
    rel = f'"{DOMAIN}"."main".{q(spec["training_table"])}'
    score_rel = f'"{DOMAIN}"."main".{q(spec["scoring_table"] or spec["training_table"])}'
    skip = {spec["as_of"], *spec["entity"], spec["label"]}
    features = [c for (c, *_) in con.execute(f"DESCRIBE {rel}").fetchall() if c not in skip]
    train, ev = split_dates(con, spec, rel, score_rel)
    table = con.sql(training_sql(spec, rel, features, train, ev)).to_arrow_table()
    base = table.column("__baseline").to_numpy(zero_copy_only=False) if spec["baseline"] else None
    return {
        "x": to_matrix(table, features),
        "y": table.column("__label").to_numpy(zero_copy_only=False).astype(np.float64),
        "as_of": table.column("__as_of").to_numpy(zero_copy_only=False).astype("datetime64[D]"),
        "query": table.column("__query").to_numpy(),
        "baseline": base,
        "features": features,
        "train": train,
        "evaluate": ev,
        "source_rows": con.execute(f"SELECT count(*) FROM {rel}").fetchall()[0][0],
    }


def rows_between(data: dict, first: date, last: date) -> dict:
    """The rows whose as-of date is in [first, last] (a slice: no copy)."""
    lo = int(np.searchsorted(data["as_of"], np.datetime64(first), side="left"))
    hi = int(np.searchsorted(data["as_of"], np.datetime64(last), side="right"))
    keys = ("x", "y", "query", "baseline")
    return {k: None if data[k] is None else data[k][lo:hi] for k in keys}


def ndcg(query: np.ndarray, y: np.ndarray, score: np.ndarray, k: int) -> float:
    """Mean NDCG@k (gain 2^rel - 1) over queries with a relevant item; ties keep row order."""

    def dcg(by: np.ndarray) -> np.ndarray:
        order = np.lexsort((np.arange(len(by)), -by, query))
        qs, gain = query[order], 2.0 ** y[order] - 1
        starts = np.flatnonzero(np.r_[True, qs[1:] != qs[:-1]])
        pos = np.arange(len(qs)) - np.repeat(starts, np.diff(np.r_[starts, len(qs)]))
        return np.add.reduceat(np.where(pos < k, gain / np.log2(pos + 2), 0.0), starts)

    ideal = dcg(y)
    relevant = ideal > 0
    return float((dcg(score)[relevant] / ideal[relevant]).mean())


def metric(spec: dict, rows: dict, score: np.ndarray) -> float:
    """The primary metric: ROC AUC for the classifier, NDCG@top_k for the ranker."""
    if spec["kind"] == "classifier":
        return float(roc_auc_score(rows["y"], score))
    return ndcg(rows["query"], rows["y"], score, spec["top_k"])


def fit(spec: dict, rows: dict, features: list[str], params: dict) -> lgb.Booster:
    """One single-threaded, seeded LightGBM fit over the kind's default parameters."""
    merged, rounds = lgb_params({**PARAMS[spec["kind"]], **params}, spec["seed"], 1)
    group = None
    if spec["kind"] == "ranker":
        qs = rows["query"]
        starts = np.flatnonzero(np.r_[True, qs[1:] != qs[:-1]])
        group = np.diff(np.r_[starts, len(qs)])
    data = lgb.Dataset(rows["x"], rows["y"], group=group, feature_name=features)
    return lgb.train(merged, data, num_boost_round=rounds)


def tune(spec: dict, data: dict) -> tuple[dict, int]:
    """Optuna TPE over the platform's search space, validated on the last training date."""
    h = timedelta(days=spec["horizon_days"])
    valid_date = data["train"][-1]
    fit_dates = [d for d in data["train"] if d + h <= valid_date]
    if not fit_dates:
        return {}, 0
    fit_rows = rows_between(data, fit_dates[0], fit_dates[-1])
    valid = rows_between(data, valid_date, valid_date)

    def objective(trial: optuna.Trial) -> float:
        booster = fit(spec, fit_rows, data["features"], search_space(trial))
        return metric(spec, valid, booster.predict(valid["x"], num_threads=1))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec["seed"])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(
        objective, n_trials=spec["tuning"]["trials"], timeout=spec["tuning"]["timeout_s"]
    )
    return study.best_params, len(study.trials)


def evaluate(spec: dict, booster: lgb.Booster, rows: dict) -> dict:
    """The primary metric of the model and of the naive baseline on the evaluation rows."""
    name = "roc_auc" if spec["kind"] == "classifier" else f"ndcg@{spec['top_k']}"
    model = metric(spec, rows, booster.predict(rows["x"], num_threads=1))
    # Without a baseline column: the majority class, a constant score (ROC AUC 0.5).
    baseline = 0.5 if rows["baseline"] is None else metric(spec, rows, rows["baseline"])
    return {"metric": name, "model": model, "baseline": baseline}


def score(con, spec: dict, booster: lgb.Booster, features: list[str], target: Path) -> int:
    """Predict the scoring table's rows; write them (a ranker's top_k per group) as Parquet."""
    rel = f'"{DOMAIN}"."main".{q(spec["scoring_table"] or spec["training_table"])}'
    keys = [*spec["entity"], spec["as_of"]]
    casts = ", ".join(f"{q(f)}::DOUBLE AS {q(f)}" for f in features)
    table = con.sql(f"SELECT {', '.join(map(q, keys))}, {casts} FROM {rel}").to_arrow_table()
    pred = booster.predict(to_matrix(table, features), num_threads=1)
    scored = table.select(keys).append_column("prediction", [pred])  # noqa: F841 - read by SQL
    top = ""
    if spec["kind"] == "ranker":
        group = ", ".join(q(c) for c in [spec["as_of"], *spec["group"]])
        items = ", ".join(q(c) for c in spec["entity"] if c not in spec["group"])
        top = (
            f", row_number() OVER (PARTITION BY {group} ORDER BY prediction DESC, {items}) AS rank"
            f" FROM scored QUALIFY rank <= {spec['top_k']}"
        )
    query = f"SELECT *{top or ' FROM scored'}"
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
    return pq_rows(target)


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def train_model(con, product: str, out: Path) -> dict:
    """Read, tune, fit, evaluate and score one declared model; seconds per stage."""
    spec, times = model_spec(product), {}
    t = time.perf_counter()
    data = read_training(con, spec)
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    best, trials = tune(spec, data)
    times["tune"] = time.perf_counter() - t
    t = time.perf_counter()
    train = rows_between(data, data["train"][0], data["train"][-1])
    booster = fit(spec, train, data["features"], best)
    times["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    result = evaluate(spec, booster, rows_between(data, data["evaluate"], data["evaluate"]))
    times["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    scored = score(con, spec, booster, data["features"], out / f"{product}.parquet")
    times["score"] = time.perf_counter() - t
    return {
        **result,
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "trials": trials,
        "rows": {"source": data["source_rows"], "train": len(train["y"]), "scored": scored},
        "evaluation_window": str(data["evaluate"]),
    }


def run(home: Path, manifest: Path, out: Path) -> dict:
    """The whole plain run: SQL, then each model; wall seconds of each part."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{DOMAIN}.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{home}'")
    con.execute(f"SET memory_limit = '{os.environ.get('MESH_DUCKDB_MEMORY_LIMIT', '4GB')}'")
    con.execute(f"ATTACH '{db}' AS \"{DOMAIN}\"")
    result = {"sql": build_sql(con, home, manifest, out), "models": {}}
    for product in MODELS:
        result["models"][product] = train_model(con, product, out)
    con.close()
    result["seconds"] = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True, help="MESH_HOME with the ports")
    parser.add_argument("--manifest", type=Path, required=True, help="compiled dbt manifest.json")
    parser.add_argument("--out", type=Path, required=True, help="scratch folder for the outputs")
    args = parser.parse_args()
    print(json.dumps(run(args.home, args.manifest, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
