"""CloudFormation custom resource: fail the deploy when a named Transcribe resource is unusable."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcribe_pipeline.clients import client
from transcribe_pipeline.resource_check import outcome, response

logger = Logger()
transcribe = client("transcribe")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Check the resources and always answer CloudFormation, or the stack waits for an hour."""
    try:
        answer = outcome(event, transcribe=transcribe)
    except Exception as error:  # answered as FAILED below: CloudFormation must hear of it
        logger.exception("The check itself failed")
        answer = response(event, "FAILED", f"The check of Transcribe resources failed: {error}")
    logger.info("Answering CloudFormation", extra={"status": answer["Status"]})
    send(str(event["ResponseURL"]), answer)


def send(url: str, answer: dict[str, Any]) -> None:
    """PUT the answer to the pre-signed ResponseURL (no Content-Type: the URL is signed without)."""
    body = json.dumps(answer).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()
