"""The pipeline's own CloudWatch metrics: names and dimensions the alarms read."""

from __future__ import annotations

# Put by the sweeper (PutMetricData) in the stack's namespace (METRICS_NAMESPACE).
STUCK_JOBS_METRIC = "StuckJobs"
SWEEP_FAILURES_METRIC = "SweepFailures"
HARVESTED_BY_SWEEPER_METRIC = "HarvestedBySweeper"
# Gauges: the ledger's open items a sweep found, and how long the oldest still open after it
# has been open (seconds).
OPEN_ITEMS_METRIC = "OpenItems"
SWEEP_BACKLOG_METRIC = "SweepBacklogSeconds"
# Emitted by the start function as CloudWatch embedded metric format log lines, one per
# rejected upload, with the rejection's class (keys.RejectionClass) as this dimension.
REJECTED_INPUTS_METRIC = "RejectedInputs"
REASON_DIMENSION = "Reason"
