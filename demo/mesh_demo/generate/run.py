"""Entry point: simulate the shop month by month and write its landing-zone files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from mesh_demo.generate import config as cfg
from mesh_demo.generate.catalog import Products, make_products, products_table
from mesh_demo.generate.customers import Population, crm_frame, make_population
from mesh_demo.generate.demand import Calendar, make_calendar
from mesh_demo.generate.model import ChurnState, order_counts
from mesh_demo.generate.orders import lines_table, make_sales, orders_table
from mesh_demo.generate.promotions import make_promotions, promotions_table
from mesh_demo.generate.sampling import ProductSampler
from mesh_demo.generate.web import events_table, month_events
from mesh_demo.generate.writers import JsonLinesWriter, write_csv, write_parquet

Progress = Callable[[str, int, int], None]
_N_STATIC_STREAMS = 5  # population, CRM, catalogue, promotions, initial churn state


@dataclass
class GenerationSummary:
    """What a generation run wrote."""

    files: dict[str, int] = field(default_factory=dict)  # relative path -> rows
    rows: dict[str, int] = field(default_factory=dict)  # entity -> total rows
    seconds: float = 0.0
    end_date: str = ""  # the last day with data, ISO

    def record(self, relpath: str, entity: str, n_rows: int) -> None:
        """Account for one written file.

        Args:
            relpath: Path relative to the landing directory (POSIX separators).
            entity: Entity the rows belong to (e.g. ``orders``).
            n_rows: Rows written.

        """
        self.files[relpath] = n_rows
        self.rows[entity] = self.rows.get(entity, 0) + n_rows


@dataclass
class _World:
    landing: Path
    pop: Population
    products: Products
    cal: Calendar
    state: ChurnState
    writer: JsonLinesWriter
    summary: GenerationSummary


def generate(
    landing_dir: Path, scale: float = 1.0, seed: int = 42, progress: Progress | None = None,
    end_date: date | None = None,
) -> GenerationSummary:  # fmt: skip
    """Generate two years of raw web-shop data, ending on ``end_date``, into a landing zone.

    The window is 24 calendar months, the last cut at the end date. Output is byte-identical
    for the same ``seed``, ``scale`` and ``end_date``. Months are simulated and written one at a
    time, so memory stays bounded even at large scales.

    Args:
        landing_dir: Directory to write into; the generator's own files are overwritten.
        scale: Size multiplier; 1.0 gives roughly 100,000 order lines.
        seed: Seed of all randomness.
        progress: Optional callback ``(step_name, done, total)``.
        end_date: The last day with data (default: today, UTC, or ``$MESH_DEMO_END_DATE``).

    Returns:
        Rows per file and per entity, and the elapsed time.

    """
    started = time.perf_counter()
    cfg.use_window(end_date or cfg.default_end())
    streams = np.random.SeedSequence(seed).spawn(_N_STATIC_STREAMS + len(cfg.MONTHS))
    rngs = [np.random.default_rng(s) for s in streams]
    total = 2 + len(cfg.MONTHS)
    report = progress or (lambda step, done, total: None)
    world = _build_world(Path(landing_dir), cfg.Sizes.for_scale(scale), rngs, report, total)
    try:
        next_order_id = 1
        for month, rng in enumerate(rngs[_N_STATIC_STREAMS:]):
            next_order_id = _simulate_month(world, month, rng, next_order_id)
            report(f"sales and web {cfg.MONTHS[month]}", 3 + month, total)
    finally:
        world.writer.close()
    world.summary.seconds = time.perf_counter() - started
    world.summary.end_date = str(cfg.END_DATE)
    return world.summary


def _build_world(
    landing: Path, sizes: cfg.Sizes, rngs: list[np.random.Generator], report: Progress, total: int
) -> _World:
    """Write the CRM and catalogue exports and set up the monthly simulation."""
    summary = GenerationSummary()
    pop = make_population(rngs[0], sizes.customers)
    crm_path = "customers/crm_customers.csv"
    summary.record(crm_path, "customers", write_csv(crm_frame(rngs[1], pop), landing / crm_path))
    report("customers", 1, total)
    products = make_products(rngs[2], sizes.products)
    promos = make_promotions(rngs[3])
    for name, entity, table in (
        ("catalog/products.parquet", "products", products_table(products)),
        ("catalog/promotions.parquet", "promotions", promotions_table(promos)),
    ):
        summary.record(name, entity, write_parquet(table, landing / name))
    report("catalog", 2, total)
    state = ChurnState.initial(rngs[4], pop)
    cal = make_calendar(promos)
    return _World(landing, pop, products, cal, state, JsonLinesWriter(), summary)


def _simulate_month(world: _World, month: int, rng: np.random.Generator, first_id: int) -> int:
    pop, cal, summary = world.pop, world.cal, world.summary
    first_day, _ = cal.month_days(month)
    # Products launched mid-month become orderable from the next month on.
    sampler = ProductSampler(world.products, last_day=first_day)
    counts, first_allowed, signed_up = order_counts(rng, month, pop, world.state, cal)
    sales = make_sales(rng, month, counts, first_allowed, pop, cal, sampler)
    ym = str(cfg.MONTHS[month])
    for name, entity, table in (
        (f"sales/orders_{ym}.parquet", "orders", orders_table(sales, first_id)),
        (
            f"sales/order_lines_{ym}.parquet",
            "order_lines",
            lines_table(sales, world.products, first_id),
        ),
    ):
        summary.record(name, entity, write_parquet(table, world.landing / name))
    events = month_events(rng, month, sales, pop, world.state.churned, first_allowed, cal, sampler)
    name = f"web/events_{ym}.jsonl"
    n_events = world.writer.write_events(
        events_table(events), world.landing / name, ym.replace("-", "")
    )
    summary.record(name, "events", n_events)
    world.state.advance(rng, month, counts, signed_up)
    return first_id + len(sales.customer)
