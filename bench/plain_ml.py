"""The plain contender of the benchmarks: one Python process, no mesh, the same work on the data.

Two modes, both printing one JSON document (seconds per stage, rows, metrics) on stdout:

* ``--manifests DIR`` (bench_mesh_up.py: the whole mesh): in a MESH_HOME holding only the
  landing zone, every domain's ingestion, compiled SQL, data tests and ports in ONE DuckDB
  connection (raw_baseline.run_baseline over ``DIR/<domain>/manifest.json``, the manifests the
  measured `mesh up` compiled), then every declared model of every domain as below, its
  predictions written to ``--out/<domain>/<port>.parquet``. ``--no-models`` stops after the SQL.
* ``--manifest M`` (bench_ml.py: personalization only): given a MESH_HOME whose upstream ports
  are published, every personalization model's compiled SQL in dependency order in ONE DuckDB
  process, into a scratch database file ATTACHed as ``personalization``; the dbt output port
  COPYed to Parquet; then its models.

Per declared model: read the training table once (same columns, time split, whole-unit sampling
cap, ranker groups without a relevant item dropped for training), tune with Optuna (the
platform's search space, LightGBM params and fixed ``model.params``, same sampler seed, trials,
timeout and early stop, validated on the last training date), fit with the best params, evaluate
beside the naive baseline on the evaluation date, score the scoring table (or the training
table's latest as-of date) and write the predictions (a ranker's top_k) as Parquet.

    uv run python bench/plain_ml.py --home /tmp/raw --manifests /tmp/compiled --out /tmp/out
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
from mesh_platform.ml.tune import _stop_before_overrun, search_space
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import raw_baseline  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DOMAIN = "personalization"  # the --manifest mode's one domain


def q(name: str) -> str:
    return '"' + name + '"'


def model_products(domain: str) -> list[str]:
    """The domain's ML products: descriptors with a ``model:`` block, by name."""
    found = []
    for path in sorted((REPO / "domains" / domain / "products").glob("*.yaml")):
        if "model" in (yaml.safe_load(path.read_text()) or {}):
            found.append(path.stem)
    return found


def model_spec(domain: str, product: str) -> dict:
    """The ``model:`` block of a product descriptor, with the defaults the mesh applies.

    Adds ``port``: the predictions port the product publishes.
    """
    from mesh_platform.descriptors.models import ModelSpec  # parsing only: defaults, no mesh

    raw = yaml.safe_load((REPO / "domains" / domain / "products" / f"{product}.yaml").read_text())
    port = next(p["name"] for p in raw["output_ports"] if p.get("producer") == "ml")
    return ModelSpec.model_validate(raw["model"]).model_dump() | {"port": port}


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


def read_training(con, domain: str, spec: dict) -> dict:
    """The training rows as numpy arrays sorted by as-of date, and the split."""
    rel = f'"{domain}"."main".{q(spec["training_table"])}'
    score_rel = f'"{domain}"."main".{q(spec["scoring_table"] or spec["training_table"])}'
    skip = {spec["as_of"], *spec["entity"], spec["label"]}
    columns = [c for (c, *_) in con.execute(f"DESCRIBE {rel}").fetchall()]
    features = spec["features"] or [c for c in columns if c not in skip]
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


def primary(spec: dict) -> tuple[str, bool]:
    """The primary metric and whether higher is better (its gate says so: "<" means lower)."""
    name = spec["primary_metric"]
    return name, not str(spec["gates"][name]).lstrip().startswith("<")


def metric(spec: dict, rows: dict, score: np.ndarray) -> float:
    """The primary metric: ROC AUC, NDCG@k, MAE or RMSE (the demo's models' primaries)."""
    name = primary(spec)[0]
    if name == "roc_auc":
        return float(roc_auc_score(rows["y"], score))
    if name.startswith("ndcg@"):
        return ndcg(rows["query"], rows["y"], score, int(name.split("@")[1]))
    if name == "mae":
        return float(np.abs(score - rows["y"]).mean())
    if name == "rmse":
        return float(np.sqrt(((score - rows["y"]) ** 2).mean()))
    raise ValueError(f"plain_ml.py: primary metric {name} is not computed here")


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
        return dict(spec["params"]), 0
    fit_rows = rows_between(data, fit_dates[0], fit_dates[-1])
    valid = rows_between(data, valid_date, valid_date)

    fixed = spec["params"]  # what the model fixes is not searched

    def objective(trial: optuna.Trial) -> float:
        booster = fit(spec, fit_rows, data["features"], {**search_space(trial), **fixed})
        return metric(spec, valid, np.asarray(booster.predict(valid["x"], num_threads=1)))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec["seed"])
    direction = "maximize" if primary(spec)[1] else "minimize"
    study = optuna.create_study(direction=direction, sampler=sampler)
    timeout = spec["tuning"]["timeout_s"]
    # The platform's own early stop: no trial started that would overrun the time budget.
    stop = [] if timeout is None else [_stop_before_overrun(time.perf_counter(), timeout)]
    study.optimize(objective, n_trials=spec["tuning"]["trials"], timeout=timeout, callbacks=stop)
    return {**study.best_params, **fixed}, len(study.trials)


def evaluate(spec: dict, booster: lgb.Booster, rows: dict, train: dict) -> dict:
    """The primary metric of the model and of the naive baseline on the evaluation rows."""
    model = metric(spec, rows, np.asarray(booster.predict(rows["x"], num_threads=1)))
    if rows["baseline"] is not None:
        baseline = metric(spec, rows, rows["baseline"])
    elif spec["kind"] == "regressor":  # the training mean, as the platform's naive regressor
        baseline = metric(spec, rows, np.full(len(rows["y"]), float(train["y"].mean())))
    else:  # the majority class: a constant score, ROC AUC 0.5
        baseline = 0.5
    return {"metric": primary(spec)[0], "model": model, "baseline": baseline}


def score(con, domain: str, spec: dict, booster, features: list[str], target: Path) -> int:
    """Predict the rows scored now; write them (a ranker's top_k per group) as Parquet.

    The scoring table's rows, or without one the training table's latest as-of date.
    """
    rel = f'"{domain}"."main".{q(spec["scoring_table"] or spec["training_table"])}'
    keys = [*spec["entity"], spec["as_of"]]
    casts = ", ".join(f"{q(f)}::DOUBLE AS {q(f)}" for f in features)
    where = (
        ""
        if spec["scoring_table"]
        else f"WHERE {q(spec['as_of'])} = (SELECT max({q(spec['as_of'])}) FROM {rel})"
    )
    query = f"SELECT {', '.join(map(q, keys))}, {casts} FROM {rel} {where}"
    table = con.sql(query).to_arrow_table()
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


def train_model(con, domain: str, product: str, out: Path) -> dict:
    """Read, tune, fit, evaluate and score one declared model; seconds per stage."""
    spec, times = model_spec(domain, product), {}
    t = time.perf_counter()
    data = read_training(con, domain, spec)
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    best, trials = tune(spec, data)
    times["tune"] = time.perf_counter() - t
    t = time.perf_counter()
    train = rows_between(data, data["train"][0], data["train"][-1])
    booster = fit(spec, train, data["features"], best)
    times["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    result = evaluate(spec, booster, rows_between(data, data["evaluate"], data["evaluate"]), train)
    times["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    target = out / f"{spec['port']}.parquet"
    scored = score(con, domain, spec, booster, data["features"], target)
    times["score"] = time.perf_counter() - t
    return {
        **result,
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "trials": trials,
        "rows": {"source": data["source_rows"], "train": len(train["y"]), "scored": scored},
        "evaluation_window": str(data["evaluate"]),
        "port": f"{domain}/{spec['port']}",
    }


def pinned_views(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """The port views of personalization's last mesh run (its pinned snapshots), in memory.

    The compiled SQL reads input ports as ``mesh_ports."<domain>__<product>_v<major>"``.
    """
    con.execute(f"ATTACH '{home / 'warehouse' / DOMAIN}.duckdb' AS pinned (READ_ONLY)")
    views = con.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = 'pinned' AND schema_name = ?",
        [raw_baseline.PORTS_SCHEMA],
    ).fetchall()
    con.execute("DETACH pinned")
    for (sql,) in views:
        con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))


def run(home: Path, manifest: Path, out: Path) -> dict:
    """Personalization only (bench_ml.py): its SQL, then each model; wall seconds of each part."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{DOMAIN}.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{home}'")
    con.execute(f"SET memory_limit = '{os.environ.get('MESH_DUCKDB_MEMORY_LIMIT', '4GB')}'")
    con.execute(f"CREATE SCHEMA {raw_baseline.PORTS_SCHEMA}")
    pinned_views(con, home)
    con.execute(f"ATTACH '{db}' AS \"{DOMAIN}\"")
    result: dict = {"sql": build_sql(con, home, manifest, out), "models": {}}
    for product in model_products(DOMAIN):
        result["models"][product] = train_model(con, DOMAIN, product, out)
    con.close()
    result["seconds"] = time.perf_counter() - started
    return result


def run_mesh(home: Path, manifests: Path, out: Path, models: bool = True) -> dict:
    """The whole mesh without the mesh: raw_baseline's SQL, then every domain's models.

    Args:
        home: a MESH_HOME holding the landing zone (its lake and warehouse are rebuilt).
        manifests: ``<manifests>/<domain>/manifest.json`` for every domain.
        out: where the predictions go (``<out>/<domain>/<port>.parquet``).
        models: train and score the declared models after the SQL.

    Returns:
        ``{"sql": raw_baseline.run_baseline's result, "models": {"d/product": stages},
        "seconds": wall seconds of the whole (tests included), "ports": {"d/port": rows}}``.
    """
    order = raw_baseline.DOMAIN_ORDER
    compiled = raw_baseline.load_domains(REPO, {d: manifests / d / "manifest.json" for d in order})
    started = time.perf_counter()
    raw_baseline.reset_home(home)
    con = raw_baseline.connect_all(home, order)
    con.execute(f"SET memory_limit = '{os.environ.get('MESH_DUCKDB_MEMORY_LIMIT', '4GB')}'")
    result: dict = {"models": {}}
    try:
        result["sql"] = raw_baseline.run_baseline(home, compiled, order, run_tests=True, con=con)
        for domain in order if models else []:
            (out / domain).mkdir(parents=True, exist_ok=True)
            for product in model_products(domain):
                trained = train_model(con, domain, product, out / domain)
                result["models"][f"{domain}/{product}"] = trained
    finally:
        con.close()
    result["seconds"] = time.perf_counter() - started
    result["ports"] = {
        **result["sql"]["ports"],
        **{m["port"]: m["rows"]["scored"] for m in result["models"].values()},
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="MESH_HOME of the plain run")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--manifests", type=Path, help="<dir>/<domain>/manifest.json: whole mesh")
    mode.add_argument("--manifest", type=Path, help="personalization's manifest.json only")
    parser.add_argument("--out", type=Path, required=True, help="scratch folder for the outputs")
    parser.add_argument("--no-models", action="store_true", help="whole mesh: SQL only")
    args = parser.parse_args()
    if args.manifests:
        print(json.dumps(run_mesh(args.home, args.manifests, args.out, not args.no_models)))
    else:
        print(json.dumps(run(args.home, args.manifest, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
