"""The project's YAML loader gives exactly what yaml.safe_load gives, errors included."""

from __future__ import annotations

import pytest
import yaml
from mesh_platform.yamlio import safe_load, shared_texts

from tests.support import REPO

EDGE_CASES = [
    "a: 1\nb: [x, 2.5, null, true, 2024-01-01]\n<<: {c: 1}\n",  # merge key: standard path
    "&a x: *a\n",
    "1: a\n",
    "- !!binary aGVsbG8=\n",
    "a: 'yes'\nb: yes\nc: 0o17\nd: 1_000\ne: ~\nf: .inf\n",
    "",
    "# only a comment\n",
    "a: [1, {b: c}]\n",
]


def _files():
    for folder in ("domains", "contracts"):
        yield from sorted(p for p in (REPO / folder).rglob("*.y*ml") if "target" not in p.parts)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_match_safe_load(text):
    assert safe_load(text) == yaml.safe_load(text)


def test_every_repo_yaml_matches_safe_load():
    files = list(_files())
    assert len(files) > 40
    for path in files:
        text = path.read_text()
        assert safe_load(text) == yaml.safe_load(text), path


@pytest.mark.parametrize(
    "text", ["a: [unclosed\n", "a: b: c\n", "x: !!python/object:os.system ls\n"]
)
def test_errors_are_safe_loads_errors(text):
    with pytest.raises(yaml.YAMLError) as standard:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as ours:
        safe_load(text)
    assert type(ours.value) is type(standard.value)
    assert str(ours.value) == str(standard.value)


def test_shared_texts_parse_once_per_block():
    text = "a: [1, 2]\n"
    with shared_texts():
        first, second = safe_load(text), safe_load(text)
        assert first is second
    assert safe_load(text) is not safe_load(text)
