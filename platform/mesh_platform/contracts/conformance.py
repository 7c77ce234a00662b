"""Conformance of the mesh to its contracts: port majors, freshness, dbt columns beyond them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mesh_platform import yamlio
from mesh_platform.contracts.majors import Port, newest_majors, port_majors, port_of, uncovered
from mesh_platform.contracts.odcs import SUFFIX, Contract, custom_property, file_key, load_contracts
from mesh_platform.contracts.preflight import preflight
from mesh_platform.descriptors.errors import SpecError
from mesh_platform.meshfile import MeshFileError, load_mesh_file

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain


def _read_model(yml: Path, model_name: str) -> tuple[int, list[Any]] | SpecError:
    try:
        data = yamlio.safe_load(yml.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return SpecError(yml, "", f"cannot read dbt model properties: {exc}")
    models = data.get("models") if isinstance(data, dict) else None
    for i, model in enumerate(models or []):
        if isinstance(model, dict) and model.get("name") == model_name:
            return i, list(model.get("columns") or [])
    return SpecError(yml, "models", f"no model '{model_name}' declared")


def check_dbt_columns(contract: Contract, dbt_model_yml: Path, model_name: str) -> list[SpecError]:
    """Columns the domain's .yml declares for a port model that its contract does not hold.

    Names, types, nullability and descriptions come from the contract when the platform renders
    the dbt project (``mesh_platform.dbt.port_models``); a column only the .yml names would be
    published without a promise, so it is reported here, before any run.

    Args:
        contract: the port's contract.
        dbt_model_yml: a ``.yml`` declaring the model.
        model_name: the dbt model building the port.

    Returns:
        One error per such column, naming both files.
    """
    found = _read_model(dbt_model_yml, model_name)
    if isinstance(found, SpecError):
        return []  # the model is declared elsewhere, or not at all: its entry is generated
    index, columns = found
    known = {p.name for p in contract.columns}
    errors = []
    for j, column in enumerate(columns):
        name = column.get("name") if isinstance(column, dict) else None
        if name and name not in known:
            msg = f"column '{name}' is not in contract {contract.path}"
            errors.append(SpecError(dbt_model_yml, f"models[{index}].columns[{j}]", msg))
    return errors


def _yml_index(models_dir: Path) -> dict[str, Path]:
    """Model name -> the first ``<name>.yml`` under ``models_dir`` (one walk per dbt project)."""
    index: dict[str, Path] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        index.setdefault(path.stem, path)
    return index


def _check_port(
    contract: Contract, found: Port, ymls: dict[Path, dict[str, Path]]
) -> list[SpecError]:
    domain, product, i, port = found
    descriptor = domain.path / "products" / f"{product.name}.yaml"
    at = f"{descriptor} output_ports[{i}]"
    errors: list[SpecError] = []
    if contract.major != port.version:
        msg = f"major {contract.major} but {at}.version is {port.version}"
        errors.append(SpecError(contract.path, "version", msg))
    stated = custom_property(contract.model, "portVersion") is not None  # else it is the major
    if stated and contract.port_version != port.version:
        msg = f"port version {contract.port_version} but {at}.version is {port.version}"
        errors.append(SpecError(contract.path, "customProperties.portVersion", msg))
    if contract.deprecation_date and contract.deprecation_date != port.deprecation_date:
        msg = f"{contract.deprecation_date} but {at}.deprecation_date is {port.deprecation_date}"
        errors.append(SpecError(contract.path, "customProperties.deprecationDate", msg))
    hours, slo = contract.freshness_hours, product.slos.freshness_hours
    if hours is not None and slo is not None and hours != slo:
        msg = f"{hours:g} h but {descriptor} slos.freshness_hours is {slo:g}"
        errors.append(SpecError(contract.path, "slaProperties.freshness", msg))
    if port.producer != "dbt" or not port.model:
        return errors  # a model's predictions: their columns are checked at publish, not in dbt
    models_dir = domain.dbt_dir / "models"
    if models_dir not in ymls:  # walking the folder per port cost 0.65 s on 2,000 ports
        ymls[models_dir] = _yml_index(models_dir) if models_dir.is_dir() else {}
    yml = ymls[models_dir].get(port.model)
    return errors + (check_dbt_columns(contract, yml, port.model) if yml else [])


def check_ports(
    contracts: dict[str, Contract], domains: dict[str, Domain], *, covered: set[str] | None = None
) -> list[SpecError]:
    """Check port contracts against their output port major, its descriptor and its dbt .yml.

    The newest major's contract is ``<port>.odcs.yaml``; an older major still published is
    ``<port>.v<major>.odcs.yaml`` with the same id.

    Args:
        contracts: loaded contracts (keys are not used: each contract's file names its major).
        domains: the loaded mesh.
        covered: ``file_key`` of every contract file present (also the invalid ones); when given,
            public port majors with no contract are reported too.

    Returns:
        Every disagreement found.

    """
    ports = port_majors(domains)
    newest = newest_majors(ports)
    errors: list[SpecError] = []
    ymls: dict[Path, dict[str, Path]] = {}
    for contract in sorted(contracts.values(), key=lambda c: c.file_key):
        if contract.is_source:
            continue
        found = port_of(contract, ports, newest)
        if isinstance(found, str):
            errors.append(SpecError(contract.path, "id", found))
            continue
        errors += _check_port(contract, found, ymls)
    if covered is not None:
        errors += uncovered(ports, newest, covered)
    return errors


def check_mesh_drift(repo_root: Path, domains: dict[str, Domain] | None = None) -> list[SpecError]:
    """Every contract problem of a repository: invalid contracts, drift, missing contracts.

    Args:
        repo_root: folder holding contracts/ and domains/.
        domains: the mesh when the caller has loaded it already; its descriptor errors are the
            caller's to report (``mesh validate``), so they are not repeated here.

    Returns:
        Errors naming file and field; empty when contracts, descriptors and dbt models agree.

    """
    from mesh_platform.descriptors.loader import load_mesh

    root = Path(repo_root)
    contracts, errors = load_contracts(root / "contracts")
    if domains is None:
        domains = load_mesh(root / "domains")[0] if (root / "domains").is_dir() else {}
    # A contract that failed to load still exists: do not also report its port as uncovered.
    covered = {file_key(p) for p in (root / "contracts").rglob(f"*{SUFFIX}")}
    return errors + check_ports(contracts, domains, covered=covered)


def validate_mesh(repo_root: Path) -> tuple[dict[str, Domain], list[SpecError]]:
    """What `mesh validate` and `mesh ci` check, including what `mesh up` would refuse.

    Descriptors, cross-checks, contracts and dbt, and ``preflight``: source naming, reads the
    port reader refuses, contract types a port cannot hold.

    Returns:
        The loaded domains and every error, each naming file and field.
    """
    from mesh_platform.descriptors.loader import load_mesh

    root = Path(repo_root)
    mesh_errors: list[SpecError] = []
    try:
        load_mesh_file(root)
    except MeshFileError as exc:
        mesh_errors = [SpecError(exc.file, field, msg) for field, msg in exc.problems]
    domains, errors = load_mesh(root / "domains")
    contracts, _ = load_contracts(root / "contracts")  # their errors: check_mesh_drift's
    drift = check_mesh_drift(root, domains)
    from mesh_platform.contracts.serving_refs import serving_problems

    served = serving_problems(domains, contracts)
    return domains, mesh_errors + errors + drift + preflight(domains, contracts) + served
