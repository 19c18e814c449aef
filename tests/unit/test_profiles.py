"""Profiles: which one a key gets, and how they travel from the stack to the functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe_pipeline.profiles import (
    JobSettings,
    Profile,
    ProfileError,
    job_settings_for,
    profile_for_key,
    profile_from_mapping,
    profiles_from_json,
    profiles_to_json,
)
from transcribe_pipeline.subtitle_style import SubtitleStyle

TOP = JobSettings()
CALLS = Profile("calls/", JobSettings(channel_identification=True))
SUPPORT_CALLS = Profile("calls/support/", JobSettings(show_speaker_labels=True))


def test_a_key_under_two_profiles_gets_the_longest_prefix():
    profiles = (SUPPORT_CALLS, CALLS)

    assert profile_for_key("calls/support/a.wav", profiles) == SUPPORT_CALLS
    assert profile_for_key("calls/sales/a.wav", profiles) == CALLS


def test_a_key_outside_every_profile_gets_the_top_level_settings():
    assert job_settings_for("talks/a.mp3", (CALLS,), TOP) is TOP


def test_a_prefix_matches_only_the_start_of_the_key():
    assert profile_for_key("archive/calls/a.wav", (CALLS,)) is None


segments = st.text(alphabet="abc/", min_size=1, max_size=6)


@given(st.lists(segments, unique=True, max_size=6), segments)
def test_the_chosen_profile_is_the_longest_prefix_of_the_key(prefixes, key):
    profiles = tuple(Profile(prefix, TOP) for prefix in prefixes)

    chosen = profile_for_key(key, profiles)

    matching = [prefix for prefix in prefixes if key.startswith(prefix)]
    if not matching:
        assert chosen is None
    else:
        assert chosen is not None and key.startswith(chosen.prefix)
        assert len(chosen.prefix) == max(map(len, matching))


@given(st.permutations([CALLS, SUPPORT_CALLS, Profile("calls/support/vip/", TOP)]))
def test_the_order_of_the_profiles_does_not_matter(profiles):
    assert profile_for_key("calls/support/x.wav", profiles) == SUPPORT_CALLS


def test_profiles_come_back_from_their_json_unchanged():
    profiles = (
        CALLS,
        profile_from_mapping(
            {
                "prefix": "multi/",
                "identify_language": True,
                "language_options": ["en-US", "es-US"],
                "language_id_settings": {"en-US": {"vocabulary_filter_name": "f"}},
                "vocabulary_filter_method": "remove",
                "subtitle_formats": ["vtt"],
                "subtitle_style": {"max_chars_per_line": 32, "speaker_prefix": True},
            }
        ),
    )

    assert profiles_from_json(profiles_to_json(profiles)) == profiles


def test_a_profile_that_identifies_the_language_has_no_fixed_language():
    profile = profile_from_mapping({"prefix": "m/", "identify_language": True})

    assert profile.job.language is None


def test_a_profile_leaves_out_what_it_does_not_set_to_the_defaults():
    profile = profile_from_mapping({"prefix": "c/", "channel_identification": True})

    assert profile.job.subtitle_style == SubtitleStyle()
    assert profile.job.subtitle_formats == ("srt", "vtt")
    assert profile.job.language == "en-US"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"show_speaker_labels": True, "channel_identification": True},
            "'show_speaker_labels', 'channel_identification': Transcribe refuses both",
        ),
        ({"vocabulary_filter_name": "f"}, "'vocabulary_filter_method': mask, remove or tag"),
        (
            {"vocabulary_filter_method": "mask"},
            "'vocabulary_filter_method': null unless a vocabulary filter is named",
        ),
        (
            {"vocabulary_filter_name": "f", "vocabulary_filter_method": "bleep"},
            "'vocabulary_filter_method': one of mask, remove, tag",
        ),
        (
            {"identify_language": True, "vocabulary_name": "v"},
            "'vocabulary_name', 'identify_language': with language identification",
        ),
        (
            {"identify_language": True, "language_model_name": "m"},
            "'language_model_name', 'identify_language'",
        ),
        (
            {"language_id_settings": {"en-US": {"vocabulary_name": "v"}}},
            "'language_id_settings': only with identify_language or "
            "identify_multiple_languages true",
        ),
        (
            {
                "identify_language": True,
                "language_options": ["en-GB", "fr-FR"],
                "language_id_settings": {"en-US": {"vocabulary_name": "v"}},
            },
            "'language_id_settings', 'language_options': each language",
        ),
        (
            {
                "identify_language": True,
                "language_options": ["en-US", "fr-FR"],
                "language_id_settings": {"en-US": {"vocabulary": "v"}},
            },
            "'language_id_settings.en-US': an object with keys among",
        ),
        ({"language": "en-US", "identify_language": True}, "exclude each other"),
        ({"max_speaker_labels": 31}, "'max_speaker_labels': an integer 2-30"),
        ({"vocabulary_name": "has space"}, "'vocabulary_name': null or 1-200 characters"),
        ({"subtitle_formats": ["srt", "ass"]}, "'subtitle_formats'"),
        ({"subtitle_style": {"max_chars_per_line": 5}}, "'subtitle_style': field"),
        ({"channel_identification": "yes"}, "'channel_identification': true or false"),
        ({"speaker_labels": True}, "'speaker_labels': unknown key"),
    ],
)
def test_an_inconsistent_profile_is_refused_naming_its_prefix_and_keys(settings, message):
    with pytest.raises(ProfileError) as error:
        profile_from_mapping({"prefix": "calls/", **settings})

    assert str(error.value).startswith("profile 'calls/': ")
    assert message in str(error.value)


def test_the_same_prefix_twice_is_refused_when_read_back():
    text = profiles_to_json((CALLS, CALLS))

    with pytest.raises(ProfileError, match="each profile prefix at most once"):
        profiles_from_json(text)


def test_profiles_with_every_new_feature_come_back_from_their_json_unchanged():
    profiles = (
        profile_from_mapping(
            {
                "prefix": "calls/",
                "channel_identification": True,
                "channel_roles": ["agent", "customer"],
                "content_redaction": {"pii_entity_types": ["SSN", "PIN"], "output": "redacted"},
                "toxicity_detection": True,
            }
        ),
        profile_from_mapping(
            {
                "prefix": "multi/",
                "identify_multiple_languages": True,
                "language_options": ["en-US", "hi-IN"],
                "content_redaction": None,
            }
        ),
    )

    assert profiles_from_json(profiles_to_json(profiles)) == profiles


def test_a_redaction_of_all_types_is_written_back_as_the_word_all():
    profile = profile_from_mapping({"prefix": "c/", "content_redaction": {}})

    assert profile.job.content_redaction is not None
    assert profile.job.content_redaction.to_mapping() == {
        "pii_entity_types": "ALL",
        "output": "redacted",
    }


def test_multi_language_identification_leaves_the_language_unset():
    profile = profile_from_mapping({"prefix": "m/", "identify_multiple_languages": True})

    assert profile.job.language is None
    assert profile.job.identifies_language


@given(st.lists(st.text(min_size=1, max_size=45), min_size=1, max_size=2, unique=True))
def test_a_channel_role_is_accepted_exactly_when_it_can_label_a_line(roles):
    def can_label(role: str) -> bool:
        return len(role) <= 40 and role == role.strip() and ":" not in role and role.isprintable()

    mapping = {"prefix": "c/", "channel_identification": True, "channel_roles": roles}
    if all(map(can_label, roles)):
        assert profile_from_mapping(mapping).job.channel_roles == tuple(roles)
    else:
        with pytest.raises(ProfileError, match="'channel_roles'"):
            profile_from_mapping(mapping)
