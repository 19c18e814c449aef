"""One way to declare the pipeline's Python functions: same asset, runtime, logs and layer."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import (
    Aws,
    CfnCondition,
    CfnMapping,
    CfnRule,
    CfnRuleAssertion,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

# All functions share one asset: the handlers plus the small transcribe_pipeline package.
LAMBDA_ASSET_DIR = Path(__file__).resolve().parent.parent / "lambda"
# The accounts that publish the Powertools for AWS Lambda (Python) layer (docs/powertools-layer.md):
# one for every region of the aws partition, one per region elsewhere. The stack is
# environment-agnostic, so the choice is made at deploy time from AWS::Partition/AWS::Region.
POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_REGIONAL_ACCOUNTS = {
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python312-arm64"
# Powertools' service name: in every log line, and a dimension of every metric it writes.
SERVICE_NAME = "transcription-pipeline"


class PipelineFunction(Construct):
    """A Python 3.12 arm64 function with an explicit log group and the Powertools layer.

    Its role starts empty: no AWS managed policy (AWSLambdaBasicExecutionRole would let it
    write to every log group in the account), only writes to its own log group. Callers add
    exactly the actions the function uses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        environment: dict[str, str],
        timeout: Duration,
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
        memory_size: int = 256,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group's Arn attribute ends in ":*": its log streams.
                resources=[self.log_group.log_group_arn],
            )
        )
        layer_arn = powertools_layer_arn(Stack.of(self), powertools_layer_version)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=lambda_.Code.from_asset(
                str(LAMBDA_ASSET_DIR), exclude=["**/__pycache__", "**/*.pyc"]
            ),
            description=description,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            layers=[lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)],
            log_group=self.log_group,
            role=self.role,
        )


class PowertoolsLayerPublisher(Construct):
    """Picks the layer's publisher account at deploy time; refuses regions without the layer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        accounts = CfnMapping(
            self,
            "Accounts",
            mapping={region: {"account": a} for region, a in POWERTOOLS_REGIONAL_ACCOUNTS.items()},
        )
        in_aws = CfnCondition(
            self, "InAwsPartition", expression=Fn.condition_equals(Aws.PARTITION, "aws")
        )
        regions = ", ".join(POWERTOOLS_REGIONAL_ACCOUNTS)
        # Checked before anything is created: an unknown region would otherwise fail mid-deploy
        # on a FindInMap, or deploy functions whose layer does not exist.
        CfnRule(
            self,
            "Available",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_or(
                        Fn.condition_equals(Aws.PARTITION, "aws"),
                        Fn.condition_contains(list(POWERTOOLS_REGIONAL_ACCOUNTS), Aws.REGION),
                    ),
                    assert_description=(
                        "The Powertools for AWS Lambda (Python) layer the functions use is "
                        "published in every region of the aws partition and, outside it, only "
                        f"in {regions}: deploy to one of those."
                    ),
                )
            ],
        )
        self.account = Fn.condition_if(
            in_aws.logical_id,
            POWERTOOLS_ACCOUNT,
            accounts.find_in_map(Aws.REGION, "account"),
        ).to_string()


def powertools_layer_arn(stack: Stack, version: int) -> str:
    """The ARN of the Powertools layer version for the partition and region deployed to."""
    publisher = stack.node.try_find_child("PowertoolsLayer")
    if not isinstance(publisher, PowertoolsLayerPublisher):
        publisher = PowertoolsLayerPublisher(stack, "PowertoolsLayer")
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{publisher.account}:layer:"
        f"{POWERTOOLS_LAYER_NAME}:{version}"
    )
