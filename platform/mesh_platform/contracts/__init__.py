"""Data contracts: compile, diff and drift-check ODCS contracts."""
