"""SQS batch of S3 "Object Created" events -> one Transcribe job per object version."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from transcribe_pipeline.announce import announce_pending
from transcribe_pipeline.clients import client, single_attempt_client, table
from transcribe_pipeline.keys import RejectionClass
from transcribe_pipeline.ledger import Ledger
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.metrics import REASON_DIMENSION, REJECTED_INPUTS_METRIC
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.starter import (
    ConfigurationFaultError,
    ForeignBucketError,
    NotAnUploadError,
    Outcome,
    start_transcription,
    uploaded_object,
)
from transcribe_pipeline.throttling import (
    CALL_ERRORS,
    Pacer,
    StartClient,
    is_retryable,
    requeue_delay_seconds,
)

logger = Logger()
settings = Settings.from_env()
# Module level, so the Pacer's share of the start quota spans this environment's batches.
transcribe = StartClient(single_attempt_client("transcribe"), Pacer(settings.start_rate_per_second))
s3 = client("s3")
sqs = client("sqs")
sns = client("sns")
events = client("events")
ledger = Ledger(table(settings.require_ledger_table()))
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    """Start the job for one queued event; raising sends just this message back to the queue."""
    try:
        upload = uploaded_object(record.body)
    except NotAnUploadError as error:
        # Only the upload rule may send here (queue policy), and it routes S3's own events:
        # anything else can never succeed, so it is logged and dropped, not retried.
        logger.warning("Ignoring a message that is not an upload", extra={"reason": str(error)})
        return
    obj = upload.obj
    logger.append_keys(source_key=obj.key, source_bucket=obj.bucket)
    try:
        result = start_transcription(
            upload, transcribe=transcribe, s3=s3, ledger=ledger, settings=settings
        )
    except ForeignBucketError as error:
        logger.warning("Ignoring an event for another bucket", extra={"reason": str(error)})
        return
    except ConfigurationFaultError:
        # Retried (then dead-lettered and alarmed) rather than recorded against the file.
        logger.exception("Configuration fault: Transcribe refuses every upload")
        raise
    except CALL_ERRORS as error:
        if is_retryable(error):
            come_back_sooner(record)
        raise
    finally:
        logger.remove_keys(["source_key", "source_bucket"])
    if result.version is not None and result.version.state is State.REJECTED:
        # The rejection's outcome event; or, for a duplicate event, what an earlier attempt
        # could not send. A failure raises: the message is retried. A job's outcome is the
        # job-state function's (and the sweeper's) to announce.
        announce_pending(result.version, ledger=ledger, sns=sns, events=events, settings=settings)
    if result.outcome is Outcome.REJECTED:
        logger.warning(
            "Input rejected",
            extra={
                "job_name": result.job_name,
                "reason": result.reason,
                "reason_class": result.reason_class,
            },
        )
        if result.reason_class is not None:
            count_rejection(result.reason_class)
    else:
        logger.info(
            f"Transcription job {result.outcome.value}",
            extra={"job_name": result.job_name, "sequencer": upload.sequencer},
        )


def count_rejection(reason_class: RejectionClass) -> None:
    """One RejectedInputs data point, by reason class, as an embedded-metric-format log line.

    A log line, not a PutMetricData call: no request, latency or permission per upload
    (docs/cloudwatch-metrics.md).
    """
    # The stack sets it (the rejection-rate alarm reads it); without it rejections are only logged.
    if settings.metrics_namespace is None:
        return
    with single_metric(
        name=REJECTED_INPUTS_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=settings.metrics_namespace,
    ) as metric:
        metric.add_dimension(name=REASON_DIMENSION, value=reason_class.value)


def come_back_sooner(record: SQSRecord) -> None:
    """Shorten the visibility timeout of a message whose start is still throttled.

    The queue's 6-minute timeout suits a crashed batch; a throttled start may succeed in
    seconds, and waiting 6 minutes is what kept a burst far from Transcribe's rate.
    """
    if settings.start_queue_url is None:
        return
    receives = int(record.attributes.approximate_receive_count or 1)
    delay = requeue_delay_seconds(receives)
    try:
        sqs.change_message_visibility(
            QueueUrl=settings.start_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=delay,
        )
    except ClientError:
        # The message still comes back, after the queue's own visibility timeout.
        logger.exception("Could not shorten the visibility timeout")
        return
    logger.warning("Start still throttled", extra={"retry_in_s": delay, "receives": receives})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Process a batch, reporting only the failed messages for retry (ReportBatchItemFailures)."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
