"""A domain declares a model on its own dbt table; `mesh up` trains, registers and publishes it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from mesh_platform.ml import registry

from tests.support import copy_mesh, port_files, run_mesh

# A regressor of each customer's units in the next 28 days, from the sales order_lines port.
FILES = {
    "domains/forecast/domain.yaml": """
        name: forecast
        team: Forecasting
        owners: [team:forecast]
        description: Forecasts units per customer from the published order lines.
        kind: consumer-aligned
        """,
    "domains/forecast/defs.yaml": """
        type: mesh_platform.orchestration.component.DomainComponent
        """,
    "domains/forecast/products/units_model.yaml": """
        name: units_model
        kind: ml
        description: Units each customer buys in the next 28 days.
        input_ports:
          - {name: order_lines, kind: port, product: sales/order_lines}
        output_ports:
          - {name: units_forecast, producer: ml, visibility: private}
        model:
          kind: regressor
          training_table: units_training
          entity: customer_id
          label: units_next_28d
          baseline: units_28d
          horizon_days: 28
          prediction: units
          gates: {rmse: "<= 1000"}
          primary_metric: rmse
          tuning: {trials: 2, timeout_s: 20}
        """,
    "domains/forecast/dbt/models/units_training.sql": """
        {{ config(materialized='table') }}
        with lines as (
          select customer_id, order_date, quantity from {{ source('sales', 'order_lines') }}
          where status <> 'cancelled'
        ), bounds as (select max(order_date) + 1 as data_end from lines),
        dates as (
          select data_end - cast(14 * i as integer) as as_of_date, data_end
          from bounds, range(0, 12) r(i)
        ), aged as (
          select customer_id, as_of_date, data_end, quantity,
                 date_diff('day', order_date, as_of_date) as age
          from dates cross join lines
        )
        select customer_id, as_of_date,
          coalesce(sum(quantity) filter (age between 1 and 28), 0) as units_28d,
          coalesce(sum(quantity) filter (age between 1 and 90), 0) as units_90d,
          min(age) filter (age >= 1) as recency_days,
          case when as_of_date + 28 <= data_end
            then coalesce(sum(quantity) filter (age between -27 and 0), 0) end as units_next_28d
        from aged
        group by customer_id, as_of_date, data_end
        having count(*) filter (age >= 1) > 0
        """,
}


def _domain_mesh(root: Path) -> Path:
    """The demo mesh with its personalization domain swapped for the forecast domain."""
    copy_mesh(root)
    shutil.rmtree(root / "domains" / "personalization")
    shutil.rmtree(root / "contracts" / "personalization", ignore_errors=True)
    workspace = root / "dagster_project" / "workspace.yaml"
    workspace.write_text(workspace.read_text().replace("personalization", "forecast"))
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.mark.slow
def test_mesh_up_trains_registers_and_publishes_a_declared_model(tmp_path):
    root = _domain_mesh(tmp_path / "mesh")
    home = tmp_path / "home"
    proc = run_mesh(home, "up", "--scale", "0.05", root=root)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    champion = registry.champion(home / "mlflow", "units_model")
    assert champion is not None and champion.version == 1
    assert set(champion.meta["data_snapshots"]) == {"sales/order_lines"}
    table = pq.read_table(port_files(home, "forecast/units_forecast")[0])
    assert table.column_names == [
        "customer_id",
        "as_of_date",
        "units",
        "model_name",
        "model_version",
        "scored_at",
    ]
    assert table.num_rows > 0
