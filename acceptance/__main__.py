"""``python -m acceptance``: see acceptance/run.py."""

from __future__ import annotations

import sys

from acceptance.run import main

if __name__ == "__main__":
    sys.exit(main())
