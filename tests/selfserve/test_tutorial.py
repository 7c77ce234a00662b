"""docs/tutorial.md runs as written: its commands, in order, in a copy of the repo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import REPO, copy_mesh

TUTORIAL = REPO / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)(.*)$")
EXIT = re.compile(r"#\s*exits?\s+(\d+)\s*$")


@dataclass
class Command:
    line: str
    exit_code: int
    expected: list[str]  # output lines the doc shows; each must appear in the real output


@dataclass
class Edit:
    path: str
    text: str


def _blocks(text: str):
    """(info string, body lines) of every fenced block, in order."""
    lines, i = text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        yield match.group(1), match.group(2).strip(), lines[i + 1 : end]
        i = end + 1


def steps(text: str) -> list[Command | Edit]:
    """The tutorial's console commands (``$ `` lines) and file edits (``file=`` blocks)."""
    out: list[Command | Edit] = []
    for lang, info, body in _blocks(text):
        if lang == "console":
            for line in body:
                if line.startswith("$ "):
                    found = EXIT.search(line)
                    out.append(Command(line[2:], int(found.group(1)) if found else 0, []))
                elif line.strip() and isinstance(out[-1], Command):
                    out[-1].expected.append(line.strip())
        elif info.startswith("file="):
            out.append(Edit(info.removeprefix("file="), "\n".join(body) + "\n"))
    return out


def test_tutorial_parses_into_commands_and_edits():
    parsed = steps(TUTORIAL.read_text())
    commands = [s for s in parsed if isinstance(s, Command)]
    edits = [s for s in parsed if isinstance(s, Edit)]
    assert len(edits) == 4 and all(not Path(e.path).is_absolute() for e in edits)
    assert any(c.exit_code == 1 for c in commands)  # the TODOs fail governance
    assert all(c.line.startswith(("mesh ", "export ")) for c in commands)


@pytest.mark.slow
def test_tutorial_runs_as_written(tmp_path):
    root = copy_mesh(tmp_path / "repo")
    bindir = str(Path(sys.executable).parent)  # where `mesh` is installed
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "MESH_PROJECT_ROOT": str(root),
           "COLUMNS": "200", "MESH_ML": "off"}  # fmt: skip
    env.pop("MESH_HOME", None)  # the tutorial sets its own, under the copy
    state = tmp_path / "env"
    for step in steps(TUTORIAL.read_text()):
        if isinstance(step, Edit):
            (root / step.path).write_text(step.text)
            continue
        # One shell per command, carrying exported variables from one command to the next.
        script = (f"set -a; [ -f {state} ] && . {state}; {step.line}\n"
                  f"rc=$?; export -p > {state}; exit $rc")  # fmt: skip
        proc = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
        assert proc.returncode == step.exit_code, f"$ {step.line}\n{proc.stdout}\n{proc.stderr}"
        for line in step.expected:
            assert re.sub(r"\s+", " ", line) in output, f"$ {step.line}: no '{line}' in\n{output}"
    assert (root / ".mesh-tutorial/lake/board/channel_revenue").exists()
    assert "TODO" not in (root / "contracts/finance/revenue_by_channel.odcs.yaml").read_text()
