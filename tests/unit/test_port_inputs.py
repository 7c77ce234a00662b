"""Same-domain input ports: published first, and a refused one blocks the ports built from it."""

from __future__ import annotations

from mesh_platform.dbt.port_inputs import inputs_first, refused_input, same_domain_inputs
from mesh_platform.descriptors.loader import load_domain

from tests.support import REPO


def sales_ports():
    domain = load_domain(REPO / "domains" / "sales")
    return {port.model or port.name: (product, port) for product in domain.products.values()
            for port in product.output_ports}  # fmt: skip


def test_daily_revenue_reads_order_lines():
    ports = sales_ports()
    assert same_domain_inputs("sales", ports, "daily_revenue") == {"order_lines"}
    assert same_domain_inputs("sales", ports, "order_lines") == set()  # catalog/products is not


def test_inputs_are_published_first():
    ports = sales_ports()
    assert inputs_first("sales", ports, ["daily_revenue", "order_lines"]) == [
        "order_lines",
        "daily_revenue",
    ]


def test_a_refused_input_blocks_its_readers_only():
    ports = sales_ports()
    assert refused_input("sales", ports, "daily_revenue", {"order_lines"}) == "order_lines"
    assert refused_input("sales", ports, "daily_revenue", set()) is None
    assert refused_input("sales", ports, "order_lines", {"daily_revenue"}) is None
