"""Fixtures shared by the end-to-end suites (tests/e2e, tests/cli): a local cloud per module."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.deployment import ROOT, LocalEndpoint
from localcloud.server import free_port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    """A local cloud in the background on a free port, stopped afterwards."""
    port = str(free_port())
    subprocess.run([sys.executable, "-m", "localcloud", "up", "--port", port], cwd=ROOT, check=True)
    try:
        yield LocalEndpoint(int(port))
    finally:
        subprocess.run(
            [sys.executable, "-m", "localcloud", "down", "--port", port], cwd=ROOT, check=False
        )


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cloud assembly directory of the module's own, so parallel runs do not collide."""
    return tmp_path_factory.mktemp("cdk.out")
