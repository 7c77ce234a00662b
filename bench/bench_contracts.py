"""Benchmark: the platform's contract validator on a 10M-row order_lines port.

Synthesises an order_lines-like Parquet file meeting contracts/sales/order_lines.odcs.yaml with
DuckDB under /tmp (reused across runs, removed unless --keep), then times in one run, interleaved,
median of --repeat runs each, every contender checking the same rules of the same contract:

* sql: one-scan DuckDB SQL of every row and key rule (`violation_counts_sql`) plus the contract's
  `type: sql` queries: the baseline.
* validator (pandera): `validate_snapshot(engine="pandera")`, the platform default.
* validator (sql): `validate_snapshot(engine="sql")`.
* pandera polars, full: load + the contract's Pandera polars schema with the primary key.
* pandas route: `pd.read_parquet` + a Pandera pandas schema of the same rules.

Target: the platform's validator within 1.5x of the one-scan SQL. Writes
bench/results/contracts.json.

    uv run python bench/bench_contracts.py                 # 10M rows, the figures in README
    uv run python bench/bench_contracts.py --rows 1000000  # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as ppd
import polars as pl
import yaml
from mesh_platform.contracts import pandera_schema, sql
from mesh_platform.contracts.rules import ContractRules, compile_rules
from mesh_platform.contracts.validate import validate_snapshot
from open_data_contract_standard.model import OpenDataContractStandard

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "contracts/sales/order_lines.odcs.yaml"
RESULTS = REPO / "bench/results/contracts.json"
TARGET = 1.5

GENERATE = """
COPY (SELECT
  (i // 3 + 1)::BIGINT AS order_id, (i % 3 + 1)::INTEGER AS line_number,
  (hash(i // 3) % 200000 + 1)::BIGINT AS customer_id, (hash(i) % 5000 + 1)::BIGINT AS product_id,
  TIMESTAMP '2024-01-01' + to_seconds((i // 3) % 31536000) AS ordered_at,
  (TIMESTAMP '2024-01-01' + to_seconds((i // 3) % 31536000))::DATE AS order_date,
  ['web', 'app', 'store'][(hash(i // 3) % 3)::INTEGER + 1] AS channel,
  ['completed', 'completed', 'returned', 'cancelled'][(hash(i + 7) % 4)::INTEGER + 1] AS status,
  (hash(i + 1) % 5 + 1)::INTEGER AS quantity,
  ((hash(i + 2) % 20000) / 100)::DECIMAL(10,2) AS unit_price,
  CASE WHEN i % 10 = 0 THEN 0.1 ELSE 0.0 END::DOUBLE AS discount_pct,
  CASE WHEN i % 10 = 0 THEN i % 50 + 1 END::BIGINT AS promotion_id,
  (quantity * unit_price)::DECIMAL(12,2) AS line_revenue
FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""


def synthesise(rows: int, folder: Path) -> Path:
    path = folder / f"order_lines_{rows}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with duckdb.connect() as con:
            con.execute(GENERATE.format(rows=rows, path=path))
        print(f"synthesised {rows:,} rows in {time.perf_counter() - start:.1f} s: {path}")
    return path


def one_scan_sql(rules: ContractRules, path: Path) -> int:
    """The baseline: every row and key rule in one scan, then the `type: sql` queries."""
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW candidate AS SELECT * FROM read_parquet('{path}')")
        rows, counts = sql.fetch_counts(con, sql.violation_counts_sql(rules, "candidate"))
        for rule in rules.of_level("set"):
            if rule.kind == "sql":
                counts[rule.id] = con.execute(sql.bind_query(rule, "candidate")).fetchone()[0]  # type: ignore[index]
    assert not any(counts.values()), counts
    return rows


def validator(engine: str):
    def run(rules: ContractRules, path: Path) -> int:
        report = validate_snapshot(rules, path, engine=engine)
        assert report.passed, report.summary()
        return report.rows

    return run


def pandera_polars_full(rules: ContractRules, path: Path) -> int:
    frame = pl.read_parquet(path)
    pandera_schema.to_pandera(rules).validate(frame, lazy=True)
    return frame.height


def pandas_schema(rules: ContractRules) -> ppd.DataFrameSchema:
    """The same column rules for Pandera pandas.

    Decimals and dates load as objects and strings as pandas 3 ``str``: those get no dtype.
    """
    dtypes = {"BIGINT": "int64", "INTEGER": "int32", "DOUBLE": "float64"}
    factory = {"ge": ppd.Check.ge, "le": ppd.Check.le, "gt": ppd.Check.gt, "lt": ppd.Check.lt}
    columns = {}
    for spec in rules.columns:
        own = [r for r in rules.rules if r.column == spec.name and r.row_level]
        checks = [factory[r.params["check"]](r.params["value"]) for r in own if "check" in r.params]
        checks += [ppd.Check.isin(r.params["values"]) for r in own if r.kind == "valid_values"]
        nullable = not any(r.kind == "not_null" for r in own)
        columns[spec.name] = ppd.Column(
            dtypes.get(spec.duckdb_type) if not nullable else None, checks, nullable=nullable
        )
    key = rules.key_rules[0].columns
    return ppd.DataFrameSchema(columns, strict=True, unique=list(key))


def pandas_route(rules: ContractRules, path: Path) -> int:
    frame = pd.read_parquet(path)
    pandas_schema(rules).validate(frame, lazy=True)
    return len(frame)


CONTENDERS = {
    "one-scan SQL (baseline)": one_scan_sql,
    "validator, engine=pandera (default)": validator("pandera"),
    "validator, engine=sql": validator("sql"),
    "pandera polars, full schema": pandera_polars_full,
    "pandas route (load + pandera pandas)": pandas_route,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas route")
    parser.add_argument("--keep", action="store_true", help="keep the synthesised Parquet")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench_contracts"))
    args = parser.parse_args()

    contract = OpenDataContractStandard.model_validate(yaml.safe_load(CONTRACT.read_text()))
    rules, path = compile_rules(contract), synthesise(args.rows, args.dir)
    contenders = {k: v for k, v in CONTENDERS.items() if not (args.skip_pandas and "pandas" in k)}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    load = os.getloadavg()[0]
    for _ in range(args.repeat):
        for name, run in contenders.items():
            start = time.perf_counter()
            assert run(rules, path) == args.rows, name
            times[name].append(time.perf_counter() - start)
    report(args, times, load)
    if not args.keep:
        path.unlink()


def report(args, times: dict[str, list[float]], load: float) -> None:
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["one-scan SQL (baseline)"]
    print(f"\n{args.rows:,} rows, median of {args.repeat}, {os.cpu_count()} cores, "
          f"load average before {load:.2f}\n")  # fmt: skip
    best = {name: min(t) for name, t in times.items()}
    print(f"| {'contender':38} | median s | x SQL | best s | x SQL |")
    print(f"| {'-' * 38} | -------: | ----: | -----: | ----: |")
    for name, seconds in medians.items():
        b_ratio = best[name] / best["one-scan SQL (baseline)"]
        print(f"| {name:38} | {seconds:8.2f} | {seconds / base:5.2f} | {best[name]:6.2f} "
              f"| {b_ratio:5.2f} |")  # fmt: skip
    ratio = medians["validator, engine=pandera (default)"] / base
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"\ntarget: validator within {TARGET}x of one-scan SQL: {verdict} ({ratio:.2f}x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "rows": args.rows, "repeat": args.repeat, "times": times, "medians": medians,
        "best": best, "ratio": ratio, "target": TARGET, "load_average_before": load,
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(), "python": sys.version.split()[0],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
