"""The lineage store: a DuckDB file derived from the event log, rebuilt from it at any time."""

from __future__ import annotations

import gc
import itertools
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mesh_platform.lineage.log import LoggedEvent, read_events

STORE_FILE = "lineage.duckdb"
SCHEMA_VERSION = "1"
BATCH = 50_000  # events per transaction

# Columns of the per-sync staging tables, in the order the flattener produces them.
_COLUMNS = {
    "run_events": ["seq", "hash", "run_id", "event_type", "event_time", "job_namespace",
                   "job_name", "parent_run_id", "parent_job_namespace", "parent_job_name"],
    "dataset_io": ["seq", "run_id", "ds", "namespace", "name", "direction", "version"],
    "column_io": ["seq", "run_id", "src", "src_namespace", "src_name", "src_field", "dst",
                  "dst_field", "transformation"],
    "field_io": ["seq", "ds", "field", "type", "description"],
}  # fmt: skip
_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS run_events (seq BIGINT PRIMARY KEY, hash VARCHAR, run_id VARCHAR,
  event_type VARCHAR, event_time VARCHAR, job_namespace VARCHAR, job_name VARCHAR,
  parent_run_id VARCHAR, parent_job_namespace VARCHAR, parent_job_name VARCHAR);
CREATE TABLE IF NOT EXISTS dataset_io (seq BIGINT, run_id VARCHAR, ds VARCHAR, namespace VARCHAR,
  name VARCHAR, direction VARCHAR, version VARCHAR);
CREATE TABLE IF NOT EXISTS column_io (seq BIGINT, run_id VARCHAR, src VARCHAR,
  src_namespace VARCHAR, src_name VARCHAR, src_field VARCHAR, dst VARCHAR, dst_field VARCHAR,
  transformation VARCHAR);
CREATE TABLE IF NOT EXISTS field_io (seq BIGINT, ds VARCHAR, field VARCHAR, type VARCHAR,
  description VARCHAR);
CREATE TABLE IF NOT EXISTS datasets (ds VARCHAR PRIMARY KEY, namespace VARCHAR, name VARCHAR);
CREATE TABLE IF NOT EXISTS dataset_versions (ds VARCHAR, version VARCHAR, run_id VARCHAR,
  seq BIGINT, PRIMARY KEY (ds, version));
CREATE TABLE IF NOT EXISTS dataset_edges (src VARCHAR, dst VARCHAR, job_namespace VARCHAR,
  job_name VARCHAR, run_id VARCHAR, seq BIGINT);
CREATE TABLE IF NOT EXISTS column_edges (src VARCHAR, src_field VARCHAR, dst VARCHAR,
  dst_field VARCHAR, job_namespace VARCHAR, job_name VARCHAR, run_id VARCHAR, seq BIGINT,
  transformation VARCHAR);
CREATE OR REPLACE VIEW runs AS SELECT run_id, arg_max(job_namespace, seq) AS job_namespace,
  arg_max(job_name, seq) AS job_name, arg_max(event_type, seq) AS status,
  min(event_time) FILTER (WHERE event_type = 'START') AS started_at,
  max(event_time) FILTER (WHERE event_type IN ('COMPLETE', 'FAIL', 'ABORT')) AS ended_at,
  arg_max(parent_run_id, seq) AS parent_run_id, arg_max(parent_job_name, seq) AS parent_job_name,
  max(seq) AS last_seq, arg_max(hash, seq) AS hash FROM run_events GROUP BY run_id;
CREATE OR REPLACE VIEW dataset_fields AS SELECT ds, field, type, description, seq FROM field_io
  QUALIFY seq = max(seq) OVER (PARTITION BY ds);
"""
# Run after each batch is loaded; ``?`` is the first new seq. A job's edges are those of its
# latest COMPLETE run that declared outputs, so the graph shows what the current code does.
_DERIVE = [
    """INSERT OR IGNORE INTO datasets SELECT DISTINCT ds, namespace, name FROM dataset_io
       WHERE seq >= ? UNION SELECT DISTINCT src, src_namespace, src_name FROM column_io
       WHERE seq >= ?""",
    """INSERT OR IGNORE INTO dataset_versions SELECT ds, version, arg_min(run_id, seq), min(seq)
       FROM dataset_io WHERE seq >= ? AND direction = 'output' AND version IS NOT NULL
       GROUP BY ds, version""",
    """CREATE OR REPLACE TEMP TABLE latest AS SELECT job_namespace, job_name,
       arg_max(run_id, seq) AS run_id, max(seq) AS seq FROM run_events r
       WHERE seq >= ? AND event_type = 'COMPLETE' AND (
         EXISTS (FROM dataset_io d WHERE d.run_id = r.run_id AND d.direction = 'output')
         OR EXISTS (FROM column_io c WHERE c.run_id = r.run_id))
       GROUP BY job_namespace, job_name""",
    """DELETE FROM dataset_edges e USING latest l
       WHERE e.job_namespace = l.job_namespace AND e.job_name = l.job_name""",
    """DELETE FROM column_edges e USING latest l
       WHERE e.job_namespace = l.job_namespace AND e.job_name = l.job_name""",
    # Column lineage says which dataset fed which output (a port is published beside its table,
    # from it, in the same step); every input feeds an output without column lineage, and an
    # input no column lineage names (a filter, a join key) feeds every output.
    """INSERT INTO dataset_edges SELECT i.ds, o.ds, l.job_namespace, l.job_name, l.run_id, l.seq
       FROM latest l JOIN dataset_io i ON i.run_id = l.run_id AND i.direction = 'input'
       JOIN dataset_io o ON o.run_id = l.run_id AND o.direction = 'output' WHERE i.ds <> o.ds
       AND (NOT EXISTS (FROM column_io c WHERE c.run_id = l.run_id AND c.dst = o.ds)
         OR NOT EXISTS (FROM column_io c WHERE c.run_id = l.run_id AND c.src = i.ds))
       UNION SELECT c.src, c.dst, l.job_namespace, l.job_name, l.run_id, l.seq
       FROM latest l JOIN column_io c ON c.run_id = l.run_id WHERE c.src <> c.dst""",
    """INSERT INTO column_edges SELECT c.src, c.src_field, c.dst, c.dst_field, l.job_namespace,
       l.job_name, l.run_id, l.seq, min(c.transformation) FROM latest l
       JOIN column_io c ON c.run_id = l.run_id
       WHERE NOT (c.src = c.dst AND c.src_field = c.dst_field) GROUP BY ALL""",
]
_TABLES = ("meta", "run_events", "dataset_io", "column_io", "field_io", "datasets",
           "dataset_versions", "dataset_edges", "column_edges")  # fmt: skip


def dataset_id(namespace: str, name: str) -> str:
    """The store's key of a dataset: ``namespace:name``, as ``str(DatasetName)`` prints it."""
    return f"{namespace}:{name}"


def _flatten(item: LoggedEvent, rows: dict[str, list[tuple]]) -> None:
    """Split one OpenLineage RunEvent into the staging rows of each table."""
    ev, seq = item.event, item.seq
    run, job = ev.get("run") or {}, ev.get("job") or {}
    parent = (run.get("facets") or {}).get("parent") or {}
    run_id = run.get("runId")
    rows["run_events"].append((seq, item.hash, run_id, ev.get("eventType"), ev.get("eventTime"),
                               job.get("namespace"), job.get("name"),
                               (parent.get("run") or {}).get("runId"),
                               (parent.get("job") or {}).get("namespace"),
                               (parent.get("job") or {}).get("name")))  # fmt: skip
    for direction in ("inputs", "outputs"):
        for ds in ev.get(direction) or []:
            _flatten_dataset(seq, run_id, direction[:-1], ds, rows)


def _flatten_dataset(seq: int, run_id: Any, direction: str, ds: dict, rows: dict) -> None:
    ns, name = ds.get("namespace", ""), ds.get("name", "")
    dst, facets = dataset_id(ns, name), ds.get("facets") or {}
    version = (facets.get("datasetVersion") or {}).get("datasetVersion")
    rows["dataset_io"].append((seq, run_id, dst, ns, name, direction, version))
    for f in (facets.get("schema") or {}).get("fields") or []:
        rows["field_io"].append((seq, dst, f.get("name"), f.get("type"), f.get("description")))
    fields = (facets.get("columnLineage") or {}).get("fields") or {}
    for out_field, spec in fields.items():
        for src in spec.get("inputFields") or []:
            how = ", ".join(
                "/".join(filter(None, [t.get("type"), t.get("subtype")]))
                for t in src.get("transformations") or []
            )
            src_id = dataset_id(src.get("namespace", ""), src.get("name", ""))
            rows["column_io"].append((seq, run_id, src_id, src.get("namespace"), src.get("name"),
                                      src.get("field"), dst, out_field, how or None))  # fmt: skip


class LineageStore:
    """A connection to the store; use as a context manager and close it quickly."""

    def __init__(self, path: Path, *, read_only: bool = False, timeout: float = 15.0):
        """Open (and create) the store, waiting up to ``timeout`` s for another writer."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.con = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.IOException:  # another process holds the file: the lock is brief
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        if not read_only:
            self._ensure_schema()

    def __enter__(self) -> LineageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file so other processes may open it."""
        self.con.close()

    def query(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        """Rows of a query as dicts."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def _ensure_schema(self) -> None:
        tables = {
            r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if "meta" in tables and self._meta("schema_version") != SCHEMA_VERSION:
            self._drop()  # derived data: an old layout is simply rebuilt
        self.con.execute(_DDL)
        self._set_meta("schema_version", SCHEMA_VERSION)

    def _drop(self) -> None:
        self.con.execute("DROP VIEW IF EXISTS runs")
        self.con.execute("DROP VIEW IF EXISTS dataset_fields")
        for table in _TABLES:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")

    @property
    def last_seq(self) -> int:
        """Position of the last event ingested, -1 when empty."""
        return int(self._meta("last_seq") or -1)

    def rebuild(self, lineage_dir: Path) -> int:
        """Drop everything and ingest the whole log again; returns the events ingested."""
        self._drop()
        self._ensure_schema()
        return self.sync(lineage_dir)

    def sync(self, lineage_dir: Path) -> int:
        """Ingest events appended to the log since the last sync; returns how many.

        If the log no longer holds the event last ingested (edited or truncated), the store is
        rebuilt from scratch, since the log is the source of truth. Events are ingested in
        batches, one transaction each, so memory stays bounded and a crash loses no batch.
        """
        start = self.last_seq + 1
        events = read_events(Path(lineage_dir), max(start - 1, 0))
        if start > 0:
            first = next(events, None)
            if first is None or first.hash != self._meta("last_hash"):
                return self.rebuild(lineage_dir)
        total, collect = 0, gc.isenabled()
        gc.disable()  # a batch is a million small acyclic tuples: GC passes would only cost time
        try:
            while batch := list(itertools.islice(events, BATCH)):
                self._ingest(batch)
                total += len(batch)
        finally:
            if collect:
                gc.enable()
        return total

    def _ingest(self, batch: list[LoggedEvent]) -> None:
        rows: dict[str, list[tuple]] = {table: [] for table in _COLUMNS}
        for item in batch:
            _flatten(item, rows)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._load(rows)
            self._derive(batch[0].seq)
            self._set_meta("last_seq", str(batch[-1].seq))
            self._set_meta("last_hash", batch[-1].hash)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _load(self, rows: dict[str, list[tuple]]) -> None:
        """Bulk-insert the staged rows (Arrow: DuckDB's executemany is row by row)."""
        for table, cols in _COLUMNS.items():
            kind = pa.struct([(c, pa.int64() if c == "seq" else pa.string()) for c in cols])
            batch = pa.Table.from_struct_array(pa.array(rows[table], type=kind))
            self.con.register("batch", batch)
            self.con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM batch")
            self.con.unregister("batch")

    def _derive(self, start: int) -> None:
        """Update datasets, versions and the latest edges from the rows from ``start`` on."""
        for sql in _DERIVE:
            self.con.execute(sql, [start] * sql.count("?"))
        self.con.execute("DROP TABLE latest")


def store_path(lineage_dir: Path) -> Path:
    """Where the store of a lineage folder lives."""
    return Path(lineage_dir) / STORE_FILE


def open_store(lineage_dir: Path, *, sync: bool = True) -> LineageStore:
    """Open the store of ``$MESH_HOME/lineage`` and bring it up to date with the log."""
    store = LineageStore(store_path(lineage_dir))
    if sync:
        store.sync(lineage_dir)
    return store
