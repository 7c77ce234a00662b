"""`mesh ci`: lint, contract diffs, governance and dbt builds of changed domains."""
