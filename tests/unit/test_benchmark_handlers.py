"""The handler-import benchmark imports each function as the stack configures it."""

from __future__ import annotations

import pytest

from benchmarks.handlers import HANDLERS, import_seconds


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_handler_imports_with_the_benchmarks_function_environment(handler):
    # A variable the functions require at cold start and the benchmark forgot fails the import
    assert import_seconds(handler) > 0
