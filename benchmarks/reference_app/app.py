#!/usr/bin/env python3
"""A minimal CDK app with the pipeline's counts: 3 buckets, 3 functions, 3 queues, 3 rules.

Nothing else (no encryption keys, alarms, cdk-nag, custom settings): the baseline that
`benchmarks/synth.py` times `cdk synth` of the real app against.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

COUNT = 3


class ReferenceStack(cdk.Stack):
    """Three of each resource kind, wired in the simplest way."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        for n in range(COUNT):
            s3.Bucket(self, f"Bucket{n}")
            queue = sqs.Queue(self, f"Queue{n}")
            function = lambda_.Function(
                self,
                f"Function{n}",
                runtime=lambda_.Runtime.PYTHON_3_12,
                handler="index.handler",
                code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
            )
            events.Rule(
                self,
                f"Rule{n}",
                event_pattern=events.EventPattern(source=[f"reference.{n}"]),
                targets=[targets.SqsQueue(queue)] if n % 2 else [targets.LambdaFunction(function)],
            )


app = cdk.App()
ReferenceStack(app, "ReferenceMinimal")
app.synth()
