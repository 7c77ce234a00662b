"""Headless Debian Chromium driven by Playwright, for tests that check pages in a real browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

# Screenshots and page dumps that tests keep for a human to look at (git-ignored; CI prints it).
_DEFAULT_ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
ARTIFACTS = Path(os.environ.get("MESH_TEST_ARTIFACTS", _DEFAULT_ARTIFACTS))

# The machine's network is closed: Chromium's background services would only fail to connect.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Path of Debian's chromium (installed by `make sysdeps`); never a downloaded browser."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("chromium not found: run `make sysdeps` (Debian package 'chromium')")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium browser for the duration of the block."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def artifact(name: str) -> Path:
    """Where a test keeps an artefact called `name` (the folder is created)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
