"""The deploy-time check of named Transcribe resources, against moto and CloudFormation's protocol.

moto implements vocabularies (GetVocabulary, with its PENDING -> READY states) but neither
GetVocabularyFilter nor DescribeLanguageModel: the tests of filters and language models answer
those two calls with botocore's Stubber, and only those two; everything else is moto.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.transcribe.models import transcribe_backends

from tests.handlers.conftest import REGION
from transcribe_pipeline.resource_check import (
    LANGUAGE_MODEL,
    TOP_LEVEL,
    VOCABULARY,
    VOCABULARY_FILTER,
    NamedResource,
    outcome,
    problems,
    resources_to_json,
)

EVENT = {
    "RequestType": "Create",
    "ResponseURL": "http://127.0.0.1/",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/TranscriptionPipeline/x",
    "RequestId": "0f6e6cb7-6a2f-4e1b-9d8a-1c2f3e4d5a6b",
    "LogicalResourceId": "ResourceCheckResource",
    "ResourceType": "Custom::TranscribeResourceCheck",
}


def ready_vocabulary(cloud, name, language="en-US"):
    cloud.transcribe.create_vocabulary(
        VocabularyName=name, LanguageCode=language, Phrases=["Transcribe"]
    )
    for _ in range(3):  # moto moves a vocabulary one state per Get
        cloud.transcribe.get_vocabulary(VocabularyName=name)


def event_for(*resources, request="Create"):
    return {
        **EVENT,
        "RequestType": request,
        "ResourceProperties": {"Resources": resources_to_json(resources)},
    }


def test_a_ready_vocabulary_passes(cloud):
    ready_vocabulary(cloud, "products")

    answer = outcome(
        event_for(NamedResource("calls/", VOCABULARY, "products", "en-US")),
        transcribe=cloud.transcribe,
    )

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "transcribe-resources-check"


def test_a_missing_vocabulary_fails_the_deploy_naming_the_profile_and_the_name(cloud):
    answer = outcome(
        event_for(NamedResource("lectures/", VOCABULARY, "physics-terms", "en-GB")),
        transcribe=cloud.transcribe,
    )

    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "Transcribe resources not usable: profile 'lectures/': vocabulary 'physics-terms' "
        "does not exist in this account and region"
    )


def test_a_pending_vocabulary_fails_the_deploy_with_its_state(cloud):
    cloud.transcribe.create_vocabulary(VocabularyName="new", LanguageCode="en-US", Phrases=["a"])

    found = problems(
        [NamedResource(TOP_LEVEL, VOCABULARY, "new", "en-US")], transcribe=cloud.transcribe
    )

    assert found == [
        "the top level: vocabulary 'new' is PENDING; a job can use it only once it is ready"
    ]


def test_a_failed_vocabulary_fails_the_deploy_with_its_state(cloud):
    ready_vocabulary(cloud, "broken")
    transcribe_backends[DEFAULT_ACCOUNT_ID][REGION].vocabularies["broken"].status = "FAILED"

    (found,) = problems(
        [NamedResource("calls/", VOCABULARY, "broken", "en-US")], transcribe=cloud.transcribe
    )

    assert found.startswith("profile 'calls/': vocabulary 'broken' is FAILED")


def test_a_vocabulary_in_another_language_fails_the_deploy(cloud):
    ready_vocabulary(cloud, "produits", language="fr-FR")

    found = problems(
        [NamedResource("calls/", VOCABULARY, "produits", "en-US")], transcribe=cloud.transcribe
    )

    assert found == ["profile 'calls/': vocabulary 'produits' is in fr-FR, but is used for en-US"]


def test_a_missing_filter_and_a_failed_model_are_both_reported(cloud):
    # Stubbed: moto implements neither GetVocabularyFilter nor DescribeLanguageModel.
    transcribe = boto3.client("transcribe", region_name=REGION)
    with Stubber(transcribe) as stub:
        stub.add_client_error(
            "get_vocabulary_filter",
            service_error_code="NotFoundException",
            expected_params={"VocabularyFilterName": "profanity"},
        )
        stub.add_response(
            "describe_language_model",
            {
                "LanguageModel": {
                    "ModelName": "physics",
                    "LanguageCode": "en-GB",
                    "BaseModelName": "WideBand",
                    "ModelStatus": "FAILED",
                    "FailureReason": "Not enough training data",
                }
            },
            expected_params={"ModelName": "physics"},
        )

        found = problems(
            [
                NamedResource("calls/", VOCABULARY_FILTER, "profanity", "en-US"),
                NamedResource("lectures/", LANGUAGE_MODEL, "physics", "en-GB"),
            ],
            transcribe=transcribe,
        )

    assert found == [
        "profile 'calls/': vocabulary filter 'profanity' does not exist in this account and region",
        "profile 'lectures/': language model 'physics' is FAILED (Not enough training data); a "
        "job can use it only once it is ready",
    ]


def test_an_existing_filter_and_a_completed_model_pass(cloud):
    transcribe = boto3.client("transcribe", region_name=REGION)
    with Stubber(transcribe) as stub:
        stub.add_response(
            "get_vocabulary_filter",
            {"VocabularyFilterName": "profanity", "LanguageCode": "en-US"},
            expected_params={"VocabularyFilterName": "profanity"},
        )
        stub.add_response(
            "describe_language_model",
            {
                "LanguageModel": {
                    "ModelName": "physics",
                    "LanguageCode": "en-GB",
                    "ModelStatus": "COMPLETED",
                }
            },
            expected_params={"ModelName": "physics"},
        )

        found = problems(
            [
                NamedResource("calls/", VOCABULARY_FILTER, "profanity", "en-US"),
                NamedResource("lectures/", LANGUAGE_MODEL, "physics", "en-GB"),
            ],
            transcribe=transcribe,
        )

    assert found == []


def test_a_delete_succeeds_without_looking_anything_up():
    event = event_for(NamedResource("calls/", VOCABULARY, "gone"), request="Delete")

    answer = outcome({**event, "PhysicalResourceId": "p"}, transcribe=None)

    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "p")


class _Recorder(BaseHTTPRequestHandler):
    """Plays CloudFormation's pre-signed response URL: keeps what is PUT to it."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def response_url():
    """A local URL that records the custom resource's answers."""
    _Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/response", _Recorder.received
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_handler_answers_cloudformation_at_the_response_url(
    cloud, load_handler, context, response_url
):
    url, received = response_url
    event = {**event_for(NamedResource("calls/", VOCABULARY, "missing")), "ResponseURL": url}

    load_handler("transcribe_resources_check").handler(event, context)

    (answer,) = received
    assert answer["Status"] == "FAILED"
    assert "vocabulary 'missing' does not exist" in answer["Reason"]
    assert answer["RequestId"] == EVENT["RequestId"]


def test_a_malformed_request_is_answered_as_failed_rather_than_left_waiting(
    cloud, load_handler, context, response_url
):
    url, received = response_url
    event = {**EVENT, "ResponseURL": url, "ResourceProperties": {"Resources": "not json"}}

    load_handler("transcribe_resources_check").handler(event, context)

    (answer,) = received
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("The check of Transcribe resources failed: ")
