"""Exact IAM statements: the actions each role uses, on the resources it uses them on.

CDK's grants are the usual tool, but ``bucket.grant_read`` adds ``s3:GetObject*``,
``s3:GetBucket*`` and ``s3:List*``, ``grant_put`` adds ``s3:Abort*`` and object-lock actions,
``grant_delete`` ``s3:DeleteObject*`` and ``key.grant_encrypt_decrypt`` ``kms:ReEncrypt*``:
action groups the functions never call. The pipeline's roles get these statements instead
(tests/infra/test_least_privilege.py checks every action against what the code calls).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    REDACTED_RESULT_PREFIX,
    TRANSCRIPTS_PREFIX,
    UNREDACTED_PREFIX,
)


def allow(
    principal: iam.IGrantable,
    actions: Sequence[str],
    resources: Sequence[str],
    conditions: Mapping[str, Any] | None = None,
) -> None:
    """Add one Allow statement to the principal's own policy."""
    principal.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=list(resources),
            conditions=dict(conditions) if conditions else None,
        )
    )


# IAM reads "*" and "?" in a Resource or a StringLike value as wildcards and "${...}" as a
# policy variable; these policy variables stand for the characters themselves
# (docs/iam-literal-characters.md).
_IAM_LITERALS = str.maketrans({"*": "${*}", "?": "${?}", "$": "${$}"})


def iam_literal(text: str) -> str:
    """``text`` as IAM matches it literally in a Resource or a StringLike condition value."""
    return text.translate(_IAM_LITERALS)


def objects(bucket: s3.IBucket, *key_patterns: str) -> list[str]:
    """ARNs of the bucket's objects matching the key patterns (``failed/*``, ``tp-*``)."""
    return [bucket.arn_for_objects(pattern) for pattern in key_patterns]


def use_key(principal: iam.IGrantable, key: kms.IKey | None, *actions: str) -> None:
    """Allow exactly these KMS actions on the pipeline's key, when there is one."""
    if key is not None:
        allow(principal, actions, [key.key_arn])


def allow_showing_outputs(
    function: iam.IGrantable,
    output_bucket: s3.IBucket,
    *,
    job_name_prefix: str,
    writes_unredacted: bool,
) -> None:
    """What makes a key's outputs show its head version (docs/ledger.md, "Ordering").

    Read a job's ``<job>.json`` or ``redacted-<job>.json`` (at the root) and the key's outputs;
    write and delete ``transcripts/`` and ``failed/``. The harvesters do it for each outcome;
    the start function for a rejection, and to repair the key after a lost race. Unredacted
    copies are written, never read: no pipeline role reads ``unredacted/``.
    """
    transcripts, failed = f"{TRANSCRIPTS_PREFIX}*", f"{FAILED_PREFIX}*"
    prefix = iam_literal(job_name_prefix)
    allow(
        function,
        ["s3:GetObject"],
        objects(output_bucket, f"{prefix}*", f"{REDACTED_RESULT_PREFIX}{prefix}*", transcripts,
                failed),
    )  # fmt: skip
    # Without ListBucket, a HEAD of a missing key answers 403 instead of 404, and
    # "not written yet" would look like an error.
    allow(function, ["s3:ListBucket"], [output_bucket.bucket_arn])
    written = (transcripts, failed, *((f"{UNREDACTED_PREFIX}*",) if writes_unredacted else ()))
    allow(function, ["s3:PutObject"], objects(output_bucket, *written))
    allow(function, ["s3:DeleteObject"], objects(output_bucket, transcripts, failed))
