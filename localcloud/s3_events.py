"""S3's event notifications in the local cloud: keys encoded as S3 encodes them, sent as S3 sends.

moto puts the raw object key in both kinds of S3 event (notification records and the
EventBridge event), a fixed sequencer, request id and event id, a `reason` that is not S3's,
and invokes notification functions inside the upload request. `install()` replaces those
pieces: keys are encoded by `transcribe_pipeline.keys.encode_event_key`, the pipeline's one
home of S3's key encoding (docs/local-cloud.md, "S3 events"), sequencers increase, the
EventBridge event has the shape of AWS's published sample and goes to the default bus only,
and notification functions are invoked asynchronously (`lambda_invoke`).
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.events.models import EventsBackend, events_backends
from moto.s3 import notifications as s3_notifications
from moto.s3.models import S3Backend

from localcloud import event_targets, lambda_invoke
from transcribe_pipeline.keys import encode_event_key

logger = logging.getLogger(__name__)


@dataclass
class _State:
    originals: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sequencer: int = 0
    # Set while moto completes a multipart upload (see _complete_multipart_upload).
    completing: threading.local = field(default_factory=threading.local)


_state = _State()


def install() -> None:
    """Patch moto's S3 notification and EventBridge event building (idempotent)."""
    with _state.lock:
        if _state.originals:
            return
        _state.originals = {
            "_send_event_bridge_message": s3_notifications._send_event_bridge_message,
            "_get_s3_event": s3_notifications._get_s3_event,
            "_invoke_awslambda": s3_notifications._invoke_awslambda,
            "send_event": s3_notifications.send_event,
            "complete_multipart_upload": S3Backend.complete_multipart_upload,
        }
        s3_notifications._send_event_bridge_message = _send_s3_event_bridge_message
        s3_notifications._get_s3_event = _get_s3_event
        s3_notifications._invoke_awslambda = _invoke_s3_notification_lambda
        s3_notifications.send_event = _send_event
        S3Backend.complete_multipart_upload = _complete_multipart_upload  # type: ignore[method-assign]


def _complete_multipart_upload(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
    """moto's, without the PutObject event of the object it stores on the way.

    moto completes an upload by calling its own put_object (which sends "ObjectCreated:Put")
    and then sends "ObjectCreated:CompleteMultipartUpload": two events, two sequencers, for
    one object version. S3 sends the second only.
    """
    _state.completing.active = True
    try:
        return _state.originals["complete_multipart_upload"](self, *args, **kwargs)
    finally:
        _state.completing.active = False


def _send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    if getattr(_state.completing, "active", False) and (
        event_name == s3_notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT
    ):
        return
    _state.originals["send_event"](account_id, event_name, bucket, key)


def _get_s3_event(
    event_name: str, bucket: Any, key: Any, notification_id: str
) -> dict[str, list[dict[str, Any]]]:
    # moto encodes '/' too; S3 keeps it, as in the EventBridge events below.
    record: dict[str, list[dict[str, Any]]] = _state.originals["_get_s3_event"](
        event_name, bucket, key, notification_id
    )
    for entry in record["Records"]:
        entry["s3"]["object"]["key"] = encode_event_key(key.name)
        entry["s3"]["object"]["sequencer"] = _sequencer()
        if getattr(key, "version_id", None) not in (None, "null"):
            entry["s3"]["object"]["versionId"] = key.version_id
    return record


def _invoke_s3_notification_lambda(
    account_id: str, event_body: Any, fn_arn: str, region_name: str
) -> None:
    # S3 invokes notification functions asynchronously; moto ran them inside the upload.
    try:
        function = get_lambda_backend(account_id, region_name).get_function(fn_arn)
    except event_targets.DELIVERY_ERRORS as exc:
        logger.warning("S3 notification target %s: %s", fn_arn, exc)
        return
    lambda_invoke.invoke_async(function, event_body)


def _sequencer() -> str:
    with _state.lock:
        _state.sequencer = max(_state.sequencer + 1, time.time_ns() // 1000)
        return f"{_state.sequencer:016X}"


_S3_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "Delete": "DeleteObject",
    "DeleteMarkerCreated": "DeleteObject",
}


def s3_event_bridge_event(
    account_id: str, bucket: Any, event_name: str, key: Any
) -> dict[str, Any]:
    """The EventBridge event S3 emits for an object (AWS's published sample shape)."""
    detail_type = s3_notifications._detail_type(event_name)
    action = event_name.rsplit(":", maxsplit=1)[-1]
    obj: dict[str, Any] = {"key": encode_event_key(key.name)}
    if detail_type != "Object Deleted":
        obj["size"] = int(key.size)
        obj["etag"] = str(key.etag).replace('"', "")
    version_id = getattr(key, "version_id", None)
    if version_id not in (None, "null"):
        obj["version-id"] = str(version_id)
    obj["sequencer"] = _sequencer()
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        ),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _S3_REASONS.get(action, action),
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = (
            "Delete Marker Created" if action == "DeleteMarkerCreated" else "Permanently Deleted"
        )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": event_targets.iso_time(time.time()),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _send_s3_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    try:
        event = s3_event_bridge_event(account_id, bucket, event_name, key)
    except ValueError as exc:  # an S3 event type EventBridge does not carry
        logger.debug("No EventBridge event for %s: %s", event_name, exc)
        return
    backend: EventsBackend = events_backends[account_id][bucket.region_name]
    # S3 sends to the default bus of the bucket's account and region only.
    bus = backend.event_buses.get("default")
    if bus is None:
        return
    event["ingestion-time"] = time.time()
    for rule in list(bus.rules.values()):
        rule.send_to_targets(event)  # type: ignore[arg-type]
