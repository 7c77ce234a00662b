"""Ingestion boundary: landed files validated against source contracts, bad rows quarantined."""
