"""Lineage: OpenLineage events per run, a tamper-evident log, an embedded store, audit queries."""
