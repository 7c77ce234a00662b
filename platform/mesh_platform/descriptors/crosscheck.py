"""Checks that span descriptors: port majors exist and are readable, dbt models exist, no cycles."""

from __future__ import annotations

from datetime import date
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

from mesh_platform.descriptors.errors import SpecError
from mesh_platform.descriptors.model_columns import check_model_columns

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.descriptors.models import InputPort, OutputPort


def _port_index(domains: dict[str, Domain]) -> dict[str, dict[int, OutputPort]]:
    """Map 'domain/port' -> {major: output port} for every declared output port."""
    index: dict[str, dict[int, OutputPort]] = {}
    for domain in domains.values():
        for product in domain.products.values():
            for port in product.output_ports:
                index.setdefault(f"{domain.name}/{port.name}", {})[port.version] = port
    return index


def _read_problem(
    domain: Domain, inp: InputPort, majors: dict[int, OutputPort], today: date
) -> tuple[str, str] | None:
    """(field, message) when a port input may not read the major it names, else None."""
    if not majors:
        return "product", f"no output port '{inp.product}' in the mesh"
    newest = max(majors)
    port = majors.get(inp.version)
    if (port or majors[newest]).visibility != "public" and inp.domain != domain.name:
        return "product", f"'{inp.product}' is private to domain '{inp.domain}'"
    if port is None:
        published = ", ".join(f"v{v}" for v in sorted(majors))
        return "version", f"reads v{inp.version} but '{inp.product}' publishes {published}"
    if port.deprecation_date and today > port.deprecation_date:  # the rule of ports.retired
        return "version", (
            f"reads v{inp.version} of '{inp.product}', retired after {port.deprecation_date}: "
            f"move to v{newest}"
        )
    return None


def _check_source_names(domain: Domain) -> list[SpecError]:
    """A landing input's dbt source may not share its name with a domain whose ports it reads.

    The platform generates a dbt source per producer domain and one per landing source name; a
    shared name would put landed tables and ports in one source (``mesh_platform.dbt.sources``).
    """
    producers = {i.domain for p in domain.products.values() for i in p.input_ports
                 if i.kind == "port"}  # fmt: skip
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, inp in enumerate(product.input_ports):
            if inp.kind == "landing" and (inp.dbt_source or "raw") in producers:
                msg = (f"dbt source '{inp.dbt_source or 'raw'}' is also the domain whose ports "
                       f"{domain.name} reads: name the landing source otherwise")  # fmt: skip
                errors.append(SpecError(path, f"input_ports[{i}].dbt_source", msg))
    return errors


def _check_inputs(
    domain: Domain, ports: dict[str, dict[int, OutputPort]], today: date
) -> list[SpecError]:
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, inp in enumerate(product.input_ports):
            if inp.kind != "port" or not inp.product:
                continue
            problem = _read_problem(domain, inp, ports.get(inp.product, {}), today)
            if problem:
                errors.append(SpecError(path, f"input_ports[{i}].{problem[0]}", problem[1]))
    return errors


def _check_port_owners(domain: Domain) -> list[SpecError]:
    """Every major of a port belongs to one product, and each port has its own dbt model."""
    owner: dict[str, str] = {}
    builds: dict[str, str] = {}
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, port in enumerate(product.output_ports):
            first = owner.setdefault(port.name, product.name)
            if first != product.name:
                msg = f"port '{port.name}' is already declared by product '{first}'"
                errors.append(SpecError(path, f"output_ports[{i}].name", msg))
            label = f"{port.name} v{port.version}"
            if port.producer != "dbt":
                continue
            built = builds.setdefault(port.model or "", label)
            if built != label:
                msg = f"dbt model '{port.model}' already builds port {built}"
                errors.append(SpecError(path, f"output_ports[{i}].model", msg))
    return errors


def _check_models(domain: Domain) -> list[SpecError]:
    models_dir = domain.dbt_dir / "models"
    known = {p.stem for p in models_dir.rglob("*.sql")} if models_dir.exists() else set()
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, port in enumerate(product.output_ports):
            if port.producer == "dbt" and port.model not in known:
                msg = f"dbt model '{port.model}' not found under {models_dir}"
                errors.append(SpecError(path, f"output_ports[{i}].model", msg))
        if product.model is None:
            continue
        tables = {
            "training_table": product.model.training_table,
            "scoring_table": product.model.scoring_table,
        }
        for field, table in tables.items():
            if table and table not in known:
                msg = (
                    f"dbt model '{table}' not found under {models_dir}: a model trains on "
                    "and scores a dbt model of its own domain"
                )
                errors.append(SpecError(path, f"model.{field}", msg))
    return errors


def _check_source_contracts(domain: Domain) -> list[SpecError]:
    """Every landing input port needs a source contract: ingestion validates against it."""
    contracts = domain.path.parent.parent / "contracts" / domain.name / "sources"
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, inp in enumerate(product.input_ports):
            expected = contracts / f"{inp.name}.odcs.yaml"
            if inp.kind == "landing" and not expected.exists():
                msg = f"landing port '{inp.name}' has no source contract at {expected}"
                errors.append(SpecError(path, f"input_ports[{i}].name", msg))
    return errors


def domain_dependencies(domains: dict[str, Domain]) -> dict[str, set[str]]:
    """For each domain, the other domains whose ports it reads."""
    deps: dict[str, set[str]] = {name: set() for name in domains}
    for domain in domains.values():
        for product in domain.products.values():
            for inp in product.input_ports:
                if inp.kind == "port" and inp.domain and inp.domain != domain.name:
                    deps[domain.name].add(inp.domain)
    return deps


def domain_order(domains: dict[str, Domain]) -> list[str]:
    """Domains in an order where every producer comes before its consumers.

    Raises:
        graphlib.CycleError: when domains read each other's ports in a cycle.

    """
    sorter = TopologicalSorter(domain_dependencies(domains))
    return [d for d in sorter.static_order() if d in domains]


def check_mesh(domains: dict[str, Domain], today: date | None = None) -> list[SpecError]:
    """Every cross-descriptor error of the mesh.

    Args:
        domains: the loaded domains.
        today: the date retirement is judged on (default: today).

    Returns:
        Errors naming file and field; empty when the mesh is consistent.

    """
    ports = _port_index(domains)
    errors: list[SpecError] = []
    for domain in domains.values():
        errors += _check_inputs(domain, ports, today or date.today())
        errors += _check_port_owners(domain)
        errors += _check_models(domain)
        errors += _check_source_contracts(domain)
        errors += _check_source_names(domain)
        errors += check_model_columns(domain)
    try:
        domain_order(domains)
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        first = domains[exc.args[1][0]].path / "domain.yaml"
        errors.append(SpecError(first, "", f"domains read each other's ports in a cycle: {cycle}"))
    return errors
