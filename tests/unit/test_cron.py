"""Descriptor cron checks agree with the check Dagster's schedules make."""

from __future__ import annotations

import pytest
from dagster._utils.schedules import is_valid_cron_string
from mesh_platform.descriptors.cron import cron_problem

CASES = [
    "0 3 * * 1", "*/15 * * * *", "0 2 * * mon-fri", "0 0 1,15 * *", "30 4 * jan,jul sun",
    "@weekly", "@daily", "0 0-23/2 * * *", "5 4 * * 7",
    "99 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "weekly",
    "0 3 * *", "0 3 * * * *", "*/0 * * * *", "a b c d e", "0 3 * * funday",
]  # fmt: skip


@pytest.mark.parametrize("cron", CASES)
def test_the_descriptor_check_agrees_with_dagsters_parser(cron):
    assert (cron_problem(cron) is None) == is_valid_cron_string(cron)


def test_a_problem_names_the_field():
    assert cron_problem("0 24 * * *") == ("hour '24': expected 0-23, '*', ranges, lists or steps")
