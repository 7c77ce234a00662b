"""Where a port major's contract file lives, and loading it (light: no Dagster, no Pandera)."""

from __future__ import annotations

from pathlib import Path

from mesh_platform.contracts.odcs import Contract, load_contract, port_contract_name
from mesh_platform.descriptors.errors import SpecError, SpecErrors


def port_contract_path(
    contracts_dir: Path, domain: str, port: str, major: int = 1, newest_major: int | None = None
) -> Path:
    """Where the ODCS contract of one major of an output port lives.

    Args:
        contracts_dir: the repository's contracts/ folder.
        domain: the producing domain.
        port: the output port's name.
        major: the port's major version.
        newest_major: the newest major the product declares (None: ``major`` is the newest).

    Returns:
        ``<domain>/<port>.odcs.yaml`` for the newest major, ``<domain>/<port>.v<major>.odcs.yaml``
        for an older one still published beside it.

    """
    return contracts_dir / domain / port_contract_name(port, major, newest_major)


def load_port_contract(
    contracts_dir: Path, domain: str, port: str, version: int = 1
) -> Contract | None:
    """The contract of one major of a port, or None when it has none (allowed for private ports).

    An older major's own file wins; else the unversioned file, which must then be of that major.

    Raises:
        SpecErrors: the unversioned file is another major's: auditing against it would be wrong.

    """
    path = port_contract_path(contracts_dir, domain, port, version, newest_major=version + 1)
    if not path.exists():
        path = port_contract_path(contracts_dir, domain, port, version)
    if not path.exists():
        return None
    contract = load_contract(path)
    if contract.port_version != version:
        older = port_contract_path(contracts_dir, domain, port, version, newest_major=version + 1)
        msg = f"holds v{contract.port_version}, not v{version}: v{version}'s contract is {older}"
        raise SpecErrors([SpecError(path, "customProperties.portVersion", msg)])
    return contract
