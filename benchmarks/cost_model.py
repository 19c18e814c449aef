"""The pipeline's own AWS cost per hour of audio, next to Amazon Transcribe's price.

Per file: the S3 upload event goes through EventBridge (free: AWS service event) to the
start queue (SQS send, receive, delete), the start function (one invocation) starts a job;
Transcribe reads the media and writes its JSON; the job-state event (free) invokes the
state function, which reads the JSON, writes the readable outputs, records the outcome in the
ledger and puts one outcome event. Request counts below are the model's assumptions (counted
from one upload's path through the functions against moto); Lambda durations are the
ones measured on the local cloud (a stand-in: real Lambda at 256 MB arm64 will differ).
Fixed monthly costs that do not depend on the number of files (the scheduled sweeper,
Lambda's idle SQS long polling) are reported separately. Prices: benchmarks/prices.py.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.prices import PRICES, usd

MEMORY_GB = 256 / 1024
# Requests per file, by kind (see module docstring).
PER_FILE = {
    "lambda_invocations": 2,  # start_transcription (batches of up to 10: 1 is the worst case)
    "sqs_requests": 3,  # SendMessage (EventBridge target), ReceiveMessage, DeleteMessage
    # PUT upload; Transcribe's <job>.json, .srt, .vtt; our .txt, .json, .srt, .vtt
    "s3_tier1": 8,
    "s3_tier2": 3,  # GET media (Transcribe), HEAD source, GET Transcribe JSON
    # The ledger (docs/ledger.md), per file: 6 writes of the version item (receive, started,
    # the outcome, the announcement's claim, sent, settled), 1 of the head, and a transaction
    # (the outcome with the head's condition check: 2 items at twice the standard cost) = 11
    # write units on the table; the version item is in both indexes while open, so each of
    # its writes is written again to each index that holds it: about 11 more.
    "dynamodb_write_units": 22,
    "dynamodb_read_units": 3,  # GetItem x2 and Query x1 (items under 4 KB)
    "custom_events": 1,  # the outcome event (PutEvents on the default bus)
}
DEFAULT_DURATION_MS = 1000.0  # used only when no measured duration is available
SWEEP_INTERVAL_MINUTES = 15  # stacks/config.py default
LAMBDA_SQS_POLLERS = 5  # Lambda's minimum pollers for an SQS event source
LONG_POLL_SECONDS = 20
HOURS_PER_MONTH = 730


def per_file(
    audio_minutes: float,
    durations_ms: dict[str, float],
    output_bytes_per_audio_second: float,
) -> dict[str, float]:
    """USD for one file of ``audio_minutes``: each part of the pipeline, and Transcribe."""
    invocation_ms = durations_ms.get("start_transcription", DEFAULT_DURATION_MS) + durations_ms.get(
        "job_state_change", DEFAULT_DURATION_MS
    )
    output_gb = output_bytes_per_audio_second * audio_minutes * 60 / 1024**3
    parts = {
        "lambda_requests": PER_FILE["lambda_invocations"]
        * usd("lambda_requests_per_million")
        / 1e6,
        "lambda_gb_s": MEMORY_GB * invocation_ms / 1000 * usd("lambda_arm64_gb_second"),
        "sqs": PER_FILE["sqs_requests"] * usd("sqs_standard_requests_per_million") / 1e6,
        "eventbridge": 2 * usd("eventbridge_aws_service_events")
        + PER_FILE["custom_events"] * usd("eventbridge_custom_events_per_million") / 1e6,
        "dynamodb": PER_FILE["dynamodb_write_units"]
        * usd("dynamodb_on_demand_wru_per_million")
        / 1e6
        + PER_FILE["dynamodb_read_units"] * usd("dynamodb_on_demand_rru_per_million") / 1e6,
        "s3_requests": PER_FILE["s3_tier1"] * usd("s3_standard_put_copy_post_list_per_1000") / 1e3
        + PER_FILE["s3_tier2"] * usd("s3_standard_get_head_per_1000") / 1e3,
        "s3_output_storage_month": output_gb * usd("s3_standard_storage_gb_month"),
    }
    billed_minutes = max(audio_minutes, 0.25)  # 15 s minimum per job
    return {
        **parts,
        "pipeline_total": sum(parts.values()),
        "transcribe": billed_minutes * usd("transcribe_batch_per_minute"),
    }


def model(durations_ms: dict[str, float], output_bytes_per_audio_second: float) -> dict[str, Any]:
    """Cost per hour of audio for files of 1 and 10 minutes, plus fixed monthly costs."""
    rows = []
    for minutes in (1, 10):
        files_per_hour = 60 / minutes
        one = per_file(minutes, durations_ms, output_bytes_per_audio_second)
        hour = {k: v * files_per_hour for k, v in one.items()}
        rows.append({
            "file_minutes": minutes,
            "per_hour_of_audio_usd": {k: round(v, 6) for k, v in hour.items()},
            "pipeline_share_of_transcribe_pct": round(
                100 * hour["pipeline_total"] / hour["transcribe"], 3
            ),
        })  # fmt: skip
    sweeper_ms = durations_ms.get("sweeper", DEFAULT_DURATION_MS)
    sweeps = HOURS_PER_MONTH * 60 / SWEEP_INTERVAL_MINUTES
    polls = LAMBDA_SQS_POLLERS * HOURS_PER_MONTH * 3600 / LONG_POLL_SECONDS
    sweep_usd = usd("lambda_requests_per_million") / 1e6 + MEMORY_GB * sweeper_ms / 1000 * usd(
        "lambda_arm64_gb_second"
    )
    fixed = {
        "sweeper_lambda": sweeps * sweep_usd,
        "sqs_idle_long_polling": polls * usd("sqs_standard_requests_per_million") / 1e6,
    }
    return {
        "assumptions": {
            "per_file_requests": PER_FILE,
            "lambda_memory_mb": 256,
            "lambda_architecture": "arm64",
            "durations_ms": durations_ms,
            "output_bytes_per_audio_second": output_bytes_per_audio_second,
            "output_storage": "one month of S3 Standard for what the pipeline writes",
            "free_tiers": "ignored",
        },
        "rows": rows,
        "fixed_per_month_usd": {k: round(v, 4) for k, v in fixed.items()},
        "prices": PRICES,
    }


if __name__ == "__main__":
    print(json.dumps(model({}, 100.0), indent=2))
