"""A real burst on the local cloud: N uploads end to end, with duplicate and lost events.

Run: ``.venv/bin/python -m benchmarks.local_burst [--uploads 200] [--seed 7]``

``benchmarks/burst/`` simulates 10,000 uploads on a simulated clock; this is its smaller
real counterpart with the same counts: the app deployed to the local cloud with the CDK CLI
(``local_pipeline.deployed_app``), real uploads, real recognition, destroyed afterwards. The
clip is the first sentence of ``samples/hello-pipeline.mp3`` (3 s, cut at an MP3 frame
without re-encoding), uploaded under keys that exercise S3's event-key encoding (spaces,
``+``, ``%``, non-ASCII, nesting).

Faults are injected with the AWS APIs an operator would use, never by changing the stack:

1. **Lost completion events** (``DROP_SHARE`` of the uploads, first): the job-state rule is
   disabled (DisableRule), those files are uploaded, their jobs run to the end, the rule is
   enabled again: their "Transcribe Job State Change" events matched no rule. Once every
   other upload has its outputs and the sweeper's grace (``SWEEP_GRACE_MINUTES``) has passed
   since they finished, the sweeper function is invoked (RequestResponse) until it harvests
   nothing. It must harvest exactly those jobs.
2. **Duplicate upload events** (``DUPLICATE_SHARE``): a second target on the upload rule
   (PutTargets: the same start queue, DeadLetterConfig and RetryPolicy, another Id)
   delivers each of those uploads' events twice, then RemoveTargets. The start function's
   logs must show one "already-started" per duplicate, and Transcribe no second job.
3. **The rest** is uploaded at once (threads), as an archive dropped into the bucket.

Exit 0 only when nothing is lost, no object has two jobs, no dead-letter queue holds a
message, the sweeper harvested exactly the jobs whose event was dropped, and both faults
really happened; otherwise exit 3 (``burst.GOAL_MISSED``; 1 is a crash) with the reasons.
Figures: the table, and ``benchmarks/results/local_burst.json``.
"""

from benchmarks.local_burst.reporting import report, run

__all__ = ["report", "run"]
