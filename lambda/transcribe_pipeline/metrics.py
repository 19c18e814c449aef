"""The pipeline's own CloudWatch metrics: names and dimensions the alarms read."""

from __future__ import annotations

# Put by the sweeper (PutMetricData) in the stack's namespace (METRICS_NAMESPACE).
STUCK_JOBS_METRIC = "StuckJobs"
SWEEP_FAILURES_METRIC = "SweepFailures"
# Emitted by the start function as CloudWatch embedded metric format log lines, one per
# rejected upload, with the rejection's class (keys.RejectionClass) as this dimension.
REJECTED_INPUTS_METRIC = "RejectedInputs"
REASON_DIMENSION = "Reason"
