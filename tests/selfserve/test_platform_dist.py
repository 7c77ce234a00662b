"""The platform wheel alone, installed outside this repository, makes and runs a new mesh."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import REPO

# A source-aligned domain: one landing feed through its source contract, one public port.
ORDERS_FILES = {
    "domains/orders/products/orders.yaml": """
        name: orders
        kind: source-aligned
        description: Orders as the shop system lands them, typed and keyed.
        tier: silver
        input_ports:
          - name: shop_orders
            kind: landing
            location: orders/orders*.csv
        output_ports:
          - name: orders
            model: orders
            visibility: public
            version: 1
        slos:
          freshness_hours: 24
        """,
    "domains/orders/dbt/models/staging/_raw__sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: raw
            tables:
              - name: shop_orders
        """,
    "domains/orders/dbt/models/marts/orders.sql": """
        {{ config(materialized='table') }}
        select cast(order_id as bigint) as order_id, customer, cast(amount as double) as amount
        from {{ source('raw', 'shop_orders') }}
        """,
    "domains/orders/dbt/models/marts/orders.yml": """
        version: 2
        models:
          - name: orders
            description: One row per order.
            columns:
              - {name: order_id, description: Order key., data_type: bigint}
              - {name: customer, description: Who ordered., data_type: varchar}
              - {name: amount, description: Order value in EUR., data_type: double}
        """,
}
COLUMNS = """
    - {name: order_id, description: Order key., logicalType: integer, physicalType: BIGINT,
       required: true, primaryKey: true, primaryKeyPosition: 1, classification: public}
    - {name: customer, description: Who ordered., logicalType: string, physicalType: VARCHAR,
       required: true, classification: public}
    - {name: amount, description: Order value in EUR., logicalType: number,
       physicalType: DOUBLE, required: true, classification: public}
"""


def _contract(urn: str, name: str, path: str) -> str:
    head = f"""
        apiVersion: v3.1.0
        kind: DataContract
        id: {urn}
        name: {name}
        version: 1.0.0
        status: active
        domain: orders
        dataProduct: orders
        description: {{purpose: Orders of the shop.}}
        team: {{name: orders, members: [{{username: orders@shop.example, role: owner}}]}}
        servers: [{{server: s, type: local, format: parquet, path: "{path}"}}]
        schema:
          - name: {name}
            physicalName: {name}
            physicalType: table
            description: One row per order.
            properties:
        """
    columns = textwrap.indent(textwrap.dedent(COLUMNS).strip(), " " * 6)
    return (
        textwrap.dedent(head)
        + columns
        + "\nslaProperties: [{property: freshness, value: 24, unit: h}]\n"
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 900):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log = f"$ {' '.join(args)} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    return proc, log


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The platform wheel built from platform/ and installed into a fresh venv outside the repo."""
    # `uv run` names itself in UV; `make test` may run a uv that pip put off PATH.
    uv = os.environ.get("UV") or shutil.which("uv") or pytest.skip("uv is not on PATH")
    base = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MESH_PROJECT_ROOT")}
    started = time.perf_counter()
    proc, log = _run([uv, "build", "--package", "mesh-platform", "--wheel", "-o", str(base)],
                     REPO, env)  # fmt: skip
    assert proc.returncode == 0, log
    wheel = next(base.glob("mesh_platform-*.whl"))
    # The lock's versions as constraints: the install gets what the repo tested, from uv's cache.
    pins = base / "constraints.txt"
    export = [uv, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-workspace",
              "--package", "mesh-platform", "-o", str(pins)]  # fmt: skip
    assert (proc := _run(export, REPO, env)[0]).returncode == 0, proc.stderr
    venv = base / "venv"
    proc, log = _run([uv, "venv", "-q", "--python", sys.executable, str(venv)], base, env)
    assert proc.returncode == 0, log
    proc, log = _run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                      "-c", str(pins), str(wheel)], base, env)  # fmt: skip
    assert proc.returncode == 0, log
    print(f"platform wheel built and installed in {time.perf_counter() - started:.1f}s")
    # The platform comes from the venv, and the demo package is nowhere to be found.
    probe = "import mesh_platform as p, importlib.util as u;"
    probe += " print(p.__file__, u.find_spec('mesh_demo'))"
    proc, log = _run([str(venv / "bin" / "python"), "-c", probe], base, env)
    assert proc.returncode == 0 and str(venv) in proc.stdout and "None" in proc.stdout, log
    return venv


@pytest.mark.slow
def test_installed_platform_inits_validates_builds_and_governs_a_new_mesh(installed, tmp_path):
    bindir = installed / "bin"
    drop = ("VIRTUAL_ENV", "MESH_PROJECT_ROOT", "PYTHONPATH", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {"PATH": f"{bindir}:{env['PATH']}", "MESH_HOME": str(tmp_path / "home"),
            "MESH_ML": "off", "COLUMNS": "200"}  # fmt: skip
    mesh, work = str(bindir / "mesh"), tmp_path / "work"
    work.mkdir()
    timings: dict[str, float] = {}

    def step(*args: str, cwd: Path, expect: int | tuple[int, ...] = 0) -> str:
        started = time.perf_counter()
        proc, log = _run([mesh, *args], cwd, env)
        name = " ".join(args[:2]) if args[0] == "new" else args[0]
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
        assert proc.returncode in ((expect,) if isinstance(expect, int) else expect), log
        assert "Traceback" not in proc.stderr, log
        return " ".join((proc.stdout + proc.stderr).split())

    step("init", "shop", cwd=work)
    root = work / "shop"
    step("new", "domain", "orders", "--kind", "source-aligned", "--team", "Orders",
         "--description", "Orders as the shop lands them.", cwd=root)  # fmt: skip
    _write(root, ORDERS_FILES)
    _write(root, {
        "contracts/orders/sources/shop_orders.odcs.yaml": _contract(
            "urn:datacontract:orders:source:shop_orders", "shop_orders", "landing/orders/*.csv"),
        "contracts/orders/orders.odcs.yaml": _contract(
            "urn:datacontract:orders:orders", "orders", "lake/orders/orders/v1/current/*.parquet"),
    })  # fmt: skip
    step("new", "domain", "reports", cwd=root)
    step("new", "product", "reports", "order_report", "--from", "orders/orders", cwd=root)
    landing = tmp_path / "home" / "landing" / "orders"
    landing.mkdir(parents=True)
    (landing / "orders_1.csv").write_text("order_id,customer,amount\n1,ann,9.5\n2,bob,20\n")

    assert "valid: 2 domains, 2 products" in step("validate", cwd=root / "domains" / "orders")
    up = step("up", cwd=root)
    assert "2 of 2 domains ok" in up, up
    assert "orders (2)" in up and "order_report (2)" in up, up  # the consumer read the port
    assert (tmp_path / "home" / "lake" / "orders" / "orders" / "v1").exists()
    assert "generated" not in up  # a mesh without a generator gets no demo data
    # The reports domain keeps the scaffold's TODOs, which only a person can decide: exit 1.
    governed = step("govern", cwd=root, expect=1)
    assert re.search(r"orders: \d+ passed, 0 failed", governed), governed
    assert re.search(r"reports: \d+ passed, [1-9]\d* failed", governed), governed
    assert "TODO" in governed, governed
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
