"""Pydantic models of the domain descriptor (domain.yaml) and data product descriptors."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mesh_platform.descriptors.cron import cron_problem
from mesh_platform.descriptors.serving import ServingSpec

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
LANDING_SOURCE = "raw"  # default dbt source of landed tables (ingestion writes schema raw)
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
    dbt_source: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="landing: the dbt source the SQL reads it through (default 'raw')",
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> InputPort:
        if self.kind == "landing" and not self.location:
            raise ValueError("a landing input port needs 'location'")
        if self.kind == "port" and self.dbt_source:
            raise ValueError("'dbt_source' names a landing input's source; a port's is its domain")
        if self.kind == "port" and not self.product:
            raise ValueError("a port input needs 'product' as <domain>/<product>")
        return self

    @property
    def source_name(self) -> str:
        """The dbt source the SQL reads a landing input through (``raw`` unless declared)."""
        return self.dbt_source or LANDING_SOURCE

    @property
    def domain(self) -> str | None:
        """Producing domain of a port input."""
        return self.product.split("/")[0] if self.product else None


class OutputPort(_Strict):
    """A published, versioned Parquet output of a data product, built by a dbt model or a model."""

    name: str = Field(pattern=NAME_PATTERN)
    producer: Literal["dbt", "ml"] = Field(
        default="dbt", description="dbt: a dbt model builds it; ml: the product's model scores it"
    )
    model: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="dbt model that builds the port (dbt)"
    )
    visibility: Literal["public", "private"] = "public"
    format: Literal["parquet"] = "parquet"
    version: int = Field(default=1, ge=1, description="major version of the port's contract")
    deprecation_date: date | None = Field(
        default=None, description="last day this major is published; needed when a newer exists"
    )

    @model_validator(mode="after")
    def _model_given(self) -> OutputPort:
        if self.producer == "dbt" and not self.model:
            raise ValueError("a port produced by dbt needs 'model' (the dbt model that builds it)")
        return self


class Tuning(_Strict):
    """Hyper-parameter search budget: whichever bound is reached first ends it."""

    trials: int = Field(default=20, ge=1, le=500)
    timeout_s: float = Field(default=120, gt=0)


class DriftThresholds(_Strict):
    """When serving-time features count as drifted from the champion's reference profile.

    The reference is the evaluation window (the latest labelled as-of date). A feature drifts when
    its PSI reaches `psi` and its KS or chi-square test rejects at `ks_pvalue` split over the
    features. Features in `non_stationary` move with time by design (days since an event, calendar
    effects): they are reported, and alarm only when their share of nulls drifts.
    """

    psi: float = Field(default=0.2, gt=0, description="PSI at or above which a shift matters")
    ks_pvalue: float = Field(
        default=0.01, gt=0, lt=1, description="false-alarm level of a check over all features"
    )
    non_stationary: list[str] = Field(
        default_factory=list,
        description="features expected to move with time: reported, alarm only on null share",
    )

    @field_validator("non_stationary")
    @classmethod
    def _feature_names(cls, names: list[str]) -> list[str]:
        if any(not n.strip() for n in names):
            raise ValueError("a feature name is empty")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"listed twice: {', '.join(twice)}")
        return names


def _as_list(value: object) -> object:
    """A single column name is a list of one."""
    return [value] if isinstance(value, str) else value


class Bands(_Strict):
    """Named bands of the prediction, e.g. edges [0.3, 0.6] -> low < 0.3 <= medium < 0.6 <= high."""

    column: str = Field(pattern=NAME_PATTERN, description="output column of the band label")
    edges: list[float] = Field(min_length=1, description="ascending cut points")
    labels: list[str] = Field(min_length=2, description="one more label than edges")

    @field_validator("edges")
    @classmethod
    def _edges_sorted(cls, edges: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"edges must be strictly ascending, e.g. [0.3, 0.6]; got {edges}")
        return edges

    @field_validator("labels")
    @classmethod
    def _one_label_per_band(cls, labels: list[str], info: ValidationInfo) -> list[str]:
        edges = info.data.get("edges")
        if edges is not None and len(labels) != len(edges) + 1:
            raise ValueError(
                f"{len(edges)} edge(s) make {len(edges) + 1} bands: give {len(edges) + 1} labels"
            )
        return labels


Columns = Annotated[list[Annotated[str, Field(pattern=NAME_PATTERN)]], BeforeValidator(_as_list)]


# LightGBM parameters the platform pins on every fit (train.lgb_params): a model cannot set them.
PLATFORM_PARAMS = {"seed", "deterministic", "force_row_wise", "num_threads", "verbosity"}


class ModelSpec(_Strict):
    """A LightGBM model declared by an ML product, trained on a dbt model of its own domain."""

    kind: Literal["classifier", "regressor", "ranker"]
    training_table: str = Field(pattern=NAME_PATTERN, description="dbt model of the same domain")
    scoring_table: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="dbt model scored (default: training rows at the latest as-of date)",
    )
    entity: Columns = Field(min_length=1, description="row key columns besides as_of")
    as_of: str = Field(default="as_of_date", pattern=NAME_PATTERN, description="as-of column")
    label: str = Field(pattern=NAME_PATTERN, description="label column of the training table")
    group: Columns | None = Field(
        default=None, validate_default=True, description="ranker: query columns besides as_of"
    )
    features: Columns | None = Field(
        default=None, description="feature columns (default: every column but keys and label)"
    )
    baseline: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        validate_default=True,
        description="column holding the naive baseline's prediction (required for a ranker)",
    )
    horizon_days: int = Field(gt=0, description="label window after each as-of date")
    prediction: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="output column (default prediction/score)"
    )
    bands: Bands | None = Field(default=None, description="classifier/regressor: named bands")
    max_training_rows: int = Field(
        default=2_000_000, ge=100, description="cap; a seeded sample of whole entities/groups"
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="LightGBM parameters the model fixes over its kind's defaults (tuning keeps "
        "them), e.g. {objective: regression_l1} when the gate judges MAE",
    )
    gates: dict[str, str] = Field(min_length=1, description="metric -> expression, '>= 0.65'")
    primary_metric: str
    tuning: Tuning = Field(default_factory=Tuning)
    drift: DriftThresholds = Field(default_factory=DriftThresholds)
    seed: int = 42
    retrain_schedule: str | None = Field(
        default=None,
        description="cron (UTC) on which the model retrains, e.g. '0 3 * * 1'; without it, only "
        "drift or a person retrains it. New features are scored by the champion either way",
    )
    top_k: int = Field(default=10, ge=1, le=100, description="rankers: items kept per group")

    @field_validator("group")
    @classmethod
    def _group_for_rankers(cls, group: list[str] | None, info: ValidationInfo) -> list[str] | None:
        kind, entity = info.data.get("kind"), info.data.get("entity") or []
        if kind == "ranker" and not group:
            raise ValueError("a ranker needs 'group': the query columns, e.g. [customer_id]")
        if kind != "ranker" and group:
            raise ValueError(f"only a ranker has a 'group'; remove it from this {kind}")
        missing = [g for g in group or [] if g not in entity]
        if missing or (group and len(entity) <= len(group)):
            raise ValueError(
                f"a ranker's entity is its group plus the item ranked: list {group} and the "
                f"item column in 'entity' (now {entity})"
            )
        return group

    @field_validator("baseline")
    @classmethod
    def _baseline_for_rankers(cls, baseline: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") == "ranker" and not baseline:
            raise ValueError(
                "a ranker needs 'baseline': a column of the training table that orders the items "
                "naively (e.g. popularity)"
            )
        return baseline

    @model_validator(mode="after")
    def _columns_distinct(self) -> ModelSpec:
        keys = [self.as_of, *self.entity]
        if self.label in keys or self.label in (self.features or []):
            raise ValueError(f"label '{self.label}' is also a key or feature column")
        clash = [f for f in self.features or [] if f in keys]
        if clash:
            raise ValueError(f"features {clash} are key columns (as_of/entity): remove them")
        if self.bands and self.kind == "ranker":
            raise ValueError("a ranker publishes score and rank; 'bands' are for the other kinds")
        return self

    @field_validator("retrain_schedule")
    @classmethod
    def _valid_cron(cls, cron: str | None) -> str | None:
        problem = None if cron is None else cron_problem(cron)
        if problem:
            raise ValueError(
                f"{cron!r} is not a valid cron expression ({problem}), e.g. '0 3 * * 1'"
            )
        return cron

    @field_validator("params")
    @classmethod
    def _params_not_the_platforms(cls, params: dict[str, Any]) -> dict[str, Any]:
        # The platform pins these: reproducible fits, one thread each, one round count knob.
        reserved = sorted(set(params) & PLATFORM_PARAMS)
        if reserved:
            raise ValueError(f"{', '.join(reserved)}: set by the platform, not by a model")
        return params

    @model_validator(mode="after")
    def _primary_gated(self) -> ModelSpec:
        if self.primary_metric not in self.gates:
            raise ValueError(f"primary_metric '{self.primary_metric}' needs a gate in 'gates'")
        return self

    @property
    def keys(self) -> list[str]:
        """Row key of the training and scoring tables: as-of column, then entity columns."""
        return [self.as_of, *self.entity]

    @property
    def output(self) -> str:
        """Name of the prediction column of the predictions port."""
        return self.prediction or ("score" if self.kind == "ranker" else "prediction")


class Slos(_Strict):
    """Service-level objectives of a product.

    A port with a contract promises its freshness there (ODCS ``slaProperties``); the descriptor
    states it only for a product with a port that has no contract.
    """

    freshness_hours: float | None = Field(
        default=None, gt=0, description="for ports without a contract (else the contract's SLA)"
    )
    availability: float | None = Field(default=None, gt=0, le=100)


class PiiPurpose(_Strict):
    """Why a product may publish PII columns unmasked, and who approved it (else: hashed)."""

    columns: list[str] = Field(min_length=1, description="port columns its contract classifies pii")
    purpose: str = Field(min_length=10, description="the permitted purpose, in a sentence")
    approved_by: str = Field(description="the approver: team:<name> or an e-mail address")

    @field_validator("approved_by")
    @classmethod
    def _approver_valid(cls, owner: str) -> str:
        return DomainSpec._owners_valid([owner])[0]


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
    slos: Slos = Field(default_factory=Slos)
    model: ModelSpec | None = Field(default=None, description="ML products: the model to train")
    pii_purpose: PiiPurpose | None = Field(default=None, description="publish these PII unmasked")
    serving: ServingSpec | None = Field(default=None, description="what `mesh serve` answers from")

    @field_validator("owners")
    @classmethod
    def _owners_valid(cls, owners: list[str] | None) -> list[str] | None:
        return DomainSpec._owners_valid(owners) if owners else owners

    @model_validator(mode="after")
    def _model_matches_kind(self) -> ProductSpec:
        if (self.kind == "ml") != (self.model is not None):
            raise ValueError("an 'ml' product declares a 'model'; other kinds must not")
        if self.model is None and any(p.producer == "ml" for p in self.output_ports):
            raise ValueError("only an 'ml' product can publish ports with producer 'ml'")
        if self.model is not None and any(p.name == self.name for p in self.output_ports):
            # The training asset is <domain>/<product>, the predictions port <domain>/<port>.
            raise ValueError(
                f"an 'ml' product's port cannot share its name '{self.name}': name the product "
                f"after the model (e.g. '{self.name}_model') and the port after its predictions"
            )
        return self

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
