"""Small helpers shared by the policies."""

from __future__ import annotations

import re

TODO_MARK = "TODO"  # `mesh new` scaffolds mark what a human must fill in with "TODO:"
# Owners that name no real person or team: scaffolding leftovers and documentation examples.
PLACEHOLDER_NAMES = frozenset(
    {
        "todo",
        "tbd",
        "fixme",
        "changeme",
        "owner",
        "someone",
        "nobody",
        "unknown",
        "example",
        "your-team",
        "your_team",
        "team",
        "me",
        "user",
        "test",
    }
)
PLACEHOLDER_MAIL_DOMAINS = frozenset({"example.com", "example.org", "example.net"})
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def is_placeholder_text(text: str | None) -> bool:
    """True when a description is missing, blank or still carries a TODO marker."""
    return not (text or "").strip() or TODO_MARK in (text or "")


def owner_placeholder(owner: str) -> str | None:
    """Why an owner is a placeholder, or None for a real one."""
    if TODO_MARK.lower() in owner.lower():
        return "carries a TODO marker"
    if owner.startswith("team:"):
        name = owner.removeprefix("team:")
        return f"'{name}' is a placeholder team name" if name in PLACEHOLDER_NAMES else None
    local, _, host = owner.partition("@")
    if host.lower() in PLACEHOLDER_MAIL_DOMAINS:
        return f"'{host}' is a documentation example domain, not a mailbox"
    return f"'{local}' is a placeholder mailbox" if local.lower() in PLACEHOLDER_NAMES else None


def port_label(domain: str, port: str, major: int) -> str:
    """``domain/port v<major>``."""
    return f"{domain}/{port} v{major}"


def lint_owner(field: str) -> str | None:
    """The policy that reports a contract lint error on ``field`` instead of port-contract."""
    if field.endswith(".classification"):
        return "classification"
    if field.startswith("slaProperties"):
        return "freshness"
    if field.endswith(".description") and ".properties[" in field:
        return "documentation"
    return None
