"""Dagster definitions per domain, the platform location and `mesh up`."""
