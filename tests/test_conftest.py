"""XDIST_GROUPS (tests/conftest.py) names tests that exist: a renamed test would leave its group."""

from __future__ import annotations

import ast

from tests.conftest import XDIST_GROUPS
from tests.support import REPO


def test_every_xdist_group_entry_names_a_test_file_or_function():
    for prefixes in XDIST_GROUPS.values():
        for prefix in prefixes:
            path, _, name = prefix.partition("::")
            assert (REPO / path).exists(), prefix
            if name:
                tree = ast.parse((REPO / path).read_text())
                functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
                assert name in functions, prefix
