"""Column lineage of model features: which port columns each feature is computed from."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlglot.errors import SqlglotError

from mesh_platform import yamlio
from mesh_platform.lineage.sql_lineage import column_sources
from mesh_platform.ml import feature_sql
from mesh_platform.ml.features import CHURN_FEATURES, MAX_RELEVANCE, RANKER_FEATURES

# FeatureSources field -> the port it reads (domain, product); the SQL names them d__p.
PORTS = {
    "order_lines": ("sales", "order_lines"), "products": ("catalog", "products"),
    "customers": ("customers", "customer_profiles"),
    "interactions": ("web", "product_interactions"), "promotions": ("catalog", "promotions"),
}  # fmt: skip


def _table(field: str) -> str:
    domain, product = PORTS[field]
    return f"{domain}__{product}"


def _schema(contracts_dir: Path) -> dict[str, dict[str, str]]:
    """Columns and types of each port, from its contract (what sqlglot needs to resolve USING)."""
    schema = {}
    for field, (domain, product) in PORTS.items():
        doc = yamlio.safe_load((contracts_dir / domain / f"{product}.odcs.yaml").read_text())
        schema[_table(field)] = {
            p["name"]: p["physicalType"] for p in doc["schema"][0]["properties"]
        }
    return schema


def _sql(kind: str) -> str:
    lines = feature_sql.LINES.format(order_lines=_table("order_lines"), products=_table("products"))
    if kind == "classifier":
        return feature_sql.CHURN_SQL.format(lines=lines, interactions=_table("interactions"),
                                            customers=_table("customers"), horizon=90)  # fmt: skip
    promo = feature_sql.PROMO_CALENDAR.format(promotions=_table("promotions"))
    return feature_sql.RANKER_SQL.format(
        lines=lines, products=_table("products"), interactions=_table("interactions"),
        customers=_table("customers"), promo=promo, horizon=30, per_category=30, global_top=10,
        max_relevance=MAX_RELEVANCE,
    )  # fmt: skip


@lru_cache(maxsize=4)
def feature_columns(kind: str, contracts_dir: Path) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Map each feature to the port columns it derives from: ((domain, product, column), ...).

    Features sqlglot cannot trace, or that count rows rather than read a column, are left out
    rather than guessed.
    """
    schema, sql = _schema(contracts_dir), _sql(kind)
    tables = {_table(f): port for f, port in PORTS.items()}
    found = {}
    for feature in CHURN_FEATURES if kind == "classifier" else RANKER_FEATURES:
        try:
            sources = column_sources(sql, feature, schema)
        except (SqlglotError, KeyError, ValueError):
            continue
        leaves = {(*tables[t], col) for _, _, t, col in sources if t in tables}
        if leaves:
            found[feature] = tuple(sorted(leaves))
    return found
