"""SQL the ML steps run in DuckDB over a model's training and scoring tables."""

from __future__ import annotations

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml.split import TimeSplit


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _list(names: list[str], prefix: str = "") -> str:
    return ", ".join(prefix + q(n) for n in names)


def as_of_dates(spec: ModelSpec, rel: str) -> str:
    """Distinct as-of dates with a label, and their row counts."""
    return (
        f"SELECT {q(spec.as_of)}::DATE AS d, count(*) FROM {rel} "
        f"WHERE {q(spec.label)} IS NOT NULL GROUP BY d ORDER BY d"
    )


def training_rows(spec: ModelSpec, rel: str, features: list[str], split: TimeSplit) -> str:
    """The capped, sorted training and evaluation rows of a model.

    Whole units (a ranker's group, else the entity) are kept in the order of a seeded hash
    until the rows reach ``max_training_rows``, so a sample keeps every as-of date of an entity
    and every item of a query. A ranker's training groups without a relevant item teach
    nothing and are dropped; the evaluation date keeps all groups (as served).
    """
    dates = ", ".join(f"DATE '{d.isoformat()}'" for d in [*split.train, split.evaluate])
    unit = (spec.group or []) if spec.kind == "ranker" else spec.entity
    label_type = "INTEGER" if spec.kind == "ranker" else "DOUBLE"
    baseline = f", {q(spec.baseline)}::DOUBLE AS __baseline" if spec.baseline else ""
    casts = ", ".join(f"{q(f)}::DOUBLE AS {q(f)}" for f in features)
    positive = ""
    if spec.kind == "ranker":
        window = f"PARTITION BY __as_of, {_list(unit)}"
        positive = f"QUALIFY __as_of = DATE '{split.evaluate}' OR max(__label) OVER ({window}) > 0"
    query = "0"
    if spec.kind == "ranker":
        query = f"dense_rank() OVER (ORDER BY __as_of, {_list(unit)})"
    return f"""
      WITH base AS (
        SELECT {q(spec.as_of)}::DATE AS __as_of, {_list(spec.entity)},
               {q(spec.label)}::{label_type} AS __label{baseline}, {casts}
        FROM {rel} WHERE {q(spec.as_of)}::DATE IN ({dates}) AND {q(spec.label)} IS NOT NULL
      ), kept AS (SELECT * FROM base {positive}),
      units AS (
        SELECT {_list(unit)}, count(*) AS n, hash({int(spec.seed)}, {_list(unit)}) AS h
        FROM kept GROUP BY ALL
      ), chosen AS (
        SELECT {_list(unit)} FROM units
        QUALIFY sum(n) OVER (ORDER BY h, {_list(unit)} ROWS UNBOUNDED PRECEDING)
                <= {int(spec.max_training_rows)}
      )
      SELECT {query} AS __query, __as_of, __label{", __baseline" if spec.baseline else ""},
             {_list(features)}
      FROM kept SEMI JOIN chosen USING ({_list(unit)})
      ORDER BY __as_of, {_list(unit)}, {_list(spec.entity)}
    """


def scoring_rows(spec: ModelSpec, rel: str, features: list[str]) -> str:
    """Keys and features of the rows scored now (the training table: its latest as-of date)."""
    where = ""
    if not spec.scoring_table:
        where = f"WHERE {q(spec.as_of)} = (SELECT max({q(spec.as_of)}) FROM {rel})"
    casts = ", ".join(f"{q(f)}::DOUBLE AS {q(f)}" for f in features)
    return (
        f"SELECT {_list(spec.entity)}, {q(spec.as_of)}::DATE AS {q(spec.as_of)}, {casts} "
        f"FROM {rel} {where}"
    )


def _bands(spec: ModelSpec) -> str:
    if spec.bands is None:
        return ""
    cases = " ".join(
        f"WHEN __pred < {float(edge)!r} THEN '{label.replace(chr(39), chr(39) * 2)}'"
        for edge, label in zip(spec.bands.edges, spec.bands.labels, strict=False)
    )
    last = spec.bands.labels[-1].replace("'", "''")
    return f", CASE {cases} ELSE '{last}' END AS {q(spec.bands.column)}"


def predictions(spec: ModelSpec) -> str:
    """Predictions port rows from table ``scored`` (keys, ``__pred``); $1 name, $2 version."""
    keys = f"{_list(spec.entity)}, {q(spec.as_of)}"
    stamp = "$1 AS model_name, $2::BIGINT AS model_version, $3::TIMESTAMP AS scored_at"
    if spec.kind != "ranker":
        return (
            f"SELECT {keys}, __pred AS {q(spec.output)}{_bands(spec)}, {stamp} FROM scored "
            f"ORDER BY {q(spec.as_of)}, {_list(spec.entity)}"
        )
    group = f"{q(spec.as_of)}, {_list(spec.group or [])}"
    items = [e for e in spec.entity if e not in (spec.group or [])]
    order = f"__pred DESC, {_list(items)}"
    return (
        f"SELECT {keys}, __pred AS {q(spec.output)}, "
        f"row_number() OVER (PARTITION BY {group} ORDER BY {order})::BIGINT AS rank, {stamp} "
        f"FROM scored QUALIFY rank <= {int(spec.top_k)} ORDER BY {group}, rank"
    )
