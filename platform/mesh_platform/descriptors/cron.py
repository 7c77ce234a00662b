"""Cron expressions of schedules, checked field by field without importing Dagster."""

from __future__ import annotations

import re

ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly"}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, lowest, highest, names counted from lowest) of the five fields, in order.
FIELDS = [("minute", 0, 59, []), ("hour", 0, 23, []), ("day of month", 1, 31, []),
          ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS)]  # fmt: skip
ITEM = re.compile(r"^(\*|(\w+)(-(\w+))?)(/(\d+))?$")


def _value(text: str, low: int, high: int, names: list[str]) -> bool:
    if text.lower() in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def cron_problem(cron: str) -> str | None:
    """What is wrong with a cron expression (5 fields or an @ alias), or None when it is valid.

    Dagster's schedules parse it again when the code location loads; `mesh validate` imports no
    Dagster (tests/unit/test_validate_speed.py), so the values are checked here.
    """
    if cron.strip() in ALIASES:
        return None
    parts = cron.split()
    if len(parts) != len(FIELDS):
        return f"{len(parts)} fields: a cron has 5 (minute hour day month weekday) or an @alias"
    for part, (name, low, high, names) in zip(parts, FIELDS, strict=True):
        for item in part.split(","):
            found = ITEM.match(item)
            bounds = [found.group(2), found.group(4)] if found else []
            if not found or not all(_value(b, low, high, names) for b in bounds if b):
                return f"{name} {item!r}: expected {low}-{high}, '*', ranges, lists or steps"
            if found.group(6) is not None and int(found.group(6)) == 0:
                return f"{name} {item!r}: a step of 0"
    return None
