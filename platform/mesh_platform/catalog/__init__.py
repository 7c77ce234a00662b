"""Discovery: what the Dagster UI and `mesh catalog` show a consumer about each data product."""
