"""Synthetic training tables of each model kind in a DuckDB file, as a domain's dbt would build."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

START = date(2026, 1, 5)
DATES = [START + timedelta(days=7 * i) for i in range(10)]  # weekly as-of dates
HORIZON = 14
ENTITIES = 400


def _frame(kind: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = 6 if kind == "ranker" else 1
    n = ENTITIES * items * len(DATES)
    df = pd.DataFrame(
        {
            "as_of_date": np.repeat(DATES, ENTITIES * items),
            "member_id": np.tile(np.repeat(np.arange(ENTITIES), items), len(DATES)),
            "item_id": np.tile(np.arange(items), ENTITIES * len(DATES)),
            "signal": rng.normal(0, 1, n),
            "other": rng.normal(0, 1, n),
            "noise": rng.integers(0, 5, n),
        }
    )
    if kind == "classifier":
        df["label"] = (df["signal"] + rng.normal(0, 0.5, n) > 0.3).astype("int32")
    elif kind == "regressor":
        df["label"] = 3 * df["signal"] + df["other"] + rng.normal(0, 0.3, n)
        df["last_week"] = df["label"] + rng.normal(0, 2.0, n)
    else:
        score = df["signal"] + 0.5 * df["other"] + rng.normal(0, 0.5, n)
        df["label"] = np.clip(np.floor(score), 0, 3).astype("int32")
        df["popularity"] = df["other"] + rng.normal(0, 1.0, n)
    if kind != "ranker":
        df = df.drop(columns="item_id")
    # Labels of as-of dates whose window is still open are unknown (NULL), as a dbt model says.
    open_window = df["as_of_date"] + timedelta(days=HORIZON) > DATES[-1]
    df["label"] = df["label"].astype("float64").where(~open_window)
    return df


def build(path: Path, kind: str, table: str = "training", seed: int = 0, sql: str = "") -> Path:
    """Write the synthetic table of ``kind`` as ``main.<table>`` of a DuckDB file.

    ``sql`` is an optional SELECT over ``frame`` replacing the default ``SELECT * FROM frame``
    (e.g. to drop or retype a column).
    """
    frame = _frame(kind, seed)
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        query = sql or "SELECT * FROM frame"
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}")
        con.execute(f"ALTER TABLE {table} ALTER as_of_date TYPE DATE")
    return path
