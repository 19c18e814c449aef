"""Transcribe's result JSON as words with times and confidences."""

from __future__ import annotations

import json

from pipeline_cli.words import Word, words_of
from tests.cli.support import EVENTS


def test_punctuation_has_no_time_and_is_not_a_word():
    result = json.loads((EVENTS / "transcribeResult.json").read_text())

    words = words_of(result)

    assert [w.word for w in words] == ["Hello", "world", "This", "is", "a", "test"]
    assert words[-1] == Word("test", 1.8, 2.3, 0.999)


def test_speaker_labels_are_kept_when_transcribe_gives_them():
    result = json.loads((EVENTS / "transcribeResultSpeakerLabels.json").read_text())

    words = words_of(result)

    assert words[0].speaker == "spk_0"
    assert words[0].to_json()["speaker"] == "spk_0"


def test_silent_media_has_no_words():
    result = json.loads((EVENTS / "transcribeResultSilent.json").read_text())

    assert words_of(result) == []
