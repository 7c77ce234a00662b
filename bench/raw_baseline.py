"""The raw baseline of the benchmarks: the mesh's own model SQL run straight in DuckDB, one process.

The SQL is not re-typed: each model's ``compiled_code`` is taken from the manifest.json dbt wrote
when `mesh up` built the domain (``$MESH_HOME/dbt/<domain>/target/run-<id>/``, see
``latest_manifest``). The baseline then does what `mesh up` does to the data and nothing else:
per domain, in producer-before-consumer order, it

1. ingests every landing input port the plain way: one ``CREATE TABLE <domain>.raw.<entity> AS
   SELECT TRY_CAST(<col> AS <type>), ... FROM read_csv/read_parquet/read_json([all its files])``,
   typed per the source contract ``contracts/<domain>/sources/<entity>.odcs.yaml``; no per-file
   checks, no quarantine, no ingest log (that is what the mesh's ingestion adds);
2. creates every model as dbt would (views for staging, tables for marts: the ``materialized``
   config dbt resolved) in the domain's own DuckDB file;
3. COPYs each output-port model to ``lake/<domain>/<product>/v<version>/current/part-0.parquet``
   (zstd, like the platform's DuckDBWarehouse.export_parquet) and points the view consumers'
   compiled SQL reads it through (``mesh_ports."<domain>__<product>_v<major>"``) at that file.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

PORTS_SCHEMA = "mesh_ports"  # where consumers' compiled SQL finds the input ports (dbt.sources)
# The order `mesh up` materialises the domains in when it runs them one after another.
DOMAIN_ORDER = ["catalog", "customers", "web", "sales", "personalization"]

# Same quiet flags the platform exports (mesh_platform.settings): no version check, no tracking.
QUIET_DBT_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DO_NOT_TRACK": "1",
}


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


def latest_manifest(home: Path, domain: str) -> Path:
    """The manifest.json of the last dbt build of ``domain`` under MESH_HOME ``home``."""
    target = home / "dbt" / domain / "target"
    runs = sorted(target.glob("run-*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise FileNotFoundError(f"no compiled manifest under {target}/run-*: run `mesh up` first")
    return runs[-1]


def load_domains(repo: Path, manifests: dict[str, Path]) -> dict[str, DomainSql]:
    """Every domain's compiled SQL, ports and landing sources, from its dbt manifest."""
    return {d: _load_compiled(d, path, repo, repo / "domains" / d) for d, path in manifests.items()}


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


def port_view(domain: str, port: Port) -> str:
    """The view consumers' compiled SQL reads a port through, as the platform names it.

    Named as ``mesh_platform.dbt.sources.port_view`` does; not imported from there, because that
    module pulls pyiceberg in (2.4 s of start-up a plain script does not pay).
    """
    return f'{PORTS_SCHEMA}."{domain}__{port.product}_v{port.version}"'


def create_port_views(con, domain: str, published: dict[str, Path]) -> None:
    """In ``domain``'s database, one view per port published so far, over its Parquet file.

    A view's names resolve in its own database, as the pinned views of a consumer's warehouse.
    """
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{domain}".{PORTS_SCHEMA}')
    for view, target in published.items():
        con.execute(f"CREATE OR REPLACE VIEW \"{domain}\".{view} AS FROM read_parquet('{target}')")


def connect_all(home: Path, order: list[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every domain's warehouse file ATTACHed under the domain's name.

    The compiled, fully qualified relation names (``"sales"."main"."order_lines"``) resolve as
    they do under dbt.
    """
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{home}'")
    for d in order:
        con.execute(f"ATTACH '{home / 'warehouse' / (d + '.duckdb')}' AS \"{d}\"")
    return con


def build_domain(con, home: Path, sql: DomainSql, run_tests: bool, views: dict) -> dict:
    """Ingest, build and publish one domain (and run its data tests): seconds and what it made.

    ``views``: port view -> Parquet file of every port published before (this domain's added).
    """
    d, started = sql.name, time.perf_counter()
    out: dict = {"ingest_seconds": None, "test_seconds": 0.0, "failures": [], "published": {}}
    create_port_views(con, d, views)
    if sql.sources:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{d}"."raw"')
        for source in sql.sources:
            con.execute(ingest_sql(home, d, source))
        out["ingest_seconds"] = round(time.perf_counter() - started, 3)
    relations = {m.name: m.relation for m in sql.models}
    for m in sql.models:
        con.execute(f"CREATE OR REPLACE {m.materialized.upper()} {m.relation} AS (\n{m.sql}\n)")
    for port in sql.ports:
        target = port_file(home, d, port)
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM {relations[port.model]}) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        views[port_view(d, port)] = target
        out["published"][f"{d}/{port.product}"] = target
    if run_tests:
        t0 = time.perf_counter()
        for t in sql.tests:
            row = con.execute(f"SELECT count(*) FROM (\n{t.sql}\n) AS t").fetchone()
            if row and row[0]:
                out["failures"].append(f"{d}.{t.name}")
        out["test_seconds"] = time.perf_counter() - t0
    out["seconds"] = round(time.perf_counter() - started, 3)  # tests included
    return out


def run_baseline(
    home: Path,
    compiled: dict[str, DomainSql],
    order: list[str],
    run_tests: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict:
    """Build every domain and publish its ports in one process and one DuckDB connection.

    Each domain's models live in their own file ``warehouse/<domain>.duckdb`` ATTACHed under the
    domain's name (``connect_all``). A domain's landing input ports are ingested into its
    ``raw`` schema first (timed with it).

    Args:
        home: the baseline's MESH_HOME (its landing zone is read; lake and warehouse rebuilt).
        compiled: every domain's SQL (``load_domains``).
        order: producers before consumers.
        run_tests: also run the dbt data tests, timed apart.
        con: a connection from ``connect_all`` to use and leave open (the caller has called
            ``reset_home`` before making it); without one, the home is reset and a connection
            made and closed here.

    Returns:
        ``{"seconds": models+ports wall clock, "test_seconds": data tests wall clock (0 unless
        run_tests), "tests": number run, "test_failures": [names], "ports": {"d/p": rows},
        "domains": {domain: seconds, tests included}, "ingest_seconds": {domain: seconds},
        "raw_rows": {"d/entity": rows ingested}}``.
    """
    if con is None:
        reset_home(home)
    own = con is None
    started = time.perf_counter()
    con = con or connect_all(home, order)
    try:
        views: dict[str, Path] = {}
        built = {d: build_domain(con, home, compiled[d], run_tests, views) for d in order}
        t0 = time.perf_counter()  # untimed: counted after the fact, for the comparison only
        raw_rows = {}
        for d in order:
            for source in compiled[d].sources:
                row = con.execute(f'SELECT count(*) FROM "{d}"."raw"."{source.entity}"').fetchone()
                raw_rows[f"{d}/{source.entity}"] = int(row[0]) if row else 0
        counting = time.perf_counter() - t0
    finally:
        if own:
            con.close()
    test_seconds = sum(b["test_seconds"] for b in built.values())
    seconds = time.perf_counter() - started - test_seconds - counting
    published = {k: v for b in built.values() for k, v in b["published"].items()}
    return {
        "seconds": seconds,
        "test_seconds": test_seconds,
        "tests": sum(len(compiled[d].tests) for d in order) if run_tests else 0,
        "test_failures": [f for b in built.values() for f in b["failures"]],
        "ports": {k: pq.ParquetFile(p).metadata.num_rows for k, p in published.items()},
        "domains": {d: b["seconds"] for d, b in built.items()},
        "ingest_seconds": {
            d: b["ingest_seconds"] for d, b in built.items() if b["ingest_seconds"] is not None
        },
        "raw_rows": raw_rows,
    }
