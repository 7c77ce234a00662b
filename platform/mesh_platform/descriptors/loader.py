"""Read domain.yaml and products/*.yaml into validated specs; errors name file and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mesh_platform import yamlio
from mesh_platform.descriptors.errors import SpecError, SpecErrors
from mesh_platform.descriptors.models import DomainSpec, ProductSpec

M = TypeVar("M", bound=BaseModel)


@dataclass
class Domain:
    """A loaded domain: its folder, descriptor and products (keyed by product name)."""

    path: Path
    spec: DomainSpec
    products: dict[str, ProductSpec] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The domain's name."""
        return self.spec.name

    @property
    def dbt_dir(self) -> Path:
        """The domain's dbt project folder."""
        return self.path / "dbt"

    def owners_of(self, product: ProductSpec) -> list[str]:
        """A product's owners, defaulting to the domain's."""
        return list(product.owners or self.spec.owners)


def _read_yaml(path: Path, errors: list[SpecError]) -> dict[str, Any] | None:
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(SpecError(path, "", f"cannot read file: {exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        errors.append(SpecError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, dict):
        errors.append(SpecError(path, "", "expected a mapping at the top level"))
        return None
    return data


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _parse(model: type[M], path: Path, errors: list[SpecError]) -> M | None:
    data = _read_yaml(path, errors)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(SpecError(path, _field_path(err["loc"]), err["msg"]))
        return None


def _check_names(domain: Domain, errors: list[SpecError]) -> None:
    if domain.spec.name != domain.path.name:
        msg = f"'{domain.spec.name}' must equal the folder name '{domain.path.name}'"
        errors.append(SpecError(domain.path / "domain.yaml", "name", msg))


def load_domain(domain_dir: Path, errors: list[SpecError] | None = None) -> Domain:
    """Load one domain folder.

    Args:
        domain_dir: folder holding domain.yaml and products/.
        errors: collect errors here instead of raising.

    Returns:
        The loaded domain.

    Raises:
        SpecErrors: when ``errors`` is None and anything is invalid.

    """
    own: list[SpecError] = []
    domain_dir = Path(domain_dir).resolve()
    spec = _parse(DomainSpec, domain_dir / "domain.yaml", own)
    domain = Domain(path=domain_dir, spec=spec) if spec else None
    for path in sorted((domain_dir / "products").glob("*.yaml")):
        product = _parse(ProductSpec, path, own)
        if product and product.name != path.stem:
            msg = f"'{product.name}' must equal the file name '{path.stem}'"
            own.append(SpecError(path, "name", msg))
        elif product and domain:
            domain.products[product.name] = product
    if domain:
        _check_names(domain, own)
    if errors is not None:
        errors.extend(own)
    elif own:
        raise SpecErrors(own)
    if domain is None:
        raise SpecErrors(own)
    return domain


def load_mesh(domains_dir: Path) -> tuple[dict[str, Domain], list[SpecError]]:
    """Load every domain under ``domains_dir`` and cross-check ports between them.

    Returns:
        The domains that loaded, and every error found (empty when the mesh is valid).

    """
    from mesh_platform.descriptors.crosscheck import check_mesh

    errors: list[SpecError] = []
    domains: dict[str, Domain] = {}
    # A new mesh may have no domains/ folder yet: that is a mesh of no domains, not an error.
    for path in sorted(p for p in Path(domains_dir).glob("*") if (p / "domain.yaml").exists()):
        try:
            domain = load_domain(path, errors)
        except SpecErrors:
            continue
        domains[domain.name] = domain
    errors.extend(check_mesh(domains))
    return domains, errors
