"""`mesh up` skips a consumer only for the ports it reads that a failed producer did not publish."""

from __future__ import annotations

from mesh_platform.descriptors.loader import load_domain
from mesh_platform.orchestration.mesh_up import DomainResult, port_reads, unpublished

from tests.support import REPO


def test_a_producer_failing_after_publishing_what_a_consumer_reads_does_not_hold_it_back():
    reads = port_reads(load_domain(REPO / "domains" / "personalization"))
    assert "sales/order_lines" in reads and "sales/units_forecast" not in reads
    # sales published its ports, then its forecast model failed: personalization still runs
    model_failed = DomainResult("sales", "r1", False, 9.0, ports={"order_lines": 10})
    assert unpublished(reads, {"sales": model_failed}) == []
    # sales failed before publishing order_lines: personalization is skipped, the port named
    build_failed = DomainResult("sales", "r2", False, 3.0, ports={})
    assert unpublished(reads, {"sales": build_failed}) == ["sales/order_lines"]
    assert unpublished(reads, {}) == []
