"""The optional customer-managed KMS key (``use_kms_key``) and how queues pick their encryption."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def pipeline_key(scope: Construct, construct_id: str, *, retain_data: bool) -> kms.Key:
    """A symmetric key, rotated yearly, kept on destroy whenever the data it encrypts is kept.

    Key policy: CDK's default lets the account use the key through IAM policies, and every
    role of the pipeline gets exact kms: actions in its own policy. Amazon Transcribe works
    with the data-access role, in the same account, so it needs no key-policy statement.
    EventBridge, which sends as a service principal to the encrypted queues (the start queue
    and both dead-letter queues), is admitted by the upload rule's target
    (``job_starter.RuleOnlyQueueTarget``) for this account only (``aws:SourceAccount``): a
    statement naming the rules would be a dependency cycle (key -> rule -> input bucket ->
    key, aws-cdk#11158). Which rule may send to which queue is decided by the queue policies,
    which name the rule (``aws:SourceArn``).
    """
    return kms.Key(
        scope,
        construct_id,
        description="Transcription pipeline: buckets, queues, topic, ledger and Transcribe output",
        enable_key_rotation=True,
        pending_window=Duration.days(7),
        # Deleting the key makes retained objects unreadable: it stays when the data stays.
        removal_policy=RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY,
    )


def queue_encryption(key: kms.IKey | None) -> sqs.QueueEncryption:
    """SSE-SQS by default, the pipeline's KMS key (``encryption_master_key``) when set."""
    return sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED
