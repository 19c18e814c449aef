"""One way to declare the pipeline's Python functions: same asset, runtime, logs and layer."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

# All functions share one asset: the handlers plus the small transcribe_pipeline package.
LAMBDA_ASSET_DIR = Path(__file__).resolve().parent.parent / "lambda"
POWERTOOLS_ACCOUNT = "017000801446"  # AWS's account that publishes the Powertools layers.


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
        stack = Stack.of(self)
        layer_arn = (
            f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-python312-arm64:{powertools_layer_version}"
        )
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
                "POWERTOOLS_SERVICE_NAME": "transcription-pipeline",
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
