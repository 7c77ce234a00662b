"""mesh_platform: the self-serve platform of the data mesh (spec, dbt, ports, factory, cli)."""
