"""SQS event-source mappings for the local cloud: a background poller per mapping.

moto 5.2.5 invokes mapped functions inside `Queue.add_message` (so inside SendMessage, or the
S3 upload that led to it), one message at a time with a fake `ApproximateReceiveCount`, and
ignores batch windows, partial batch responses and concurrency. `install()` removes that and
runs, per enabled mapping, a poller that behaves like Lambda's: batches of up to BatchSize
within MaximumBatchingWindowInSeconds, the queue's visibility timeout, real receive counts and
redrive to the DLQ (moto's own ReceiveMessage does both), `ReportBatchItemFailures`, and
ScalingConfig.MaximumConcurrency batches at a time. Mappings created, updated, disabled or
deleted at runtime are picked up within one poll interval.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.models import EventSourceMapping
from moto.core.exceptions import ServiceException
from moto.sqs import models as sqs_models
from moto.sqs.models import Message, Queue, sqs_backends
from werkzeug.exceptions import HTTPException

from localcloud import lambda_processes

logger = logging.getLogger(__name__)

# Lambda scales SQS pollers up to 1000 concurrent batches; a laptop with two cores cannot, so
# a mapping without ScalingConfig.MaximumConcurrency gets this many.
DEFAULT_MAX_CONCURRENCY = 5
# moto's ReceiveMessage is not thread-safe: our pollers take turns.
_RECEIVE_LOCK = threading.Lock()
_LookupError = (ServiceException, HTTPException, KeyError)


@dataclass
class _State:
    originals: dict[str, Any] = field(default_factory=dict)
    manager: _Manager | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def install(
    *, poll_interval_seconds: float = 0.2, default_max_concurrency: int = DEFAULT_MAX_CONCURRENCY
) -> None:
    """Replace moto's in-request SQS -> Lambda delivery with background pollers (idempotent)."""
    with _state.lock:
        if not _state.originals:
            _state.originals = {"add_message": Queue.add_message}
            Queue.add_message = _add_message  # type: ignore[method-assign]
        if _state.manager is None:
            _state.manager = _Manager(poll_interval_seconds, default_max_concurrency)
            _state.manager.start()
    logger.info("SQS event-source mapping pollers installed")


def shutdown() -> None:
    """Stop every poller (running batches finish or are killed by lambda_processes.shutdown)."""
    with _state.lock:
        manager, _state.manager = _state.manager, None
    if manager is not None:
        manager.stop()


def _add_message(self: Queue, message: Message) -> None:
    # moto's add_message without its synchronous Lambda invocation; pollers are woken by the
    # queue's condition instead.
    if self.fifo_queue and (
        self.attributes.get("ContentBasedDeduplication") == "true" or message.deduplication_id
    ):
        for existing in list(self._messages):
            if existing.deduplication_id == message.deduplication_id:
                diff = message.sent_timestamp - existing.sent_timestamp  # type: ignore[operator]
                if diff / 1000 < sqs_models.DEDUPLICATION_TIME_IN_SECONDS:
                    return
    with self._messages_lock:
        self._messages.append(message)
        self._messages_lock.notify_all()


def sqs_record(message: Message, queue: Queue) -> dict[str, Any]:
    """The Lambda event record for an SQS message (the shape Lambda's SQS poller sends)."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if queue.fifo_queue:
        attributes["MessageGroupId"] = str(message.group_id)
        attributes["MessageDeduplicationId"] = str(message.deduplication_id)
        if message.sequence_number:
            attributes["SequenceNumber"] = str(message.sequence_number)
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.message_attributes.items()
        },
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.queue_arn,
        "awsRegion": queue.region,
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if value.get("StringValue") is not None:
        converted["stringValue"] = value["StringValue"]
    binary = value.get("BinaryValue")
    if binary is not None:
        converted["binaryValue"] = (
            base64.b64encode(binary).decode("ascii") if isinstance(binary, bytes) else binary
        )
    return converted


class _Manager(threading.Thread):
    """Starts a poller per enabled SQS mapping and stops it when the mapping goes away."""

    def __init__(self, interval: float, default_max_concurrency: int) -> None:
        super().__init__(name="sqs-mapping-manager", daemon=True)
        self.interval = interval
        self.default_max_concurrency = default_max_concurrency
        self.stopped = threading.Event()
        self.pollers: dict[str, _Poller] = {}

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        for poller in self.pollers.values():
            poller.stop()
        for poller in self.pollers.values():
            poller.join(timeout=5)

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.reconcile()
            except RuntimeError:
                # A backend dict changed size while we looked: look again next time.
                logger.debug("mappings changed during reconcile", exc_info=True)
            self.stopped.wait(self.interval)

    def reconcile(self) -> None:
        wanted: dict[str, EventSourceMapping] = {}
        for account in list(lambda_models.lambda_backends.values()):
            for backend in list(account.values()):
                for uuid, mapping in list(backend._event_source_mappings.items()):
                    if mapping.enabled and ":sqs:" in mapping.event_source_arn:
                        wanted[uuid] = mapping
        for uuid, poller in list(self.pollers.items()):
            if wanted.get(uuid) is not poller.mapping or not poller.is_alive():
                poller.stop()
                del self.pollers[uuid]
        for uuid, mapping in wanted.items():
            if uuid not in self.pollers:
                poller = _Poller(mapping, self.interval, self.default_max_concurrency)
                self.pollers[uuid] = poller
                poller.start()
                logger.info("Polling %s for %s", mapping.event_source_arn, mapping.function_arn)


class _Poller(threading.Thread):
    """Lambda's SQS poller for one mapping."""

    def __init__(self, mapping: EventSourceMapping, interval: float, default_max: int) -> None:
        super().__init__(name=f"sqs-poller-{mapping.uuid[:8]}", daemon=True)
        self.mapping = mapping
        self.interval = interval
        self.default_max = default_max
        self.stopped = threading.Event()
        self.in_flight = 0
        self.slots = threading.Condition()
        arn = mapping.event_source_arn.split(":")
        self.region, self.account, self.queue_name = arn[3], arn[4], arn[5]

    def stop(self) -> None:
        self.stopped.set()
        with self.slots:
            self.slots.notify_all()

    def max_concurrency(self) -> int:
        scaling = self.mapping.scaling_config or {}
        return max(1, int(scaling.get("MaximumConcurrency") or self.default_max))

    def queue(self) -> Queue | None:
        try:
            return sqs_backends[self.account][self.region].get_queue(self.queue_name)
        except _LookupError:
            return None

    def run(self) -> None:
        idle_polls = 0
        while not self.stopped.is_set():
            with self.slots:
                self.slots.wait_for(
                    lambda: self.stopped.is_set() or self.in_flight < self.max_concurrency()
                )
            queue = self.queue()
            if self.stopped.is_set():
                return
            if queue is None:
                self.stopped.wait(self.interval)
                continue
            batch = self.collect(queue)
            if not batch:
                idle_polls += 1
                # Wake as soon as a message arrives; if visible messages cannot be received
                # (a FIFO group in flight), back off instead of spinning.
                if idle_polls > 1 and queue.messages:
                    self.stopped.wait(self.interval)
                else:
                    queue.wait_for_messages(self.interval)  # type: ignore[arg-type]
                continue
            idle_polls = 0
            with self.slots:
                self.in_flight += 1
            threading.Thread(
                target=self.process, args=(queue, batch), name=f"{self.name}-batch", daemon=True
            ).start()

    def receive(self, queue: Queue, count: int) -> list[Message]:
        with _RECEIVE_LOCK:
            return sqs_backends[self.account][self.region].receive_message(
                queue.name,
                count,
                wait_seconds_timeout=0,
                visibility_timeout=int(queue.visibility_timeout),  # type: ignore[attr-defined]
                message_attribute_names=["All"],
            )

    def collect(self, queue: Queue) -> list[Message]:
        """Receive up to BatchSize messages, waiting at most the batching window for more."""
        batch_size = int(self.mapping.batch_size)
        window = float(self.mapping.max_batch_window or 0)
        batch = self.receive(queue, batch_size)
        if not batch or window <= 0:
            return batch
        deadline = time.monotonic() + window
        while len(batch) < batch_size and not self.stopped.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            queue.wait_for_messages(min(remaining, self.interval))  # type: ignore[arg-type]
            for message in self.receive(queue, batch_size - len(batch)):
                # A window longer than the visibility timeout can receive a message twice:
                # keep one record, with the newest receipt handle and receive count.
                batch = [m for m in batch if m.id != message.id] + [message]
        return batch

    def process(self, queue: Queue, batch: list[Message]) -> None:
        """Invoke the function with one batch and delete what it processed."""
        try:
            self._invoke(queue, batch)
        except Exception:  # a bug here must not silently stop the poller's bookkeeping
            logger.exception("Batch from %s failed in the local cloud", queue.name)
            raise
        finally:
            with self.slots:
                self.in_flight -= 1
                self.slots.notify_all()

    def _invoke(self, queue: Queue, batch: list[Message]) -> None:
        backend = lambda_models.lambda_backends[self.account][self.region]
        try:
            function = backend.get_function(self.mapping.function_arn)
        except _LookupError as exc:
            logger.warning("Mapping %s: function missing (%s)", self.mapping.uuid, exc)
            return
        event = {"Records": [sqs_record(message, queue) for message in batch]}
        result = lambda_processes.run_function(function, event)
        if result.errored:
            # The whole batch becomes visible again when its visibility timeout expires.
            logger.info(
                "%s failed on %d messages from %s (%s)",
                function.function_name,
                len(batch),
                queue.name,
                result.error_type,
            )
            return
        failed = self._failed_ids(batch, result.payload_json())
        if failed is None:
            logger.info(
                "%s returned invalid batchItemFailures: batch retried", function.function_name
            )
            return
        sqs = sqs_backends[self.account][self.region]
        for message in batch:
            if message.id in failed:
                continue
            try:
                sqs.delete_message(queue.name, str(message.receipt_handle))
            except _LookupError as exc:
                # Gone already (queue deleted or purged): nothing left to delete.
                logger.debug("Could not delete %s: %s", message.id, exc)

    def _failed_ids(self, batch: list[Message], response: Any) -> set[str] | None:
        """Ids reported as failed ({} when all succeeded; None when the report is invalid)."""
        if "ReportBatchItemFailures" not in (self.mapping.function_response_types or []):
            return set()
        if not isinstance(response, dict) or not response.get("batchItemFailures"):
            return set()
        failures = response["batchItemFailures"]
        ids = {message.id for message in batch}
        failed: set[str] = set()
        for failure in failures if isinstance(failures, list) else [None]:
            item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            # An empty or unknown identifier makes Lambda retry the whole batch.
            if not item or item not in ids:
                return None
            failed.add(str(item))
        return failed
