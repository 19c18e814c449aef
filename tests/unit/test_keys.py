"""Keys from the wild: decoding, validation and job names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe_pipeline.keys import (
    JOB_NAME_PATTERN,
    MAX_S3_KEY_BYTES,
    S3Object,
    decode_event_key,
    encode_event_key,
    is_job_name,
    job_name_for,
    parse_s3_uri,
    rejection_reason,
)

# Any valid S3 key: 1 to 1024 bytes of UTF-8 (so no lone surrogates).
keys = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=1024).filter(
    lambda key: len(key.encode("utf-8")) <= MAX_S3_KEY_BYTES
)
# Keys near the limit, where outputs must be shortened: the plain strategy rarely gets there.
long_keys = (
    st.text(st.characters(exclude_categories=["Cs"]), min_size=400, max_size=1100)
    .map(lambda key: key.encode("utf-8")[:MAX_S3_KEY_BYTES].decode("utf-8", "ignore"))
    .filter(lambda key: len(key.encode("utf-8")) > 1000)
)
any_keys = keys | long_keys
# The prefixes the stack accepts (stacks/config.py: ^[0-9a-zA-Z._-]{1,40}$).
prefixes = st.from_regex(r"[0-9a-zA-Z._-]{1,40}", fullmatch=True)
buckets = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)
version_ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=32)

BUCKET = "media-in"


# --- Job names --------------------------------------------------------------------------


@given(bucket=buckets, key=any_keys, version=st.none() | version_ids, prefix=prefixes)
def test_a_job_name_is_always_one_transcribe_accepts(bucket, key, version, prefix):
    name = job_name_for(S3Object(bucket, key, version_id=version), prefix=prefix)

    assert JOB_NAME_PATTERN.fullmatch(name)
    assert name.startswith(prefix)


@given(
    bucket=buckets,
    key=any_keys,
    version=st.none() | version_ids,
    prefix=prefixes,
    attempt=st.integers(2, 10_000),
)
def test_a_reprocess_attempt_has_its_own_valid_job_name(bucket, key, version, prefix, attempt):
    obj = S3Object(bucket, key, version_id=version)

    name = job_name_for(obj, prefix=prefix, attempt=attempt)

    assert JOB_NAME_PATTERN.fullmatch(name)
    assert name.startswith(prefix)
    assert name.endswith(f"-r{attempt}")
    assert name != job_name_for(obj, prefix=prefix, attempt=attempt - 1)


def test_the_first_attempt_keeps_the_name_jobs_had_before_attempts_existed():
    # The name this upload's job had before job names knew attempts: running jobs of an
    # existing deployment must still be recognised after the update.
    obj = S3Object(BUCKET, "talks/Quarterly Review.mp3", version_id="v1")

    assert job_name_for(obj, prefix="tp-", attempt=1) == "tp-Quarterly-Review-ddc2ca304065e936"


@pytest.mark.parametrize(
    "name", ["tp-talk-0123456789abcdef\n", "\ntp-talk", "tp-talk\r\n", "tp talk", "", "a" * 201]
)
def test_a_string_transcribe_would_refuse_is_not_a_job_name(name):
    assert not is_job_name(name)


def test_a_name_of_the_allowed_characters_is_a_job_name():
    assert is_job_name("tp-Talk_2.final-0123456789abcdef")


@given(key=keys, version=version_ids, prefix=prefixes)
def test_the_same_object_version_always_gets_the_same_job_name(key, version, prefix):
    first = job_name_for(S3Object(BUCKET, key, size=1, version_id=version), prefix=prefix)
    again = job_name_for(S3Object(BUCKET, key, size=2, version_id=version), prefix=prefix)

    assert first == again


@given(key=keys, versions=st.lists(version_ids, min_size=2, max_size=2, unique=True))
def test_two_versions_of_a_key_get_different_job_names(key, versions):
    old, new = (S3Object(BUCKET, key, version_id=v) for v in versions)

    assert job_name_for(old, prefix="tp-") != job_name_for(new, prefix="tp-")


@given(pair=st.lists(keys, min_size=2, max_size=2, unique=True), version=version_ids)
def test_two_keys_get_different_job_names(pair, version):
    one, other = (S3Object(BUCKET, key, version_id=version) for key in pair)

    assert job_name_for(one, prefix="tp-") != job_name_for(other, prefix="tp-")


@given(key=keys)
def test_the_same_key_in_two_buckets_gets_different_job_names(key):
    here, there = (
        S3Object("media-in", key, version_id="v1"),
        S3Object("media-in2", key, version_id="v1"),
    )

    assert job_name_for(here, prefix="tp-") != job_name_for(there, prefix="tp-")


def test_keys_with_the_same_readable_stem_get_different_job_names():
    names = {
        job_name_for(S3Object(BUCKET, key, version_id="v1"), prefix="tp-")
        for key in ("a.mp3", "a.wav", "x/a.mp3", "a!.mp3")
    }

    assert len(names) == 4


def test_an_unversioned_object_is_told_apart_by_its_etag():
    first = S3Object(BUCKET, "talk.mp3", etag="0cc175b9c0f1b6a831c399e269772661")
    second = S3Object(BUCKET, "talk.mp3", etag="92eb5ffee6ae2fec3ad71c777531578f")

    assert job_name_for(first, prefix="tp-") != job_name_for(second, prefix="tp-")


@pytest.mark.parametrize(
    ("key", "stem"),
    [
        ("talks/Quarterly Review (final).mp3", "tp-Quarterly-Review-final-"),
        ("conférences/Café crème.wav", "tp-Cafe-creme-"),
        ("x/東京.mp3", "tp-"),
    ],
)
def test_a_job_name_carries_a_readable_ascii_stem_of_the_file_name(key, stem):
    name = job_name_for(S3Object(BUCKET, key, version_id="v1"), prefix="tp-")

    assert name.startswith(stem)
    assert name[len(stem) :].isalnum()  # then only the hash


# --- URIs and event keys ----------------------------------------------------------------


@given(bucket=buckets, key=any_keys)
def test_the_media_uri_names_exactly_the_object(bucket, key):
    assert parse_s3_uri(S3Object(bucket, key).uri) == (bucket, key)


@pytest.mark.parametrize("uri", ["s3://bucket", "s3://bucket/", "s3:///key", "https://b/k"])
def test_a_uri_that_names_no_object_is_refused(uri):
    with pytest.raises(ValueError, match="s3://bucket/key"):
        parse_s3_uri(uri)


@given(key=any_keys)
def test_a_key_encoded_as_s3_encodes_event_keys_decodes_back_to_itself(key):
    assert decode_event_key(encode_event_key(key)) == key


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("red flower.jpg", "red+flower.jpg"),
        ("a+b.mp3", "a%2Bb.mp3"),
        ("a%2Bb.mp3", "a%252Bb.mp3"),
        ("talks/deep/plain-name_1.0~x.mp3", "talks/deep/plain-name_1.0~x.mp3"),
        ("réunions d'été+notes/", "r%C3%A9unions+d%27%C3%A9t%C3%A9%2Bnotes/"),
        ("a*b?c$d#e&f=g/", "a%2Ab%3Fc%24d%23e%26f%3Dg/"),
    ],
)
def test_a_key_is_encoded_as_s3_writes_it_into_events(key, encoded):
    # docs/s3-event-keys.md: form encoding, a space is "+", "/" stays, UTF-8 percent-escapes
    assert encode_event_key(key) == encoded


@given(prefix=any_keys, rest=keys)
def test_a_key_under_a_prefix_is_encoded_under_the_encoded_prefix(prefix, rest):
    # What lets the upload rule filter on the encoded input_prefix (stacks/job_starter.py)
    assert encode_event_key(prefix + rest).startswith(encode_event_key(prefix))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("red+flower.jpg", "red flower.jpg"),
        ("a%2Bb.mp3", "a+b.mp3"),
        ("a%252Bb.mp3", "a%2Bb.mp3"),
        ("caf%C3%A9/%E6%9D%B1%E4%BA%AC.mp3", "café/東京.mp3"),
        ("talks/plain.mp3", "talks/plain.mp3"),
    ],
)
def test_an_event_key_is_decoded_exactly_once(raw, key):
    assert decode_event_key(raw) == key


# --- Validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["a.mp3", "LOUD.MP3", "b.Wav", "c.flac", "d.ogg", "e.amr", "f.webm", "g.m4a", "h.mp4"]
)
def test_a_supported_extension_is_accepted_in_any_case(key):
    assert rejection_reason(S3Object(BUCKET, key, size=1000)) is None


def test_the_media_format_follows_the_extension_case_insensitively():
    assert S3Object(BUCKET, "talks/LOUD.MP3").media_format == "mp3"


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        (S3Object(BUCKET, "talks/", size=0), "folder"),
        (S3Object(BUCKET, "notes.txt", size=10), "Unsupported"),
        (S3Object(BUCKET, "talks/README", size=10), "Unsupported"),
        (S3Object(BUCKET, "archive.mp3.zip", size=10), "Unsupported"),
        (S3Object(BUCKET, "silence.mp3", size=0), "empty"),
        (S3Object(BUCKET, "huge.mp4", size=2 * 1024**3 + 1), "2 GB"),
        (S3Object(BUCKET, "x/" + "a" * 2000 + ".mp3", size=10), "2000"),
    ],
    ids=["folder marker", "unsupported", "no extension", "double", "empty", "over 2 GB", "URI"],
)
def test_every_input_transcribe_cannot_take_is_rejected_with_a_reason(obj, words):
    assert words in (rejection_reason(obj) or "")


def test_a_file_of_exactly_2_gb_is_accepted():
    assert rejection_reason(S3Object(BUCKET, "big.mp4", size=2 * 1024**3)) is None


def test_an_object_of_unknown_size_is_not_rejected_for_its_size():
    assert rejection_reason(S3Object(BUCKET, "talk.mp3", size=None)) is None
