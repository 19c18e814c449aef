"""Amazon Transcribe's default batch quotas and the start queue's settings.

One home for numbers that the stack configures, the functions rely on and the burst model
simulates. Transcribe's quotas are adjustable per account (docs/transcribe-api.md, "Quotas").
"""

# Amazon Transcribe defaults: StartTranscriptionJob calls per second, jobs running at once,
# and jobs waiting as QUEUED with deferred execution.
START_CALLS_PER_SECOND = 25
MAX_CONCURRENT_JOBS = 250
MAX_QUEUED_JOBS = 10_000
# Request-rate quotas (calls per second, per account and Region) of the calls the sweeper makes.
GET_JOB_CALLS_PER_SECOND = 30
LIST_JOBS_CALLS_PER_SECOND = 5

# The start queue and its function (stacks/job_starter.py builds them from these).
START_BATCH_SIZE = 10
START_FUNCTION_TIMEOUT_SECONDS = 60
# AWS asks for a visibility timeout of at least 6x the function timeout for SQS sources.
START_QUEUE_VISIBILITY_TIMEOUT_SECONDS = 6 * START_FUNCTION_TIMEOUT_SECONDS
# Throttled starts come back sooner (30 s, doubling, at most 5 min: throttling.py), so 10
# receives give a throttled upload ~40 min before the DLQ; a failing one gets ~1 hour.
START_QUEUE_MAX_RECEIVES = 10

# The sweeper function's timeout: Lambda ends a sweep that runs longer.
SWEEPER_FUNCTION_TIMEOUT_SECONDS = 600
