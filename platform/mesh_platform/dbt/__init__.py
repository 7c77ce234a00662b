"""dbt integration: project preparation, the mesh translator and the dbt asset factory."""
