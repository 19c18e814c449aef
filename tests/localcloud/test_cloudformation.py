"""The local cloud's CloudFormation: stacks deploy, update and destroy like the real service.

Two layers: handcrafted templates driven with boto3 (each engine behaviour on its own, with a
real custom-resource function run by the local Lambda executor), and the fixture CDK app
deployed, updated and destroyed with the real CDK CLI.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import cloudformation
from localcloud.cloudformation.custom_resources import stringify_properties
from localcloud.cloudformation.dependencies import dependency_order
from localcloud.deployment import LocalEndpoint, cdk
from localcloud.server import LocalCloud, free_port

pytestmark = pytest.mark.xdist_group("localcloud-cloudformation")

FIXTURE_APP = Path(__file__).resolve().parent / "fixture_app" / "app.py"
FIXTURE_STACK = "LocalCloudFixture"
logger = logging.getLogger(__name__)

# A custom-resource handler that records every event it receives in a bucket, then answers as
# its properties ask: succeed, fail on one request type, or return without answering.
HANDLER_CODE = """
import json, time, urllib.request
import boto3

def handler(event, context):
    props = event["ResourceProperties"]
    key = f"{time.time_ns()}-{event['RequestType']}.json"
    boto3.client("s3").put_object(Bucket=props["LogBucket"], Key=key, Body=json.dumps(event))
    if event["RequestType"] == "Create":
        time.sleep(float(props.get("Sleep", "0")))
    behaviour = props.get("Behaviour", "succeed")
    if behaviour == "silent":
        return
    failed = behaviour == "fail-" + event["RequestType"].lower()
    body = {
        "Status": "FAILED" if failed else "SUCCESS",
        "Reason": "asked to fail" if failed else "",
        "PhysicalResourceId": event.get("PhysicalResourceId") or props.get("Id", "id-1"),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Greeting": "hello " + props.get("Name", "?")},
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT",
        headers={"content-type": ""},
    )
    urllib.request.urlopen(request).read()
"""


class Clients:
    """boto3 clients on the local cloud, and stack helpers."""

    def __init__(self, endpoint: LocalEndpoint) -> None:
        self.endpoint = endpoint.url
        self.cfn = endpoint.client("cloudformation")
        self.s3 = endpoint.client("s3")
        self.lam = endpoint.client("lambda")
        self.sqs = endpoint.client("sqs")
        self.ssm = endpoint.client("ssm")
        self.events = endpoint.client("events")
        self.logs = endpoint.client("logs")

    def stack(self, name: str) -> dict[str, Any]:
        """The stack's description."""
        return dict(self.cfn.describe_stacks(StackName=name)["Stacks"][0])

    def wait_settled(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the stack's status is no longer *_IN_PROGRESS."""
        deadline = time.monotonic() + timeout
        while True:
            stack = self.stack(name)
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} still {stack['StackStatus']} after {timeout}s")
            time.sleep(0.1)

    def outputs(self, name: str) -> dict[str, str]:
        """The stack's outputs as a dict."""
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack(name).get("Outputs", [])}

    def resources(self, name: str) -> dict[str, dict[str, Any]]:
        """The stack's resources by logical id."""
        listed = self.cfn.describe_stack_resources(StackName=name)["StackResources"]
        return {r["LogicalResourceId"]: r for r in listed}

    def recorded_events(self, bucket: str) -> list[dict[str, Any]]:
        """The custom-resource events the handler recorded, oldest first."""
        keys = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        return [json.loads(self.s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]

    def gone(self, name: str) -> bool:
        """Whether DescribeStacks no longer knows the stack by name."""
        try:
            self.stack(name)
        except ClientError as error:
            return "does not exist" in str(error)
        return False


@pytest.fixture(scope="module")
def local_cloud() -> Iterator[LocalCloud]:
    """The whole local cloud in this process, on a free port."""
    with LocalCloud(free_port()) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def clients(local_cloud: LocalCloud) -> Clients:
    """boto3 clients for the module's local cloud."""
    return Clients(LocalEndpoint(local_cloud.port))


@pytest.fixture
def cfn_settings(local_cloud: LocalCloud) -> Iterator[Callable[..., None]]:
    """Change the CloudFormation engine's timings for one test; restored afterwards."""

    def configure(**settings: float) -> None:
        cloudformation.install(endpoint_url=local_cloud.endpoint_url, **settings)

    yield configure
    cloudformation.install(endpoint_url=local_cloud.endpoint_url)


@pytest.fixture
def log_bucket(clients: Clients) -> str:
    """A bucket (outside any stack) where the test handler records the events it receives."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    clients.s3.create_bucket(Bucket=name)
    return name


def _template(
    log_bucket: str,
    *,
    custom: dict[str, Any] | None = None,
    extra_resources: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
) -> str:
    """A stack with a role, the recording handler and one custom resource using it."""
    resources: dict[str, Any] = {
        "HandlerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Statement": []}},
        },
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "DependsOn": ["HandlerRole"],
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Timeout": 30,
                "Role": {"Fn::GetAtt": ["HandlerRole", "Arn"]},
                "Code": {"ZipFile": HANDLER_CODE},
            },
        },
        "Thing": {
            "Type": "Custom::Thing",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                "LogBucket": log_bucket,
                **(custom or {}),
            },
        },
        **(extra_resources or {}),
    }
    return json.dumps({"Resources": resources, "Outputs": outputs or {}})


def _stack_name() -> str:
    return f"engine-{uuid.uuid4().hex[:8]}"


def _delete(clients: Clients, name: str) -> None:
    clients.cfn.delete_stack(StackName=name)
    deadline = time.monotonic() + 30
    while not clients.gone(name) and time.monotonic() < deadline:
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def test_properties_are_stringified_recursively_like_cloudformation() -> None:
    given = {"Managed": True, "Off": False, "Count": 3, "Ratio": 1.5, "List": [1, {"B": True}]}

    assert stringify_properties(given) == {
        "Managed": "true",
        "Off": "false",
        "Count": "3",
        "Ratio": "1.5",
        "List": ["1", {"B": "true"}],
    }


def test_dependency_order_follows_refs_getatts_subs_and_depends_on() -> None:
    resources = {
        "Custom": {"Properties": {"Token": {"Fn::GetAtt": ["Fn", "Arn"]}}},
        "Fn": {"DependsOn": "Role", "Properties": {"Name": {"Fn::Sub": "${Bucket}-x"}}},
        "Bucket": {"Properties": {}},
        "Role": {"Properties": {"Ref": {"Ref": "Bucket"}}},
    }

    order = dependency_order(resources)

    assert order.index("Bucket") < order.index("Role") < order.index("Fn") < order.index("Custom")


# --------------------------------------------------------------------------------------------
# The engine, with handcrafted templates
# --------------------------------------------------------------------------------------------


def test_custom_resource_create_gets_string_properties_and_its_data_reaches_outputs(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    template = _template(
        log_bucket,
        custom={"Name": "world", "Managed": True, "Count": 3},
        outputs={"Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}}},
    )

    clients.cfn.create_stack(StackName=name, TemplateBody=template)
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert clients.outputs(name) == {"Greeting": "hello world"}
    [create] = clients.recorded_events(log_bucket)
    assert create["RequestType"] == "Create"
    assert create["ResourceProperties"]["Managed"] == "true"
    assert create["ResourceProperties"]["Count"] == "3"
    assert create["ResponseURL"].startswith(clients.endpoint + "/")
    assert clients.resources(name)["Thing"]["PhysicalResourceId"] == "id-1"
    _delete(clients, name)


def test_stack_stays_in_progress_until_the_custom_resource_answers(
    clients: Clients, log_bucket: str, cfn_settings: Callable[..., None]
) -> None:
    cfn_settings(operation_wait=0)
    name = _stack_name()

    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Sleep": 2})
    )
    during = clients.stack(name)["StackStatus"]
    after = clients.wait_settled(name)["StackStatus"]

    assert during == "CREATE_IN_PROGRESS"
    assert after == "CREATE_COMPLETE"
    _delete(clients, name)


def test_update_sends_old_properties_and_keeps_the_physical_id(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Name": "a"})
    )
    clients.wait_settled(name)

    clients.cfn.update_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Name": "b"})
    )
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    update = clients.recorded_events(log_bucket)[-1]
    assert update["RequestType"] == "Update"
    assert update["PhysicalResourceId"] == "id-1"
    assert update["ResourceProperties"]["Name"] == "b"
    assert update["OldResourceProperties"]["Name"] == "a"
    _delete(clients, name)


def test_failed_create_answer_rolls_the_stack_back_with_the_reason(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()

    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Behaviour": "fail-create"})
    )
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "[Thing]" in stack["StackStatusReason"]
    assert "asked to fail" in stack["StackStatusReason"]
    assert clients.resources(name) == {}, "the rollback deletes what was created"
    _delete(clients, name)


def test_failed_update_answer_rolls_back_to_the_previous_properties(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Name": "a"})
    )
    clients.wait_settled(name)

    clients.cfn.update_stack(
        StackName=name,
        TemplateBody=_template(log_bucket, custom={"Name": "b", "Behaviour": "fail-update"}),
    )
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    rollback = clients.recorded_events(log_bucket)[-1]
    assert rollback["RequestType"] == "Update"
    assert rollback["ResourceProperties"]["Name"] == "a"
    _delete(clients, name)


def test_a_function_that_returns_without_answering_fails_the_resource_clearly(
    clients: Clients, log_bucket: str, cfn_settings: Callable[..., None]
) -> None:
    cfn_settings(answer_grace=0.5)
    name = _stack_name()

    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Behaviour": "silent"})
    )
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "without sending a response to the ResponseURL" in stack["StackStatusReason"]
    _delete(clients, name)


def test_a_custom_resource_that_never_answers_times_out(
    clients: Clients, log_bucket: str, cfn_settings: Callable[..., None]
) -> None:
    cfn_settings(custom_resource_timeout=1)
    name = _stack_name()

    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, custom={"Sleep": 4})
    )
    stack = clients.wait_settled(name)

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "no response from the custom resource function within 1 s" in stack["StackStatusReason"]
    _delete(clients, name)


def test_delete_sends_delete_while_the_handler_exists_and_refuses_a_non_empty_bucket(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    bucket = {"Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete", "Properties": {}}}
    template = _template(
        log_bucket, extra_resources=bucket, outputs={"Bucket": {"Value": {"Ref": "Data"}}}
    )
    clients.cfn.create_stack(StackName=name, TemplateBody=template)
    clients.wait_settled(name)
    data_bucket = clients.outputs(name)["Bucket"]
    clients.s3.put_object(Bucket=data_bucket, Key="left-behind.txt", Body=b"x")

    clients.cfn.delete_stack(StackName=name)
    failed = clients.wait_settled(name)

    assert failed["StackStatus"] == "DELETE_FAILED"
    assert "[Data] The bucket you tried to delete is not empty" in failed["StackStatusReason"]
    assert clients.recorded_events(log_bucket)[-1]["RequestType"] == "Delete"
    assert list(clients.resources(name)) == ["Data"], "only the bucket is left"

    clients.s3.delete_object(Bucket=data_bucket, Key="left-behind.txt")
    _delete(clients, name)

    assert clients.gone(name)
    assert data_bucket not in [b["Name"] for b in clients.s3.list_buckets()["Buckets"]]


def test_unsupported_types_are_recorded_and_event_invoke_config_is_stored(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    extra = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Subscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@b.c"},
        },
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 1}},
        "AsyncConfig": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "Handler"},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 1,
            },
        },
    }

    clients.cfn.create_stack(
        StackName=name, TemplateBody=_template(log_bucket, extra_resources=extra)
    )
    clients.wait_settled(name)

    resources = clients.resources(name)
    assert resources["Subscription"]["ResourceType"] == "AWS::SNS::Subscription"
    assert resources["Alarm"]["ResourceType"] == "AWS::CloudWatch::Alarm"
    function = resources["Handler"]["PhysicalResourceId"]
    config = clients.lam.get_function_event_invoke_config(FunctionName=function)
    assert config["MaximumRetryAttempts"] == 1
    _delete(clients, name)


def test_missing_change_sets_are_not_found_and_deleting_one_is_harmless(
    clients: Clients, log_bucket: str
) -> None:
    name = _stack_name()
    clients.cfn.create_stack(StackName=name, TemplateBody=_template(log_bucket))
    clients.wait_settled(name)

    with pytest.raises(ClientError) as missing:
        clients.cfn.describe_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set")
    clients.cfn.delete_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set")

    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"
    _delete(clients, name)


def test_change_set_update_re_resolves_ssm_parameters_and_rebuilds_outputs(
    clients: Clients, log_bucket: str
) -> None:
    parameter = f"/test/{uuid.uuid4().hex[:8]}/version"
    clients.ssm.put_parameter(Name=parameter, Value="21", Type="String")
    name = _stack_name()

    def body(greeting_output: bool) -> str:
        template = json.loads(
            _template(
                log_bucket,
                outputs={"Version": {"Value": {"Ref": "Version"}}}
                | (
                    {"Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}}}
                    if greeting_output
                    else {}
                ),
            )
        )
        template["Parameters"] = {
            "Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": parameter}
        }
        return json.dumps(template)

    def run(change_set_type: str, template: str, parameters: list[dict[str, Any]]) -> None:
        change_set = clients.cfn.create_change_set(
            StackName=name,
            ChangeSetName="cdk-deploy-change-set",
            ChangeSetType=change_set_type,
            TemplateBody=template,
            Parameters=parameters,
        )
        clients.cfn.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
        clients.wait_settled(name)

    run("CREATE", body(False), [])
    clients.cfn.delete_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set")
    run("UPDATE", body(True), [{"ParameterKey": "Version", "UsePreviousValue": True}])

    assert clients.stack(name)["StackStatus"] == "UPDATE_COMPLETE"
    assert clients.outputs(name) == {"Version": "21", "Greeting": "hello ?"}
    _delete(clients, name)


# --------------------------------------------------------------------------------------------
# The fixture CDK app with the real CDK CLI: deploy, use, redeploy, destroy
# --------------------------------------------------------------------------------------------


@dataclass
class Lifecycle:
    """What the fixture app's deploy → use → update → destroy run observed, stage by stage."""

    outputs: dict[str, str] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_delivery: list[dict[str, Any]] = field(default_factory=list)
    function: dict[str, Any] = field(default_factory=dict)
    async_config: dict[str, Any] = field(default_factory=dict)
    queues_before_update: list[str] = field(default_factory=list)
    updated_outputs: dict[str, str] = field(default_factory=dict)
    updated_notifications: dict[str, Any] = field(default_factory=dict)
    updated_function: dict[str, Any] = field(default_factory=dict)
    queues_after_update: list[str] = field(default_factory=list)
    status_after_noop: str = ""


def _cdk(port: int, *args: str) -> None:
    """Run the pinned CDK CLI against the local cloud (its speed is measured in benchmarks/)."""
    cdk(LocalEndpoint(port), *args)


def _queue_urls(clients: Clients) -> list[str]:
    return list(clients.sqs.list_queues(QueueNamePrefix=FIXTURE_STACK).get("QueueUrls", []))


@pytest.fixture(scope="module")
def lifecycle(
    local_cloud: LocalCloud, clients: Clients, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lifecycle]:
    """Deploy the fixture app, use it, deploy revision 2, destroy it; record what was seen."""
    port = local_cloud.port
    seen = Lifecycle()
    assembly = str(tmp_path_factory.mktemp("fixture-cdk-out"))
    # One synth holds both revisions (stages Rev1 and Rev2): jsii start-up is the slow part.
    app = f"{sys.executable} {FIXTURE_APP}"
    _cdk(port, "synth", "--quiet", "--app", app, "--output", assembly)
    _cdk(port, "bootstrap", "aws://123456789012/us-east-1", "--app", assembly)
    deploy = ("deploy", "--require-approval", "never", "--app", assembly)
    _cdk(port, *deploy, "Rev1/Fixture")
    try:
        seen.outputs = clients.outputs(FIXTURE_STACK)
        seen.resources = clients.resources(FIXTURE_STACK)
        bucket = seen.outputs["BucketName"]
        # Two versions of one key and a key needing encoding: auto-delete must remove all.
        clients.s3.put_object(Bucket=bucket, Key="in/first file.txt", Body=b"1")
        clients.s3.put_object(Bucket=bucket, Key="in/first file.txt", Body=b"2")
        seen.rule_delivery = _receive(clients, seen.outputs["QueueUrl"], count=2)
        seen.function = clients.lam.get_function(FunctionName=seen.outputs["FunctionName"])
        seen.async_config = clients.lam.get_function_event_invoke_config(
            FunctionName=seen.outputs["FunctionName"]
        )
        seen.queues_before_update = _queue_urls(clients)

        _cdk(port, *deploy, "Rev2/Fixture")
        seen.updated_outputs = clients.outputs(FIXTURE_STACK)
        seen.updated_notifications = clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        seen.updated_function = clients.lam.get_function(FunctionName=seen.outputs["FunctionName"])
        seen.queues_after_update = _queue_urls(clients)
        # The same assembly again: an empty change set, which the CLI deletes and moves on.
        _cdk(port, *deploy, "Rev2/Fixture")
        seen.status_after_noop = clients.stack(FIXTURE_STACK)["StackStatus"]
    finally:
        _cdk(port, "destroy", "--force", "--app", assembly, "Rev2/Fixture")
    yield seen


def _receive(clients: Clients, queue_url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while len(messages) < count and time.monotonic() < deadline:
        batch = clients.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        messages += [json.loads(m["Body"]) for m in batch]
    return messages


def test_deploy_publishes_the_outputs(lifecycle: Lifecycle) -> None:
    assert set(lifecycle.outputs) == {
        "BucketName",
        "QueueUrl",
        "FunctionName",
        "RuleName",
        "LogGroupName",
    }
    assert all(lifecycle.outputs.values())


def test_bucket_notifications_custom_resource_turned_on_eventbridge(lifecycle: Lifecycle) -> None:
    # S3 -> EventBridge -> rule -> SQS only delivers if the Python custom resource really ran
    # (moto's GetBucketNotificationConfiguration does not show EventBridgeConfiguration).
    assert len(lifecycle.rule_delivery) == 2
    event = lifecycle.rule_delivery[0]
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == lifecycle.outputs["BucketName"]


def test_function_keeps_its_log_group_layer_and_async_settings(lifecycle: Lifecycle) -> None:
    configuration = lifecycle.function["Configuration"]

    assert configuration["LoggingConfig"]["LogGroup"] == lifecycle.outputs["LogGroupName"]
    assert [layer["Arn"] for layer in configuration["Layers"]] == [
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
    ]
    assert lifecycle.async_config["MaximumRetryAttempts"] == 0


def test_types_moto_lacks_are_listed_as_stack_resources(lifecycle: Lifecycle) -> None:
    types = {resource["ResourceType"] for resource in lifecycle.resources.values()}

    assert {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Lambda::EventInvokeConfig",
        "Custom::S3AutoDeleteObjects",
        "Custom::S3BucketNotifications",
    } <= types


def test_redeploy_updates_the_custom_resource_and_applies_every_change(
    lifecycle: Lifecycle,
) -> None:
    queue_configs = lifecycle.updated_notifications.get("QueueConfigurations", [])
    rules = [c["Filter"]["Key"]["FilterRules"] for c in queue_configs]
    variables = lifecycle.updated_function["Configuration"]["Environment"]["Variables"]

    assert lifecycle.updated_outputs["Revision"] == "2"
    assert rules == [[{"Name": "prefix", "Value": "direct/"}]], "Update event reached the handler"
    assert variables["FIXTURE_REVISION"] == "2"
    assert len(lifecycle.queues_before_update) == 2
    assert len(lifecycle.queues_after_update) == 1, "the removed ScratchQueue is deleted"


def test_redeploying_an_unchanged_app_is_a_no_op(lifecycle: Lifecycle) -> None:
    # The no-op deploy raised nothing (DeploymentError otherwise) and changed nothing.
    assert lifecycle.status_after_noop == "UPDATE_COMPLETE"


def test_destroy_empties_the_bucket_and_leaves_nothing_behind(
    lifecycle: Lifecycle, clients: Clients
) -> None:
    buckets = [b["Name"] for b in clients.s3.list_buckets()["Buckets"]]
    functions = [f["FunctionName"] for f in clients.lam.list_functions()["Functions"]]
    rules = [r["Name"] for r in clients.events.list_rules()["Rules"]]
    log_groups = [g["logGroupName"] for g in clients.logs.describe_log_groups()["logGroups"]]

    assert clients.gone(FIXTURE_STACK)
    assert lifecycle.outputs["BucketName"] not in buckets
    assert not [f for f in functions if f.startswith(FIXTURE_STACK)]
    assert _queue_urls(clients) == []
    assert lifecycle.outputs["RuleName"] not in rules
    assert lifecycle.outputs["LogGroupName"] not in log_groups
