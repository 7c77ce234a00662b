"""Turning a running mesh's sensors and schedules on, through the webserver's GraphQL API.

With ``MESH_AUTOMATION=off`` the sensors and schedules that launch runs start stopped, so a
`mesh up` driving the runs is not raced by a second ingestion of the same files. Once it is done,
starting them is what the UI's "Automation" page does, one mutation each; this does it for all.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

INSTIGATORS = """{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
  name location { name }
  sensors { name sensorState { status } }
  schedules { name scheduleState { status } } } } } }"""
START = {
    "sensor": "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) "
    "{ __typename ... on PythonError { message } } }",
    "schedule": "mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) "
    "{ __typename ... on PythonError { message } } }",
}
STARTED = {"sensor": "Sensor", "schedule": "ScheduleStateResult"}


class AutomationError(RuntimeError):
    """The webserver refused or failed a request; the message names the webserver."""


@dataclass(frozen=True)
class Instigator:
    """A sensor or a schedule of one repository of one code location."""

    kind: str  # "sensor" | "schedule"
    location: str
    repository: str
    name: str
    running: bool

    def selector(self) -> dict[str, str]:
        """The GraphQL selector that names it."""
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            f"{self.kind}Name": self.name,
        }


def _graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", body, {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            reply = json.load(answer)
    except OSError as exc:
        raise AutomationError(f"the Dagster webserver at {url} did not answer: {exc}") from None
    if reply.get("errors"):
        raise AutomationError(f"the Dagster webserver at {url}: {reply['errors'][0]['message']}")
    return reply["data"]


def instigators(url: str) -> list[Instigator]:
    """Every sensor and schedule the webserver at ``url`` knows, with whether it runs."""
    found = _graphql(url, INSTIGATORS)["repositoriesOrError"]
    if found["__typename"] != "RepositoryConnection":
        raise AutomationError(f"the Dagster webserver at {url}: {found['__typename']}")
    return [
        Instigator(
            kind,
            repo["location"]["name"],
            repo["name"],
            item["name"],
            running=item[f"{kind}State"]["status"] == "RUNNING",
        )
        for repo in found["nodes"]
        for kind in ("sensor", "schedule")
        for item in repo[f"{kind}s"]
    ]


def start_automation(url: str) -> list[Instigator]:
    """Start every stopped sensor and schedule of the webserver at ``url``; those started.

    Raises:
        AutomationError: the webserver is unreachable or refused one (named).
    """
    started = []
    for item in instigators(url):
        if item.running:
            continue
        kind = "startSensor" if item.kind == "sensor" else "startSchedule"
        result = _graphql(url, START[item.kind], {"s": item.selector()})[kind]
        if result["__typename"] != STARTED[item.kind]:
            why = result.get("message", result["__typename"])
            raise AutomationError(f"starting the {item.kind} {item.name} at {url}: {why}")
        started.append(item)
    return started
