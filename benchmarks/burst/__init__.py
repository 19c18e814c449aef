"""A burst of uploads through the real start/harvest/sweep code, on a simulated clock.

Run: ``.venv/bin/python -m benchmarks.burst [--uploads 10000] [--seed 7] [--max-attempts 4]
[--no-pacing] [--finished-in-lookback 100000] [--lost-event-fraction 0.01]``

The model (everything in memory, no real sleeps; time is a simulated clock in seconds):

- **Uploads**: ``uploads`` object versions land in the input bucket within ``upload_window``
  seconds (an archive dropped at once). Each "Object Created" event is sent to the start
  queue, and ``duplicate_rate`` of them twice (S3 and EventBridge deliver at least once).
- **Start queue (SQS)**: batches of up to 10, visibility timeout 360 s, redrive to the DLQ on
  the receive after the 10th (``maxReceiveCount`` 10), at most 5 concurrent batches (the event
  source mapping's maximum concurrency). A message whose record fails (partial batch
  response) or whose invocation times out (60 s, the function timeout) becomes visible again
  when its visibility timeout ends, as on AWS; one whose start was still throttled gets the
  shorter timeout the function sets (``throttling.requeue_delay_seconds``).
- **Ledger**: the real ``transcribe_pipeline.ledger.Ledger`` on a DynamoDB table kept in
  memory (``memory_table.py``; ``wiring.py`` says why not moto's), which the start and
  harvest code write and the sweeper reads: one store.
- **Start function**: each record goes through the real
  ``transcribe_pipeline.starter.start_transcription``, and a rejection's outcome is announced
  as its handler does; a record takes ``call_latency``.
  Its client (``throttling.StartClient``) is modelled on the simulated clock with its real
  parts: each execution environment's ``Pacer`` spaces StartTranscriptionJob calls at the
  stack's share of the quota (25 TPS / 5 concurrent batches = 5 per second; ``--no-pacing``
  leaves it out), and a call ``is_retryable`` calls retryable waits ``backoff_seconds`` and is
  made again, up to ``max_attempts`` (``--max-attempts 1``: every throttle re-queues). When
  the attempts are spent the real ``ClientError`` reaches the starter, which raises it: the
  item goes back to SQS. A permanent "too long" refusal is not retried.
- **Fake Transcribe**: StartTranscriptionJob is a token bucket of 25 calls per second
  (``LimitExceededException``/``ThrottlingException`` beyond it, chosen at random); 250 jobs
  run at once, the rest wait as QUEUED (deferred execution), at most 10,000 queued; job names
  are unique (``ConflictException``). Durations are lognormal (median ``job_median`` s).
  ``too_long_rate`` of the media is refused as too long (permanent ``LimitExceededException``)
  and ``failed_job_rate`` of the jobs end FAILED. It lists jobs newest first, as the service
  does. ``finished_in_lookback`` jobs of the pipeline finished (and were harvested) in the day
  before the burst: Transcribe lists them after the burst's own.
- **Completion events**: a finished job writes ``<job>.json`` (and ``.srt``) to the output
  bucket and emits its state-change event ``event_delay`` s later, except ``drop_rate`` of
  them (lost); ``duplicate_rate`` are delivered twice. The event handler runs the real
  ``transcribe_pipeline.harvest.harvest`` and announces the outcome (``announce_pending``,
  to a fake EventBridge that counts the outcome events of each version).
- **Sweeper**: the real sweeper every ``sweep_interval`` s (grace 2 min), harvesting and
  announcing through the same code (``wiring.py`` builds what it is given). Its sweeps take
  simulated time (``sweeping.py``): each call it makes, its ledger calls included, waits for
  Transcribe's request-rate quota (GetTranscriptionJob 30/s, ListTranscriptionJobs 5/s) and
  then its latency (``latency.py``: assumptions, in one place), while uploads, jobs and
  events go on; the function's timeout (10 min) ends a sweep where it is. The start and event
  functions' own calls, ledger calls included, take no time beyond ``call_latency`` per
  start. The run ends with the first sweep that finds nothing
  left to do once every job has finished.

Sweep figures: the longest sweep, how many the timeout ended, and the longest time from the
finish of a job whose completion event was lost to its harvest by the sweeper.

"Time to start" runs from the first upload to the last job created; its floor is the number
of StartTranscriptionJob calls that must succeed (jobs plus permanent refusals) / 25 TPS.
"""

from benchmarks.burst.scenario import GOAL_MISSED, BurstResult, Scenario
from benchmarks.burst.simulation import simulate

__all__ = ["GOAL_MISSED", "BurstResult", "Scenario", "simulate"]
