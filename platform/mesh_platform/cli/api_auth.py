"""The check both HTTP services run before listening: no open service beyond loopback."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from mesh_platform.access.tokens import ApiAuth, TokenConfigError, exposure_problem, load_auth

err_console = Console(stderr=True)
INSECURE_HELP = (
    "Listen beyond loopback without a token (writes open to anyone who can reach the port)."
)


def checked_auth(service: str, host: str, insecure: bool) -> ApiAuth:
    """The service's token configuration, or exit 2 when it is unusable or unsafe for ``host``.

    Args:
        service: Prefix of the service's variables (``access.tokens.SERVE`` or ``LINEAGE``).
        host: The interface the service is to listen on.
        insecure: The operator's explicit consent to an open service beyond loopback.
    """
    try:
        auth = load_auth(service)
    except TokenConfigError as exc:
        err_console.print(f"[red]error[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    problem = exposure_problem(host, auth)
    if problem is None:
        return auth
    if not insecure:
        err_console.print(f"[red]error[/] {escape(problem)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    err_console.print(
        f"[bold red]WARNING: --insecure: listening on {escape(host)} with NO token: anyone who "
        "can reach this port can write to it. "
        f"Set {service}_TOKEN or {service}_TOKEN_FILE instead.[/]",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    return auth
