"""Shared helpers for the pure-logic tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.handlers.events import load_event


@pytest.fixture
def transcribe_output() -> Callable[[str], Any]:
    """A fresh copy of a ``<job>.json`` sample from tests/events/ (safe to modify)."""
    return load_event
