"""A model's declared columns against the columns its training table's dbt .yml documents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mesh_platform import yamlio
from mesh_platform.descriptors.errors import SpecError

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.descriptors.models import ModelSpec


def documented_columns(models_dir: Path, model: str) -> tuple[Path, set[str]] | None:
    """The .yml documenting a dbt model's columns and their names; None when none lists them."""
    for yml in sorted(models_dir.rglob("*.yml")) if models_dir.exists() else []:
        try:
            data: Any = yamlio.safe_load(yml.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for entry in data.get("models") or [] if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("name") == model and entry.get("columns"):
                names = {c.get("name") for c in entry["columns"] if isinstance(c, dict)}
                return yml, {n for n in names if isinstance(n, str)}
    return None


def _declared(spec: ModelSpec) -> dict[str, list[str]]:
    """Field -> the training table columns it names."""
    return {
        "as_of": [spec.as_of],
        "entity": spec.entity,
        "group": spec.group or [],
        "label": [spec.label],
        "baseline": [spec.baseline] if spec.baseline else [],
        "features": spec.features or [],
    }


def check_model_columns(domain: Domain) -> list[SpecError]:
    """Declared label, keys, group, baseline and features missing from the training table's .yml.

    Knowable before any run only when the dbt .yml lists the table's columns; otherwise the
    training step checks the built table.

    Args:
        domain: The loaded domain.

    Returns:
        One error per field naming columns the .yml does not document.
    """
    errors = []
    for product in domain.products.values():
        if product.model is None:
            continue
        found = documented_columns(domain.dbt_dir / "models", product.model.training_table)
        if found is None:
            continue
        yml, columns = found
        path = domain.path / "products" / f"{product.name}.yaml"
        for field, names in _declared(product.model).items():
            missing = [n for n in names if n not in columns]
            if missing:
                msg = (
                    f"column(s) {', '.join(missing)} not documented for "
                    f"'{product.model.training_table}' in {yml}: add them to the dbt model "
                    "or name its columns"
                )
                errors.append(SpecError(path, f"model.{field}", msg))
    return errors
