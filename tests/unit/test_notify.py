"""Notices to the SNS topic: subjects SNS accepts for any key (docs/sns-publish.md)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.test_keys import any_keys, prefixes
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.notify import notice_subject

# SNS Publish: a Subject is fewer than 100 characters of text without line breaks or control
# characters; plain printable ASCII satisfies every reading of that rule.
PRINTABLE_ASCII = {chr(code) for code in range(0x20, 0x7F)}


@given(
    key=any_keys,
    prefix=prefixes,
    status=st.sampled_from(["COMPLETED", "FAILED"]),
    version=st.none() | st.text(min_size=1, max_size=32),
)
@example(key="talks/" + "a" * 60 + ".mp3", prefix="tp-", status="COMPLETED", version="v1")
def test_a_notice_subject_is_one_sns_accepts_for_any_key(key, prefix, status, version):
    job_name = job_name_for(S3Object("media-in", key, version_id=version), prefix=prefix)

    subject = notice_subject(status, job_name)

    assert 0 < len(subject) < 100
    assert set(subject) <= PRINTABLE_ASCII


def test_a_notice_subject_names_the_outcome_and_the_job():
    assert notice_subject("FAILED", "tp-talk-0123456789abcdef") == (
        "Transcription failed: tp-talk-0123456789abcdef"
    )


def test_a_notice_subject_never_carries_a_line_break_or_control_character():
    subject = notice_subject("COMPLETED", "tp-a\r\nBcc: x@example.com\x00")

    assert set(subject) <= PRINTABLE_ASCII
