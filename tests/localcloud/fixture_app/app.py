"""A small CDK app that exercises every CloudFormation path the local cloud must handle.

It holds two revisions of one stack (``LocalCloudFixture``), in stages ``Rev1`` and ``Rev2``,
so that one synth (jsii start-up is the slow part) serves a deploy and an update: deploying
``Rev2/Fixture`` after ``Rev1/Fixture`` adds, modifies and removes resources, and sends an
Update event to a custom resource.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

FUNCTION_DIR = Path(__file__).resolve().parent / "function"
STACK_NAME = "LocalCloudFixture"
# AWS-managed layer the real app references; the local cloud must accept it without having it.
POWERTOOLS_LAYER_ARN = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
)


class FixtureStack(cdk.Stack):
    """Bucket with auto-delete and EventBridge, a queue, a function with a log group, a rule."""

    def __init__(self, scope: Construct, construct_id: str, *, revision: int) -> None:
        super().__init__(scope, construct_id, stack_name=STACK_NAME)
        bucket = s3.Bucket(
            self,
            "DataBucket",
            auto_delete_objects=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            event_bridge_enabled=True,
            versioned=True,
        )
        queue = sqs.Queue(self, "EventsQueue")
        log_group = logs.LogGroup(
            self,
            "HandlerLogs",
            retention=logs.RetentionDays.ONE_WEEK,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        handler = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(FUNCTION_DIR)),
            log_group=log_group,
            timeout=cdk.Duration.seconds(10),
            environment={"FIXTURE_REVISION": str(revision)},
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self, "Powertools", POWERTOOLS_LAYER_ARN
                )
            ],
        )
        handler.configure_async_invoke(retry_attempts=0)
        rule = events.Rule(
            self,
            "ObjectCreatedRule",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket.bucket_name]}},
            ),
            targets=[targets.SqsQueue(queue)],
        )
        if revision == 1:
            # Removed by revision 2: exercises the cleanup phase of an update.
            sqs.Queue(self, "ScratchQueue")
        else:
            # A direct notification changes Custom::S3BucketNotifications: an Update event.
            bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.SqsDestination(queue),
                s3.NotificationKeyFilter(prefix="direct/"),
            )
            cdk.CfnOutput(self, "Revision", value=str(revision))
        cdk.CfnOutput(self, "BucketName", value=bucket.bucket_name)
        cdk.CfnOutput(self, "QueueUrl", value=queue.queue_url)
        cdk.CfnOutput(self, "FunctionName", value=handler.function_name)
        cdk.CfnOutput(self, "RuleName", value=rule.rule_name)
        cdk.CfnOutput(self, "LogGroupName", value=log_group.log_group_name)


app = cdk.App()
for number in (1, 2):
    FixtureStack(cdk.Stage(app, f"Rev{number}"), "Fixture", revision=number)
app.synth()
