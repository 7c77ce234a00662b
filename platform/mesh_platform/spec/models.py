"""Pydantic models of the domain descriptor (domain.yaml) and data product descriptors."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
