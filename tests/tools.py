"""Programs some tests need that are not Python packages (kubectl, wrk, h2load)."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """Whether the tests run in CI (`CI=true`, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def required_tool(name: str, needed_for: str) -> str:
    """The path of the program `name`. Without it the test skips on a developer's machine but
    fails in CI: there a missing tool must not pass silently as a row of skips."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed: {needed_for}"
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is an error: install {name})", pytrace=False)
    pytest.skip(message)
