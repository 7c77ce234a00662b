"""The platform names no demo domain, port, model or feature: those live in descriptors and dbt."""

import re

from tests.support import REPO

# Names of the demo's domains, ports, models and features (and its source systems).
DEMO_NAMES = re.compile(
    r"order_lines|customer_profiles|product_interactions|customer_features|churn|recommender"
    r"|personalization|recommendations|daily_revenue|units_forecast|erp_|first_order_days"
    r"|product_popularity|risk_band"
)


def test_no_platform_module_names_the_demo():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "platform" / "mesh_platform").rglob("*"))
        if path.is_file() and path.suffix in {".py", ".sql", ".yaml", ".yml", ".jinja", ".md"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DEMO_NAMES.search(line)
    ]
    assert not found, "the platform names the demo:\n" + "\n".join(found)
