"""The HTML audit report renders in headless Chromium with its scorecard and findings."""

from __future__ import annotations

import pytest
from mesh_platform.governance.report import render_html

from tests.browser import artifact, chromium


@pytest.fixture
def broken_report(mesh, tmp_path):
    mesh.edit(
        "domains/web/products/product_interactions.yaml",
        lambda d: d.__setitem__("owners", ["team:todo"]),
    )
    result = mesh.govern()
    page = tmp_path / "governance.html"
    page.write_text(render_html(result, mesh.paths))
    return result, page


def test_report_is_self_contained_and_lists_every_section(broken_report):
    result, page = broken_report
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    for section in ("scorecard", "findings", "contracts", "pii", "lineage", "models"):
        assert f'id="{section}"' in html
    assert "<svg" in html  # the mesh picture is inline (Graphviz installed by make sysdeps)
    assert "urn:datacontract:customers:customer_profiles" in html
    assert result.exit_code == 1


@pytest.mark.slow
def test_report_renders_in_chromium_with_scorecard_and_finding(broken_report):
    _, page = broken_report
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(page.as_uri())
        assert tab.locator("#verdict").inner_text().startswith("FAIL")
        web = tab.locator('.card[data-domain="web"]')
        assert web.is_visible() and "failed: owner" in web.inner_text()
        finding = tab.locator("tr.finding", has_text="team:todo").first
        assert finding.is_visible() and "product_interactions.yaml" in finding.inner_text()
        assert tab.locator("#lineage ~ .picture svg").is_visible()
        shot = artifact("governance-report.png")
        tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
