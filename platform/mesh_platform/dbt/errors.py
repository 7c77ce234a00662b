"""A failed dbt build said in one line per cause, when dbt's output names one a person fixes."""

from __future__ import annotations

import re

_MODEL = re.compile(r"Failure in model (\w+) \(([^)]+)\)")
_CONTRACT = "This model has an enforced contract that failed"
# | column_name | definition_type | contract_type | mismatch_reason |
_ROW = re.compile(r"^\s*\|\s*(\w+)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|\s*([^|]+?)\s*\|\s*$", re.M)


def contract_mismatches(output: str, dbt_dir: str) -> list[str]:
    """Each column of a model whose SQL disagrees with its port contract, one line each.

    Args:
        output: dbt's error text (the build's error, with the errors parsed from its logs).
        dbt_dir: the domain's dbt folder as a person names it (``domains/<d>/dbt``).

    Returns:
        ``<sql file>: <column>: <reason>: ...`` lines; empty when dbt's error is another one.
    """
    lines = []
    for block in output.split("Failure in model ")[1:]:
        found = _MODEL.match("Failure in model " + block)
        if found is None or _CONTRACT not in block:
            continue
        model, path = found.groups()
        for column, given, declared, why in _ROW.findall(block):
            if column == "column_name" or set(column) <= {"-"}:
                continue  # the table's header and rule
            lines.append(
                f"{dbt_dir}/{path}: {column}: {why}: the model gives {given or 'nothing'}, the "
                f"contract of port model {model} declares {declared or 'nothing'} (cast in the "
                "SQL, or declare the model's type in the contract)"
            )
    return lines
