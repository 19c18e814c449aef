"""``make bench``: run every benchmark in turn."""

from __future__ import annotations

import sys

from benchmarks import local_pipeline


def main() -> int:
    """Run the benchmarks; non-zero if one fails."""
    return local_pipeline.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
