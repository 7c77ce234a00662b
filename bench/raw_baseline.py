"""The raw baseline of the benchmarks: the mesh's own model SQL run straight in DuckDB, one process.

The SQL is not re-typed: `dbt compile` renders every domain project once (untimed) and each model's
``compiled_code`` is taken from the compiled manifest.json. The baseline then does what `mesh up`
does to the data and nothing else: per domain, in producer-before-consumer order, it

1. ingests every landing input port the plain way: one ``CREATE TABLE <domain>.raw.<entity> AS
   SELECT TRY_CAST(<col> AS <type>), ... FROM read_csv/read_parquet/read_json([all its files])``,
   typed per the source contract ``contracts/<domain>/sources/<entity>.odcs.yaml``; no per-file
   checks, no quarantine, no ingest log (that is what the mesh's ingestion adds);
2. creates every model as dbt would (views for staging, tables for marts: the ``materialized``
   config dbt resolved) in the domain's own DuckDB file;
3. COPYs each output-port model to ``lake/<domain>/<product>/v<version>/current/part-0.parquet``
   (zstd, like the platform's DuckDBWarehouse.export_parquet), so the consumer domains'
   ``read_parquet('lake/...')`` sources resolve exactly as in the mesh.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

# The order `mesh up` materialises the domains in when it runs them one after another.
DOMAIN_ORDER = ["catalog", "customers", "web", "sales", "personalization"]

# Same quiet flags the platform exports (mesh_platform.settings): no version check, no tracking.
QUIET_DBT_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DO_NOT_TRACK": "1",
}

_COMPILE_SCRIPT = """
import sys
from dbt.cli.main import dbtRunner
runner = dbtRunner()
for project, target, logs in zip(*[iter(sys.argv[1:])] * 3):
    result = runner.invoke(["compile", "--quiet", "--project-dir", project,
                            "--profiles-dir", project, "--target-path", target, "--log-path", logs])
    if not result.success:
        sys.exit(f"dbt compile failed in {project}: {result.exception}")
"""


@dataclass
class Model:
    """One compiled dbt model."""

    name: str
    relation: str  # fully qualified, e.g. "sales"."main"."order_lines"
    materialized: str  # view | table
    sql: str
    depends_on: list[str] = field(default_factory=list)  # unique ids of upstream models


@dataclass
class Test:
    """One compiled dbt data test: it fails when its query returns rows."""

    name: str
    sql: str


@dataclass
class Port:
    """One output port: the model that builds it and where it is published."""

    product: str
    model: str
    version: int


@dataclass
class Source:
    """One landing input port: the files it reads and the typed columns of its source contract."""

    entity: str
    location: str  # glob relative to $MESH_HOME/landing, as the product descriptor gives it
    columns: dict[str, str]  # name -> DuckDB type (physicalType), in contract order


@dataclass
class DomainSql:
    """Everything the baseline executes for one domain, in dependency order."""

    name: str
    models: list[Model]
    tests: list[Test]
    ports: list[Port]
    sources: list[Source] = field(default_factory=list)


def read_ports(domain_dir: Path) -> list[Port]:
    """The output ports a domain's product descriptors declare (products/*.yaml)."""
    import yaml

    found = []
    for path in sorted((domain_dir / "products").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text()) or {}
        for port in spec.get("output_ports", []):
            if port.get("producer", "dbt") != "dbt":
                continue  # a model's predictions: not SQL, left out of both contenders
            found.append(Port(port["name"], port["model"], int(port.get("version", 1))))
    return found


def read_sources(repo: Path, domain_dir: Path) -> list[Source]:
    """The landing input ports of a domain (products/*.yaml), typed by their source contracts."""
    import yaml

    found = []
    for path in sorted((domain_dir / "products").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text()) or {}
        for port in spec.get("input_ports", []):
            if port.get("kind") != "landing":
                continue
            entity = port["name"]
            contract = repo / "contracts" / domain_dir.name / "sources" / f"{entity}.odcs.yaml"
            props = (yaml.safe_load(contract.read_text()) or {})["schema"][0]["properties"]
            columns = {p["name"]: p["physicalType"] for p in props}
            found.append(Source(entity, port["location"], columns))
    return found


def compile_domains(
    repo: Path, domains: list[str], workdir: Path, timeout: float = 600
) -> dict[str, DomainSql]:
    """Run `dbt compile` on every domain project (one subprocess, dbt imported once).

    MESH_HOME points to a scratch folder so compiling never touches a benchmarked warehouse;
    the compiled SQL names other domains' ports relative to MESH_HOME and landed data as the
    relations ``"<domain>"."raw"."<entity>"``, so it does not depend on it.
    """
    scratch = workdir / "compile-home"
    (scratch / "warehouse").mkdir(parents=True, exist_ok=True)
    args = []
    for d in domains:
        args += [
            str(repo / "domains" / d / "dbt"),
            str(workdir / "target" / d),
            str(workdir / "logs" / d),
        ]
    env = {**os.environ, **QUIET_DBT_ENV, "MESH_HOME": str(scratch)}
    subprocess.run(
        [sys.executable, "-c", _COMPILE_SCRIPT, *args], env=env, check=True, timeout=timeout
    )
    return {
        d: _load_compiled(d, workdir / "target" / d / "manifest.json", repo, repo / "domains" / d)
        for d in domains
    }


def _load_compiled(domain: str, manifest_path: Path, repo: Path, domain_dir: Path) -> DomainSql:
    manifest = json.loads(manifest_path.read_text())
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n.get("package_name") == domain}
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models] for uid, n in models.items()}
    ordered = []
    for uid in TopologicalSorter(graph).static_order():
        n = models[uid]
        kind = n["config"]["materialized"]
        if kind not in ("view", "table"):
            raise ValueError(
                f"{domain}.{n['name']}: materialized={kind} is not supported by the baseline"
            )
        ordered.append(Model(n["name"], n["relation_name"], kind, n["compiled_code"], graph[uid]))
    tests = [
        Test(n["name"], n["compiled_code"])
        for uid, n in sorted(nodes.items())
        if n["resource_type"] == "test" and n.get("compiled_code")
    ]
    return DomainSql(domain, ordered, tests, read_ports(domain_dir), read_sources(repo, domain_dir))


def reset_home(home: Path) -> None:
    """Drop what a previous baseline run left in ``home`` (warehouse files, lake), keep landing."""
    shutil.rmtree(home / "lake", ignore_errors=True)
    shutil.rmtree(home / "warehouse", ignore_errors=True)
    (home / "warehouse").mkdir(parents=True)


def port_file(home: Path, domain: str, port: Port) -> Path:
    """Where the baseline publishes a port: the path consumers' sources glob, as a plain folder."""
    return home / "lake" / domain / port.product / f"v{port.version}" / "current" / "part-0.parquet"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ingest_sql(home: Path, domain: str, source: Source) -> str:
    """One statement loading every landed file of a port into ``<domain>.raw.<entity>``, typed."""
    table = f'"{domain}"."raw"."{source.entity}"'
    files = sorted(p for p in (home / "landing").glob(source.location) if p.is_file())
    if not files:  # the mesh creates the table even with nothing landed
        typed = ", ".join(f'"{c}" {t}' for c, t in source.columns.items())
        return f"CREATE OR REPLACE TABLE {table} ({typed})"
    listed = "[" + ", ".join(_quote(str(f)) for f in files) + "]"
    kinds = {f.suffix.lower() for f in files}
    if kinds == {".csv"}:
        reader = f"read_csv({listed}, header = true)"
    elif kinds == {".parquet"}:
        reader = f"read_parquet({listed})"
    elif kinds <= {".json", ".jsonl"}:
        reader = f"read_json({listed}, format = 'newline_delimited')"
    else:
        raise ValueError(f"{domain}.{source.entity}: cannot read files of type {sorted(kinds)}")
    cols = ", ".join(f'TRY_CAST("{c}" AS {t}) AS "{c}"' for c, t in source.columns.items())
    return f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {reader}"


def run_baseline(
    home: Path, compiled: dict[str, DomainSql], order: list[str], run_tests: bool = False
) -> dict:
    """Build every domain and publish its ports in one process and one DuckDB connection.

    Each domain's models live in their own file ``warehouse/<domain>.duckdb`` ATTACHed under the
    domain's name, so the compiled, fully qualified relation names resolve as they do under dbt.
    A domain's landing input ports are ingested into its ``raw`` schema first (timed with it).

    Returns:
        ``{"seconds": models+ports wall clock, "test_seconds": data tests wall clock (0 unless
        run_tests), "tests": number run, "test_failures": [names], "ports": {"d/p": rows},
        "domains": {domain: seconds, tests included}, "ingest_seconds": {domain: seconds},
        "raw_rows": {"d/entity": rows ingested}}``.
    """
    reset_home(home)
    test_seconds, failures, n_tests = 0.0, [], 0
    started = time.perf_counter()
    con = duckdb.connect()  # in-memory catalogue; every domain's file attached to it
    try:
        con.execute(f"SET file_search_path = '{home}'")
        for d in order:
            con.execute(f"ATTACH '{home / 'warehouse' / (d + '.duckdb')}' AS \"{d}\"")
        published: dict[str, Path] = {}
        per_domain: dict[str, float] = {}
        ingest_seconds: dict[str, float] = {}
        raw_rows: dict[str, int] = {}
        for d in order:
            domain_started = time.perf_counter()
            sql = compiled[d]
            if sql.sources:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{d}"."raw"')
                for source in sql.sources:
                    con.execute(ingest_sql(home, d, source))
                ingest_seconds[d] = round(time.perf_counter() - domain_started, 3)
            relations = {m.name: m.relation for m in sql.models}
            for m in sql.models:
                con.execute(
                    f"CREATE OR REPLACE {m.materialized.upper()} {m.relation} AS (\n{m.sql}\n)"
                )
            for port in sql.ports:
                target = port_file(home, d, port)
                target.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT * FROM {relations[port.model]}) TO '{target}' "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                published[f"{d}/{port.product}"] = target
            if run_tests:
                t0 = time.perf_counter()
                for t in sql.tests:
                    n_tests += 1
                    row = con.execute(f"SELECT count(*) FROM (\n{t.sql}\n) AS t").fetchone()
                    if row and row[0]:
                        failures.append(f"{d}.{t.name}")
                test_seconds += time.perf_counter() - t0
            per_domain[d] = round(time.perf_counter() - domain_started, 3)  # tests included
        t0 = time.perf_counter()  # untimed: counted after the fact, for the comparison only
        for d in order:
            for source in compiled[d].sources:
                row = con.execute(f'SELECT count(*) FROM "{d}"."raw"."{source.entity}"').fetchone()
                raw_rows[f"{d}/{source.entity}"] = int(row[0]) if row else 0
        counting = time.perf_counter() - t0
    finally:
        con.close()
    seconds = time.perf_counter() - started - test_seconds - counting
    rows = {k: pq.ParquetFile(p).metadata.num_rows for k, p in published.items()}
    return {
        "seconds": seconds,
        "test_seconds": test_seconds,
        "tests": n_tests,
        "test_failures": failures,
        "ports": rows,
        "domains": per_domain,
        "ingest_seconds": ingest_seconds,
        "raw_rows": raw_rows,
    }
