"""Pydantic models of the domain descriptor (domain.yaml) and data product descriptors."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
# An owner is a Dagster team (team:<name>) or an e-mail address, as Dagster's owners field accepts.
OWNER_PATTERN = re.compile(r"^(team:[a-z][a-z0-9_-]*|[^@\s]+@[^@\s]+\.[a-z]{2,})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DomainSpec(_Strict):
    """A domain team: one folder, one Dagster code location, one dbt project, one warehouse."""

    name: str = Field(pattern=NAME_PATTERN)
    team: str = Field(min_length=1)
    owners: list[str] = Field(min_length=1)
    description: str = Field(min_length=1)
    kind: Literal["source-aligned", "consumer-aligned", "aggregate"] = "source-aligned"

    @field_validator("owners")
    @classmethod
    def _owners_valid(cls, owners: list[str]) -> list[str]:
        bad = [o for o in owners if not OWNER_PATTERN.match(o)]
        if bad:
            raise ValueError(f"not 'team:<name>' or an e-mail address: {', '.join(bad)}")
        return owners


class InputPort(_Strict):
    """Where a product reads from: a landing-zone source or another product's output port."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["landing", "port"]
    location: str | None = Field(
        default=None, description="landing: glob relative to the landing zone"
    )
    product: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$", description="port: domain/name"
    )
    version: int = Field(default=1, ge=1, description="port: major version read")

    @model_validator(mode="after")
    def _kind_fields(self) -> InputPort:
        if self.kind == "landing" and not self.location:
            raise ValueError("a landing input port needs 'location'")
        if self.kind == "port" and not self.product:
            raise ValueError("a port input needs 'product' as <domain>/<product>")
        return self

    @property
    def domain(self) -> str | None:
        """Producing domain of a port input."""
        return self.product.split("/")[0] if self.product else None


class OutputPort(_Strict):
    """A published, versioned Parquet output of a data product, built by one dbt model."""

    name: str = Field(pattern=NAME_PATTERN)
    model: str = Field(pattern=NAME_PATTERN, description="dbt model that builds the port")
    visibility: Literal["public", "private"] = "public"
    format: Literal["parquet"] = "parquet"
    version: int = Field(default=1, ge=1, description="major version of the port's contract")
    deprecation_date: date | None = Field(
        default=None, description="last day this major is published; needed when a newer exists"
    )


class Slos(_Strict):
    """Service-level objectives of a product."""

    freshness_hours: float = Field(gt=0)
    availability: float | None = Field(default=None, gt=0, le=100)


class ProductSpec(_Strict):
    """A data product descriptor (ODPS-style): what it is, what it reads, what it publishes."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["source-aligned", "aggregate", "consumer-aligned", "ml"]
    description: str = Field(min_length=1)
    tier: Literal["bronze", "silver", "gold"] = "silver"
    owners: list[str] | None = None
    tags: list[str] = Field(default_factory=list)
    input_ports: list[InputPort] = Field(min_length=1)
    output_ports: list[OutputPort] = Field(min_length=1)
    slos: Slos

    @field_validator("owners")
    @classmethod
    def _owners_valid(cls, owners: list[str] | None) -> list[str] | None:
        return DomainSpec._owners_valid(owners) if owners else owners

    @model_validator(mode="after")
    def _majors_valid(self) -> ProductSpec:
        problems = major_problems(self.output_ports)
        if problems:
            # A ValidationError (not a ValueError) keeps each problem's own field in its loc.
            details = [
                InitErrorDetails(
                    type=PydanticCustomError("port_major", "{msg}", {"msg": msg}),
                    loc=loc,
                    input=self.output_ports,
                )
                for loc, msg in problems
            ]
            raise ValidationError.from_exception_data(type(self).__name__, details)
        return self


def major_problems(ports: list[OutputPort]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of a product's port majors, as (field location, message).

    A port name may be declared once per major: the old major stays published beside the new one
    until its deprecation date, so every major but the newest needs one.
    """
    out: list[tuple[tuple[str | int, ...], str]] = []
    seen: dict[tuple[str, int], int] = {}
    newest: dict[str, int] = {}
    for i, port in enumerate(ports):
        newest[port.name] = max(newest.get(port.name, 0), port.version)
        first = seen.setdefault((port.name, port.version), i)
        if first != i:
            msg = f"'{port.name}' v{port.version} is already declared by output_ports[{first}]"
            out.append((("output_ports", i, "version"), msg))
    for i, port in enumerate(ports):
        if port.version < newest[port.name] and port.deprecation_date is None:
            msg = (f"'{port.name}' v{port.version} needs a deprecation_date: "
                   f"v{newest[port.name]} is published beside it")  # fmt: skip
            out.append((("output_ports", i, "deprecation_date"), msg))
    return out
