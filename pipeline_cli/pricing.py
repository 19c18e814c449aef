"""Amazon Transcribe's batch price, recorded once for the project (docs/transcribe-pricing.md).

The operator CLI's `costs` multiplies billed seconds by it, and the benchmarks' cost model
(benchmarks/prices.py) reads it from here, so a price change is made once.
"""

from __future__ import annotations

import math

PRICING_PAGE = "https://aws.amazon.com/transcribe/pricing/"
PRICING_DOCS = "https://docs.aws.amazon.com/transcribe/latest/dg/what-is.html"
# Standard batch transcription, first tier (250,000 minutes a month), US East (N. Virginia).
# Other regions and tiers differ; check the pricing page for yours.
PRICE_REGION = "us-east-1"
PRICE_CHECKED_ON = "2026-11-25"
USD_PER_MINUTE = 0.024
USD_PER_SECOND = USD_PER_MINUTE / 60
# Usage is counted in whole seconds, at least 15 seconds per request (job).
MINIMUM_BILLED_SECONDS = 15


def billed_seconds(audio_seconds: float) -> int:
    """The seconds one job is billed for: its audio in whole seconds, at least the minimum."""
    return max(MINIMUM_BILLED_SECONDS, math.ceil(audio_seconds))


def usd(seconds: int) -> float:
    """The list price of ``seconds`` billed seconds."""
    return seconds * USD_PER_SECOND
