"""The output layout: where results and failure records go, and the failure record's form."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.unit.test_keys import any_keys, long_keys
from transcribe_pipeline.keys import MAX_S3_KEY_BYTES
from transcribe_pipeline.layout import (
    FailureRecord,
    FailureRecordError,
    failure_key,
    output_key,
    transcript_key,
)

# --- Output keys ------------------------------------------------------------------------


def test_outputs_keep_the_full_source_key():
    assert transcript_key("talks/my talk.mp3", "txt") == "transcripts/talks/my talk.mp3.txt"
    assert transcript_key("talks/my talk.mp3", "srt") == "transcripts/talks/my talk.mp3.srt"
    assert failure_key("talks/my talk.mp3") == "failed/talks/my talk.mp3.json"


def test_sources_that_differ_only_in_extension_never_share_outputs():
    assert transcript_key("a.mp3", "txt") != transcript_key("a.wav", "txt")


@given(key=any_keys, extension=st.sampled_from(["txt", "srt", "vtt"]))
def test_an_output_key_is_the_full_key_when_it_fits_and_never_passes_1024_bytes(key, extension):
    plain = f"transcripts/{key}.{extension}"

    result = transcript_key(key, extension)

    assert len(result.encode("utf-8")) <= MAX_S3_KEY_BYTES
    if len(plain.encode("utf-8")) <= MAX_S3_KEY_BYTES:
        assert result == plain
    else:
        assert result.startswith("transcripts/") and f".{extension}" in result


def test_an_output_key_of_exactly_1024_bytes_is_the_full_key():
    key = "talks/" + "a" * (MAX_S3_KEY_BYTES - len("transcripts/talks/.txt"))
    plain = f"transcripts/{key}.txt"
    assert len(plain.encode("utf-8")) == MAX_S3_KEY_BYTES

    assert transcript_key(key, "txt") == plain


def test_an_output_key_one_byte_over_1024_is_shortened():
    key = "talks/" + "a" * (MAX_S3_KEY_BYTES + 1 - len("transcripts/talks/.txt"))

    result = transcript_key(key, "txt")

    assert result != f"transcripts/{key}.txt"
    assert len(result.encode("utf-8")) <= MAX_S3_KEY_BYTES


# A key whose outputs must be shortened (1210 bytes), and the suffixes the pipeline writes.
LONG_KEY = "talks/" + "é" * 600 + ".mp3"
OUTPUT_FORMS = [("transcripts/", ".txt"), ("transcripts/", ".srt"), ("failed/", ".json")]


@given(key=long_keys, form=st.sampled_from(OUTPUT_FORMS))
@example(key=LONG_KEY, form=("transcripts/", ".txt"))
def test_no_key_that_fits_can_be_crafted_onto_a_shortened_output(key, form):
    # The attack: read a long key's shortened output and upload its middle (or all of it after
    # the prefix) as a key of its own, which fits and so is kept verbatim.
    prefix, suffix = form
    assume(len(f"{prefix}{key}{suffix}".encode()) > MAX_S3_KEY_BYTES)
    shortened = output_key(prefix, key, suffix)
    middle = shortened[len(prefix) :]
    crafted = {middle, middle[: -len(suffix)], middle.removesuffix(suffix)} - {key}

    for candidate in crafted:
        assert output_key(prefix, candidate, suffix) != shortened, candidate


@given(key=long_keys, form=st.sampled_from(OUTPUT_FORMS))
def test_a_shortened_output_never_ends_with_the_suffix_every_full_output_ends_with(key, form):
    prefix, suffix = form
    assume(len(f"{prefix}{key}{suffix}".encode()) > MAX_S3_KEY_BYTES)

    assert not output_key(prefix, key, suffix).endswith(suffix)


@given(key=any_keys)
def test_a_failure_key_never_passes_1024_bytes(key):
    assert len(failure_key(key).encode("utf-8")) <= MAX_S3_KEY_BYTES


@given(pair=st.lists(any_keys, min_size=2, max_size=2, unique=True))
def test_two_sources_never_share_an_output_key_even_when_shortened(pair):
    one, other = pair

    assert transcript_key(one, "txt") != transcript_key(other, "txt")
    assert failure_key(one) != failure_key(other)


def test_a_very_long_key_is_shortened_keeping_its_beginning_the_suffix_and_its_hash():
    result = output_key("transcripts/", LONG_KEY, ".txt")

    assert len(result.encode("utf-8")) <= MAX_S3_KEY_BYTES
    assert result.startswith("transcripts/talks/éé")
    assert result.endswith(".txt.sha256-" + hashlib.sha256(LONG_KEY.encode("utf-8")).hexdigest())


# --- Failure records --------------------------------------------------------------------


@given(
    source=st.text(),
    job=st.none() | st.text(),
    reason=st.text(),
)
def test_a_failure_record_reads_back_as_written(source, job, reason):
    record = FailureRecord(source=source, job=job, reason=reason)

    assert FailureRecord.from_body(record.body()) == record


def test_a_failure_record_is_json_with_source_job_and_reason():
    record = FailureRecord(source="s3://in/talks/a.mp3", job=None, reason="empty")

    assert record.to_json() == {"source": "s3://in/talks/a.mp3", "job": None, "reason": "empty"}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"job": null, "reason": "x"}', "no source"),
        (b'{"source": "s3://in/a.mp3", "job": 7, "reason": "x"}', "job"),
    ],
    ids=["not JSON", "a list", "no source", "a number for a job"],
)
def test_a_body_that_is_not_a_failure_record_is_refused_saying_why(body, words):
    with pytest.raises(FailureRecordError, match=words):
        FailureRecord.from_body(body)
