"""How long each call of a sweep takes in the burst model, and the quotas that pace them.

ASSUMPTIONS TO CHANGE: the latencies below are round figures for a Lambda function calling the
service in its own Region, not measurements. They are the one place the model takes them from;
change them here (and in README.md's table of them) when measured figures are known.
The quotas are Amazon Transcribe's documented defaults (docs/transcribe-api.md, "Request-rate
quotas"), from ``transcribe_pipeline.limits``.
"""

from __future__ import annotations

from transcribe_pipeline.limits import GET_JOB_CALLS_PER_SECOND, LIST_JOBS_CALLS_PER_SECOND

# Seconds one call takes, by API operation name (assumptions, see above).
CALL_SECONDS: dict[str, float] = {
    # Amazon Transcribe
    "GetTranscriptionJob": 0.060,
    "ListTranscriptionJobs": 0.150,  # one page of up to 100 summaries
    # Amazon S3
    "HeadObject": 0.020,
    "GetObject": 0.030,
    "PutObject": 0.040,
    "CopyObject": 0.040,
    "DeleteObject": 0.020,
    # Amazon DynamoDB
    "Query": 0.010,  # one page
    "GetItem": 0.010,
    "PutItem": 0.010,
    "UpdateItem": 0.010,
    "TransactWriteItems": 0.020,
    # Announcements
    "Publish": 0.030,  # SNS
    "PutEvents": 0.030,  # EventBridge
}

# Calls per second the account may make, by operation. The model lets a call beyond wait for its
# turn, as if the client were paced at the quota (the SDK's adaptive retry mode slows a client
# down after throttling answers, docs/sdk-retries.md): a best case for the sweeper.
CALLS_PER_SECOND: dict[str, float] = {
    "GetTranscriptionJob": GET_JOB_CALLS_PER_SECOND,
    "ListTranscriptionJobs": LIST_JOBS_CALLS_PER_SECOND,
}


def operation_name(method: str) -> str:
    """The API operation of a boto3 method name: ``head_object`` -> ``HeadObject``."""
    return "".join(part.title() for part in method.split("_"))
