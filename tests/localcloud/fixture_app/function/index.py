"""Fixture function: records what it was called with, so tests can see it ran."""

import json
import logging
import os
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Log the event and echo the configured revision."""
    logger.info("event: %s", json.dumps(event))
    return {"revision": os.environ.get("FIXTURE_REVISION", "?"), "event": event}
