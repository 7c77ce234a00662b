"""Column lineage of model features: each feature is a column of the domain's training table."""

from __future__ import annotations

from mesh_platform.lineage.naming import DatasetName

ColumnRef = tuple[str, str, str]  # namespace, dataset name, column


def feature_columns(table: DatasetName, features: list[str]) -> dict[str, list[ColumnRef]]:
    """Map each feature to the training table column it is read from (same name).

    How the dbt model computes that column from the ports it reads is dbt's column lineage,
    emitted with the model's own run; together they lead from a port column to a model.

    Args:
        table: The training table as an OpenLineage dataset.
        features: The model's features.

    Returns:
        Feature -> [(namespace, name, column)].
    """
    return {f: [(table.namespace, table.name, f)] for f in features}
