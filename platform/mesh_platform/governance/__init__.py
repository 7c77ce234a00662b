"""Federated computational governance: global policies, domain additions, one verdict."""
