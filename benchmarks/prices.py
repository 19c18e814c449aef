"""Published AWS list prices (US East, N. Virginia) that the cost model uses: the ONE place.

Prices change. Every entry records where it came from and when it was read; re-check each
one against its official pricing page before quoting a figure (official pages:
https://aws.amazon.com/transcribe/pricing/, https://aws.amazon.com/lambda/pricing/,
https://aws.amazon.com/sqs/pricing/, https://aws.amazon.com/s3/pricing/,
https://aws.amazon.com/eventbridge/pricing/, https://aws.amazon.com/dynamodb/pricing/on-demand/).
Free tiers are ignored on purpose.
"""

from __future__ import annotations

from typing import TypedDict

from pipeline_cli import pricing as transcribe_pricing

REGION = "us-east-1"
CHECKED_ON = "2026-11-25"  # the day these figures were looked up for this file


class Price(TypedDict):
    """One list price: value in USD per unit, and its provenance."""

    usd: float
    unit: str
    source: str
    source_dated: str
    checked_on: str


PRICES: dict[str, Price] = {
    # Recorded in pipeline_cli/pricing.py, which the CLI's `costs` also reads: one home.
    "transcribe_batch_per_minute": {
        "usd": transcribe_pricing.USD_PER_MINUTE,
        "unit": "minute of audio (batch, standard, first 250,000 min/month tier; per-second "
        f"billing, {transcribe_pricing.MINIMUM_BILLED_SECONDS} s minimum per job)",
        "source": f"{transcribe_pricing.PRICING_PAGE} (figure also quoted in README.md "
        "'What it costs')",
        "source_dated": "not dated on the page; re-check",
        "checked_on": transcribe_pricing.PRICE_CHECKED_ON,
    },
    "lambda_requests_per_million": {
        "usd": 0.20,
        "unit": "1,000,000 invocations (x86_64 and arm64)",
        "source": "https://aws.amazon.com/lambda/pricing/ (as tabulated in "
        "https://git.mcrn.ar/mariano/lambda_local_runner docs/lambdas-md/lambda-13-cost.md)",
        "source_dated": "undated secondary page, read 2026-11-25",
        "checked_on": CHECKED_ON,
    },
    "lambda_arm64_gb_second": {
        "usd": 0.0000133334,
        "unit": "GB-second, arm64, first 7.5 billion GB-s/month tier",
        "source": "https://aws.amazon.com/lambda/pricing/ (as tabulated in "
        "https://cloudchipr.com/blog/aws-lambda-pricing)",
        "source_dated": "2024 (page title 'Ultimate Guide 2024')",
        "checked_on": CHECKED_ON,
    },
    "sqs_standard_requests_per_million": {
        "usd": 0.40,
        "unit": "1,000,000 standard-queue requests (each 64 KB chunk is one request)",
        "source": "https://aws.amazon.com/sqs/pricing/ (as tabulated in "
        "https://cloudburn.io/blog/amazon-sqs-pricing)",
        "source_dated": "2026-03-14",
        "checked_on": CHECKED_ON,
    },
    "s3_standard_put_copy_post_list_per_1000": {
        "usd": 0.005,
        "unit": "1,000 PUT, COPY, POST or LIST requests, S3 Standard",
        "source": "https://aws.amazon.com/s3/pricing/ (as tabulated in "
        "https://c3x.dev/blog/s3-request-fees-explained)",
        "source_dated": "undated secondary page, read 2026-11-25",
        "checked_on": CHECKED_ON,
    },
    "s3_standard_get_head_per_1000": {
        "usd": 0.0004,
        "unit": "1,000 GET, HEAD or SELECT requests, S3 Standard",
        "source": "https://aws.amazon.com/s3/pricing/ (as tabulated in "
        "https://c3x.dev/blog/s3-request-fees-explained)",
        "source_dated": "undated secondary page, read 2026-11-25",
        "checked_on": CHECKED_ON,
    },
    "s3_standard_storage_gb_month": {
        "usd": 0.023,
        "unit": "GB-month, S3 Standard, first 50 TB/month",
        "source": "https://aws.amazon.com/s3/pricing/",
        "source_dated": "not retrieved in this session; long-standing list price, re-check",
        "checked_on": CHECKED_ON,
    },
    "eventbridge_custom_events_per_million": {
        "usd": 1.00,
        "unit": "1,000,000 custom events put on an event bus (each 64 KB chunk is one event)",
        "source": "https://aws.amazon.com/eventbridge/pricing/",
        "source_dated": "not dated on the page; long-standing list price, re-check",
        "checked_on": CHECKED_ON,
    },
    "dynamodb_on_demand_wru_per_million": {
        "usd": 0.625,
        "unit": "1,000,000 write request units, on-demand, standard table class (1 KB each)",
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/ (as tabulated in "
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing, after the "
        "November 2024 reduction)",
        "source_dated": "2025-07-21",
        "checked_on": "2026-12-01",
    },
    "dynamodb_on_demand_rru_per_million": {
        "usd": 0.125,
        "unit": "1,000,000 read request units, on-demand, standard table class (4 KB each)",
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/ (as tabulated in "
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing)",
        "source_dated": "2025-07-21",
        "checked_on": "2026-12-01",
    },
    "eventbridge_aws_service_events": {
        "usd": 0.0,
        "unit": "event: AWS service events (S3 Object Created, Transcribe Job State Change) "
        "delivered to the default bus are free",
        "source": "https://aws.amazon.com/eventbridge/pricing/",
        "source_dated": "not dated on the page; re-check",
        "checked_on": CHECKED_ON,
    },
}


def usd(name: str) -> float:
    """The price in USD per unit of ``name``."""
    return PRICES[name]["usd"]
