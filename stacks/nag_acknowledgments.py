"""Every cdk-nag finding this project accepts, with the reason, in one reviewed place.

cdk-nag 3 runs as a CDK policy-validation plugin (registered in ``app.py``): synthesis fails on
any finding not acknowledged here. Each acknowledgment names one rule, at its finest grain
(``AwsSolutions-IAM5[Resource::...]`` rather than ``AwsSolutions-IAM5``), on the exact
resources it applies to (construct paths below the stack, as cdk-nag reports them), with a
reason a reviewer can check against the code. tests/infra/test_nag.py fails when a finding is
not acknowledged, and when an acknowledgment no longer matches any finding.

Findings fixed rather than acknowledged (see the README's "Security posture"): S3 server access
logs (S1), AWS managed policies on the pipeline's roles (IAM4), wildcard actions from CDK's
bucket grants (IAM5 ``Action::s3:GetObject*`` and the like).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from stacks.config import PipelineConfig
from stacks.permissions import iam_literal
from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    REDACTED_RESULT_PREFIX,
    TRANSCRIPTS_PREFIX,
    UNREDACTED_PREFIX,
)


@dataclass(frozen=True)
class NagAcknowledgment:
    """One cdk-nag finding accepted on exactly these resources (paths below the stack)."""

    rule: str
    paths: tuple[str, ...]
    reason: str


_STARTER = "JobStarter/StartTranscription"
_STARTER_POLICY = f"{_STARTER}/Role/DefaultPolicy/Resource"
_DATA_ACCESS_POLICY = "JobStarter/TranscribeDataAccessRole/DefaultPolicy/Resource"
_HANDLER_POLICY = "JobState/Handler/Role/DefaultPolicy/Resource"
_SWEEPER_POLICY = "JobState/Sweeper/Role/DefaultPolicy/Resource"
_FUNCTIONS = tuple(
    f"{name}/Function/Resource" for name in (_STARTER, "JobState/Handler", "JobState/Sweeper")
)
_INPUT_ARN = "<StorageInputBucket0767FBBB.Arn>"
_OUTPUT_ARN = "<StorageOutputBucketCD2EEB3A.Arn>"
_JOBS_ARN = "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:transcription-job"
_RUNTIME_REASON = (
    "python3.12 is the runtime the AWS Powertools layer is built for "
    "(AWSLambdaPowertoolsPythonV3-python312-arm64, stacks/functions.py) and the one the local "
    "cloud and tests run; the runtime and the layer are upgraded together, on purpose."
)


def acknowledgments(config: PipelineConfig) -> tuple[NagAcknowledgment, ...]:
    """The accepted findings for this configuration (finding ids embed its prefixes)."""
    ack = NagAcknowledgment
    jobs = config.job_name_prefix
    uploads = f"{iam_literal(config.input_prefix)}*"  # the key pattern of job_starter's grant
    entries = [
        # --- CDK's own deploy-time helper -------------------------------------------------
        ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            ("BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource",),
            "aws-cdk-lib's singleton handler behind Custom::S3BucketNotifications (it turns on "
            "the input bucket's EventBridge notifications, at deploy time only) gets this role "
            "from CDK, which offers no way to replace it; the managed policy only writes logs.",
        ),
        # --- Object-key wildcards: S3 permissions cannot name keys that do not exist yet -----
        ack(
            f"AwsSolutions-IAM5[Resource::{_INPUT_ARN}/{_as_nag_prints(uploads)}]",
            (_DATA_ACCESS_POLICY, _STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "s3:GetObject only, on uploads under the configured input prefix: any of them may "
            "be media to transcribe. Transcribe reads it as the data-access role, and "
            "StartTranscriptionJob's dependent action (Service Authorization Reference) "
            "requires the caller to be able to read it too. The harvesters HEAD an upload "
            "before harvesting a job started before the ledger existed (docs/ledger.md).",
        ),
        ack(
            f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/*]",
            (_DATA_ACCESS_POLICY,),
            "s3:PutObject only, for Amazon Transcribe: it writes <job-name>.json/.srt/.vtt at "
            "the output bucket's root (the output layout contract: no OutputKey) and a "
            ".write_access_check_file.temp object to test access, so no narrower prefix holds.",
        ),
        ack(
            f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/{FAILED_PREFIX}*]",
            (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "Failure records are failed/<source key>.json, one per upload: the start function "
            "and the harvesters read, write and delete them, so that a key shows its newest "
            "version's outcome (the output layout: lambda/transcribe_pipeline/layout.py, "
            "docs/ledger.md).",
        ),
        ack(
            f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/{TRANSCRIPTS_PREFIX}*]",
            (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "Readable results are transcripts/<source key>.txt|.json|.srt|.vtt, one set per "
            "upload: the harvesters read (HEAD), write and delete them; the start function "
            "deletes an older version's when it rejects a newer one, and rewrites them when a "
            "rejection loses a race to a newer version (docs/ledger.md).",
        ),
        ack(
            f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/{jobs}*]",
            (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "Read-only (s3:GetObject) on Transcribe's own <job-name>.json, whose names start "
            "with this pipeline's job-name prefix.",
        ),
        ack(
            f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/{REDACTED_RESULT_PREFIX}{jobs}*]",
            (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "Read-only (s3:GetObject) on Transcribe's redacted result, redacted-<job-name>.json, "
            "which the readable outputs of a redacting profile are made from.",
        ),
        *(
            [
                ack(
                    f"AwsSolutions-IAM5[Resource::{_OUTPUT_ARN}/{UNREDACTED_PREFIX}*]",
                    (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
                    "Write-only (s3:PutObject) readable copies of Transcribe's unredacted "
                    "result, unredacted/<source key>.txt|.json, one set per upload of a profile "
                    "with redacted_and_unredacted; no pipeline role may read them.",
                )
            ]
            if config.keeps_unredacted
            else []
        ),
        # --- Transcribe: resource-level permissions where the service has them ---------------
        ack(
            f"AwsSolutions-IAM5[Resource::{_JOBS_ARN}/{jobs}*]",
            (_STARTER_POLICY, _HANDLER_POLICY, _SWEEPER_POLICY),
            "transcribe:GetTranscriptionJob on this pipeline's jobs only: job names are "
            "generated per object version (<prefix><stem>-<hash>), so the prefix is the "
            "narrowest pattern that covers them.",
        ),
        ack(
            "AwsSolutions-IAM5[Resource::*]",
            (_STARTER_POLICY,),
            "transcribe:StartTranscriptionJob has no resource type in the Service "
            "Authorization Reference, so Resource must be '*'; the statement is pinned by its "
            "condition transcribe:OutputBucketName (and OutputEncryptionKMSKeyId with a key).",
        ),
        ack(
            "AwsSolutions-IAM5[Resource::*]",
            (_SWEEPER_POLICY,),
            "transcribe:ListTranscriptionJobs and cloudwatch:PutMetricData have no resource "
            "type in the Service Authorization Reference, so Resource must be '*'; the first "
            "only lists job summaries (the sweeper keeps those with this pipeline's prefix), "
            "the second is pinned to the stack's namespace by the cloudwatch:namespace condition.",
        ),
        # --- Runtime ---------------------------------------------------------------------
        ack("AwsSolutions-L1", _FUNCTIONS, _RUNTIME_REASON),
        ack("Serverless-LambdaLatestVersion", _FUNCTIONS, _RUNTIME_REASON),
        # --- Dead letters: where failures go instead ------------------------------------------
        ack(
            "AwsSolutions-SQS3",
            ("JobState/DeadLetterQueue/Resource",),
            "This queue is a dead-letter queue: of the job-state rule's target and of the "
            "handler's on-failure destination (stacks/job_state.py); the rule only recognizes "
            "queues named in another queue's redrive policy.",
        ),
        ack(
            "Serverless-SQSRedrivePolicy",
            ("JobStarter/StartDeadLetterQueue/Resource", "JobState/DeadLetterQueue/Resource"),
            "Dead-letter queues themselves: their messages wait (14 days) for an operator to "
            "fix the cause and re-drive them (README, Troubleshooting); a DLQ of a DLQ would "
            "only hide them.",
        ),
        ack(
            "Serverless-LambdaDLQ",
            (_FUNCTIONS[0],),
            "The start function is invoked only by its SQS event source mapping; a failed "
            "message returns to StartQueue and goes to StartDeadLetterQueue after 5 receives. "
            "A function DLQ applies to asynchronous invocations only.",
        ),
        ack(
            "Serverless-LambdaDLQ",
            (_FUNCTIONS[1],),
            "Asynchronous failures go to an on-failure destination (EventInvokeConfig -> "
            "JobState/DeadLetterQueue, stacks/job_state.py), which replaces a function DLQ "
            "and carries the error too; the rule looks only at DeadLetterConfig.",
        ),
        ack(
            "Serverless-LambdaDLQ",
            (_FUNCTIONS[2],),
            "The sweeper is scheduled: a failed sweep is retried twice, then simply by the next "
            "tick (sweep_interval_minutes). Its event carries no data worth keeping.",
        ),
        ack(
            "Serverless-LambdaEventSourceMappingDestination",
            (
                f"{_STARTER}/Function/SqsEventSource:TranscriptionPipelineJobStarterStartQueue52EA63F4"
                "/Resource",
            ),
            "On-failure destinations exist for stream sources (Kinesis, DynamoDB, Kafka); an "
            "SQS source's failed messages go to the queue's redrive DLQ (StartDeadLetterQueue "
            "after 5 receives).",
        ),
        ack(
            "Serverless-EventBusDLQ",
            ("JobState/SweepSchedule/Resource",),
            "The schedule is its own retry: the next tick sweeps again, and a dead-lettered "
            "'Scheduled Event' would carry nothing to re-drive.",
        ),
        ack(
            "Serverless-LambdaTracing",
            _FUNCTIONS,
            "X-Ray would add per-trace cost and an xray:PutTraceSegments grant on Resource '*' "
            "to every role; the functions log structured JSON keyed by job name and source key, "
            "which is how an operator follows one file through the pipeline.",
        ),
    ]
    if config.named_resources():
        check = ("ResourceCheck/Check/Function/Resource",)
        entries += [
            ack("AwsSolutions-L1", check, _RUNTIME_REASON),
            ack("Serverless-LambdaLatestVersion", check, _RUNTIME_REASON),
            ack(
                "Serverless-LambdaDLQ",
                check,
                "The deploy-time check is invoked by CloudFormation only, as a custom resource: "
                "it always answers CloudFormation itself, and a failure fails the deploy, which "
                "is the point; there is no event to keep.",
            ),
            ack(
                "Serverless-LambdaTracing",
                check,
                "Runs once per deploy; its answer (and the reason for a failure) is in the "
                "stack events and its log group, X-Ray would add nothing.",
            ),
        ]
    if config.notification_email is not None:
        entries.append(
            ack(
                "Serverless-SNSRedrivePolicy",
                (f"NotificationTopic/{config.notification_email}/Resource",),
                "The e-mail notice is a convenience: every outcome is also written to the "
                "output bucket (transcripts/ or failed/), where nothing is lost.",
            )
        )
        entries.append(
            ack(
                "Serverless-SNSRedrivePolicy",
                (f"Monitoring/AlarmTopic/{config.notification_email}/Resource",),
                "The alarm e-mail is one of the alarm's actions: an undelivered e-mail leaves "
                "the alarm in ALARM state on the console and dashboard, where it stays visible.",
            )
        )
    if config.use_kms_key:
        entries.extend(
            ack(
                f"AwsSolutions-IAM5[Action::{action}]",
                (_HANDLER_POLICY,),
                "Added by CDK's SqsDestination (grantSendMessages) for the KMS-encrypted "
                "on-failure queue, limited to the pipeline's key ARN; Lambda sends there with "
                "the function's role.",
            )
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*")
        )
    return tuple(entries)


def _as_nag_prints(text: str) -> str:
    """A literal resource string as cdk-nag prints it in a finding (``${*}`` -> ``<*>``)."""
    # cdk-nag's flattenCfnReference turns Fn::Sub syntax into angle brackets, in any string.
    return text.replace("${", "<").replace("}", ">")


# Validations.acknowledge() normalizes an id (a space becomes "-") and parses it (brackets
# must pair, "::" separates a namespace), but cdk-nag compares its raw finding ids: a finding
# whose resource holds a space, a bracket or "::" (an input_prefix may) could never be
# acknowledged through it. Such ids are recorded in the same metadata entry CDK writes
# (Annotation::<id> -> reason), which is what cdk-nag reads.
_UNNORMALIZED = re.compile(r"\s|::|[()\[\]{}]")


def _acknowledge_one(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding on a construct, keeping the id exactly as cdk-nag reports it."""
    detail = rule.partition("[")[2].removesuffix("]")
    if _UNNORMALIZED.search(detail):
        construct.node.add_metadata(
            Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {f"Annotation::{rule}": reason}
        )
    else:
        Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def find(stack: Stack, path: str) -> IConstruct | None:
    """The construct at ``path`` below the stack, or None when this configuration lacks it."""
    node: IConstruct = stack
    for part in path.split("/"):
        child = node.node.try_find_child(part)
        if child is None:
            return None
        node = child
    return node


def acknowledge(stack: Stack, config: PipelineConfig) -> None:
    """Acknowledge each accepted finding on its resources (those this configuration has)."""
    for entry in acknowledgments(config):
        for path in entry.paths:
            construct = find(stack, path)
            if construct is not None:
                _acknowledge_one(construct, entry.rule, entry.reason)
