"""A port model whose SQL disagrees with its contract fails `mesh up` in one line per column."""

from __future__ import annotations

from mesh_platform.dbt.errors import contract_mismatches

# What dagster-dbt's error holds when dbt refuses an enforced contract (as `mesh up` showed it).
DBT_ERROR = """The dbt CLI process with command

`dbt build --select fqn:*`

failed with exit code `1`.

Errors parsed from dbt logs:

6 of 12 ERROR creating sql table model main.customers .......... [\x1b[31mERROR\x1b[0m in 0.06s]

\x1b[31mFailure in model customers (models/marts/customers.sql)\x1b[0m

  Compilation Error in model customers (models/marts/customers.sql)
  This model has an enforced contract that failed.
  Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.

  | column_name  | definition_type | contract_type | mismatch_reason    |
  | ------------ | --------------- | ------------- | ------------------ |
  | items_bought | HUGEINT         | BIGINT        | data type mismatch |

  > in macro assert_columns_equivalent (macros/relations/column/columns_spec_ddl.sql)
  > called by model customers (models/marts/customers.sql)
"""  # noqa: E501


def test_contract_mismatch_names_sql_file_and_column():
    assert contract_mismatches(DBT_ERROR, "domains/shop/dbt") == [
        "domains/shop/dbt/models/marts/customers.sql: items_bought: data type mismatch: the model "
        "gives HUGEINT, the contract of port model customers declares BIGINT (cast in the SQL, "
        "or declare the model's type in the contract)"
    ]


def test_other_dbt_errors_are_left_as_they_are():
    other = DBT_ERROR.replace("This model has an enforced contract that failed.", "Boom.")
    assert contract_mismatches(other, "domains/shop/dbt") == []
