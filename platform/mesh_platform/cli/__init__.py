"""The `mesh` command: one entry point for domain teams, consumers and CI."""

import typer

from mesh_platform.cli import (
    automation,
    build,
    ci,
    contracts,
    contracts_draft,
    defs,
    deploy,
    import_dbt,
    init,
    inspect,
    lineage,
    lineage_serve,
    mlflow_ui,
    models,
    new,
    reload,
    stack,
    ui,
)
from mesh_platform.meshfile import MeshFileError
from mesh_platform.orchestration.run_summary import SERVICE_ERRORS

app = typer.Typer(
    help="Data-mesh domain product framework: build, inspect and serve the mesh.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
init.register(app)
build.register(app)
contracts.register(app)
contracts_draft.register(contracts.contracts_app)
lineage.register(app)
lineage_serve.register(lineage.lineage_app)
models.register(app)
mlflow_ui.register(app)
inspect.register(app)
ui.register(app)
reload.register(app)
deploy.register(app)
new.register(app)
import_dbt.register(app)
ci.register(app)
defs.register(app)
stack.register(app)
automation.register(app)
from mesh_platform.cli import serve  # noqa: E402, I001  (serving: registered last)

serve.register(app)
from mesh_platform.cli import govern  # noqa: E402, I001  (governance)

govern.register(app)
from mesh_platform.cli import catalog  # noqa: E402, I001  (discovery)

catalog.register(app)


def main() -> None:
    """The `mesh` script: a bad mesh.yaml or a failing object store is one line, no traceback."""
    try:
        app()
    except MeshFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:
        # A service down (an object store...) is not a mistake in the mesh: exit 1. By name:
        # importing the ports here would cost every command pyiceberg's import (~2.7 s).
        if type(exc).__name__ not in SERVICE_ERRORS:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
