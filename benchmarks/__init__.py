"""Speed and accuracy measurements; each script prints a table and writes benchmarks/results/."""

import sys
from pathlib import Path

# The functions' code (lambda/) is a Lambda asset, not an installed package. Benchmarks that
# drive it in-process (burst/) import it from there, as the tests do (pytest's pythonpath),
# so that ``python -m benchmarks.<name>`` works from a plain shell.
_LAMBDA_DIR = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA_DIR not in sys.path:
    sys.path.insert(0, _LAMBDA_DIR)
