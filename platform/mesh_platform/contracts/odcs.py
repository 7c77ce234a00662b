"""Load and lint ODCS v3 data contracts; every error names the file and the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject, SchemaProperty
from pydantic import ValidationError

from mesh_platform import yamlio
from mesh_platform.contracts.lint import CLASSIFICATIONS as CLASSIFICATIONS
from mesh_platform.contracts.lint import lint_contract, sla_hours
from mesh_platform.descriptors.errors import SpecError, SpecErrors
from mesh_platform.descriptors.loader import _field_path

SUFFIX = ".odcs.yaml"
# An older major still published beside the newest: <name>.v<major>.odcs.yaml, same id.
MAJOR_SUFFIX = re.compile(r"\.v([1-9]\d*)$")


@dataclass(frozen=True)
class Contract:
    """A linted ODCS contract: its file, the official model and the facts the platform uses."""

    path: Path
    model: OpenDataContractStandard

    @property
    def id(self) -> str:
        """``urn:datacontract:<domain>:<product>`` (or ``...:source:<entity>``)."""
        return self.model.id or ""

    @property
    def is_source(self) -> bool:
        """True for the contract of a landing-zone source, False for an output port's."""
        return ":source:" in self.id

    @property
    def domain(self) -> str:
        """Owning domain, from the id."""
        return self.id.split(":")[2]

    @property
    def product(self) -> str:
        """Output port (or source entity) the contract covers, from the id."""
        return self.id.split(":")[-1]

    @property
    def key(self) -> str:
        """``<domain>/<product>`` or ``<domain>/source/<entity>``."""
        return "/".join(self.id.split(":")[2:])

    @property
    def file_key(self) -> str:
        """Unique per file: ``key`` for the newest major, ``key@v<major>`` for an older one."""
        return file_key(self.path)

    @property
    def version(self) -> str:
        """Semantic version ``MAJOR.MINOR.PATCH``."""
        return self.model.version or ""

    @property
    def semver(self) -> tuple[int, int, int]:
        """The version as a comparable tuple."""
        major, minor, patch = self.version.split(".")
        return int(major), int(minor), int(patch)

    @property
    def major(self) -> int:
        """Major version: consumers pin it; a breaking change bumps it."""
        return self.semver[0]

    @property
    def port_version(self) -> int:
        """Version of the published port (customProperties portVersion, default the major)."""
        value = custom_property(self.model, "portVersion")
        return int(value) if value is not None else self.major

    @property
    def table(self) -> SchemaObject:
        """The single schema object."""
        return (self.model.schema_ or [])[0]

    @property
    def columns(self) -> list[SchemaProperty]:
        """The table's properties, in contract order."""
        return list(self.table.properties or [])

    @property
    def primary_key(self) -> list[str]:
        """Primary-key column names ordered by primaryKeyPosition."""
        keys = [c for c in self.columns if c.primaryKey]
        return [c.name or "" for c in sorted(keys, key=lambda c: c.primaryKeyPosition or 0)]

    @property
    def freshness_hours(self) -> float | None:
        """Maximum age of the data in hours promised by the freshness SLA, if any."""
        for sla in self.model.slaProperties or []:
            if sla.property == "freshness":
                return sla_hours(sla.value, sla.unit)
        return None

    @property
    def freshness_element(self) -> str | None:
        """Column whose newest value the freshness SLA judges (ODCS ``element``), if any.

        ODCS writes it ``<table>.<column>``; a bare column name is read the same way.
        """
        for sla in self.model.slaProperties or []:
            if sla.property == "freshness" and sla.element:
                return str(sla.element).split(",")[0].strip().split(".")[-1] or None
        return None

    @property
    def deprecation_date(self) -> date | None:
        """Date after which this major version is no longer published (customProperties)."""
        value = custom_property(self.model, "deprecationDate")
        return date.fromisoformat(str(value)) if value is not None else None


def custom_property(model: OpenDataContractStandard, name: str) -> Any:
    """Value of a top-level customProperties entry, or None."""
    return next((p.value for p in model.customProperties or [] if p.property == name), None)


def contract_key(path: Path) -> str:
    """The key a contract file must have from its place: ``<domain>/<product>`` or sources'.

    ``<name>.v<major>.odcs.yaml`` holds an older major of the same contract: same key.
    """
    name = MAJOR_SUFFIX.sub("", path.name.removesuffix(SUFFIX))
    if path.parent.name == "sources":
        return f"{path.parent.parent.name}/source/{name}"
    return f"{path.parent.name}/{name}"


def file_major(path: Path) -> int | None:
    """The major a ``<name>.v<major>.odcs.yaml`` file holds; None for ``<name>.odcs.yaml``."""
    match = MAJOR_SUFFIX.search(path.name.removesuffix(SUFFIX))
    return int(match.group(1)) if match else None


def file_key(path: Path) -> str:
    """``contract_key`` plus ``@v<major>`` for an older major's file: unique per contract file."""
    major = file_major(path)
    return contract_key(path) + (f"@v{major}" if major else "")


def port_contract_name(port: str, major: int, newest_major: int | None = None) -> str:
    """File name of a port major's contract: the newest major's is unversioned."""
    older = newest_major is not None and major < newest_major
    return f"{port}.v{major}{SUFFIX}" if older else f"{port}{SUFFIX}"


def _parse_yaml(path: Path, text: str | None) -> dict[str, Any]:
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8") if text is None else text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecErrors([SpecError(path, "", f"cannot read file: {exc}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        msg = f"not valid YAML: {getattr(exc, 'problem', exc)}"
        raise SpecErrors([SpecError(path, where, msg)]) from exc
    if not isinstance(data, dict):
        raise SpecErrors([SpecError(path, "", "expected a mapping at the top level")])
    return data


def load_contract(path: Path, *, text: str | None = None, check_path: bool = True) -> Contract:
    """Parse and lint one ODCS contract.

    Args:
        path: the contract file (named in errors; read unless ``text`` is given).
        text: the file's content when it does not come from disk (e.g. ``git show``).
        check_path: require the id to match the file's place under contracts/.

    Returns:
        The contract.

    Raises:
        SpecErrors: naming the file and field of every problem found.

    """
    path = Path(path)
    raw = _parse_yaml(path, text)
    try:
        model = OpenDataContractStandard.model_validate(raw)
    except ValidationError as exc:
        errors = [SpecError(path, _field_path(e["loc"]), e["msg"]) for e in exc.errors()]
        raise SpecErrors(errors) from exc
    key, major = (contract_key(path), file_major(path)) if check_path else (None, None)
    problems = lint_contract(model, raw, key, major)
    if problems:
        raise SpecErrors([SpecError(path, field, msg) for field, msg in problems])
    return Contract(path=path, model=model)


def load_contracts(contracts_dir: Path) -> tuple[dict[str, Contract], list[SpecError]]:
    """Load every ``*.odcs.yaml`` under ``contracts_dir``.

    Returns:
        The valid contracts keyed by ``<domain>/<product>`` (sources ``<domain>/source/<entity>``;
        an older major's file ``<domain>/<product>@v<major>``) and every error found.

    """
    contracts: dict[str, Contract] = {}
    errors: list[SpecError] = []
    for path in sorted(Path(contracts_dir).rglob("*.y*ml")):
        if not path.name.endswith(SUFFIX):
            errors.append(SpecError(path, "", f"a contract file's name must end in {SUFFIX}"))
            continue
        try:
            contract = load_contract(path)
        except SpecErrors as exc:
            errors.extend(exc.errors)
            continue
        contracts[contract.file_key] = contract
    return contracts, errors
