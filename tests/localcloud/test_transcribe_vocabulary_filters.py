"""Vocabulary filters applied to result items: mask, remove, tag (pure functions)."""

from __future__ import annotations

import pytest

from localcloud.transcribe.vocabulary_filters import apply_filter
from localcloud.transcribe_items import Item, transcript_text


def _items(*words: str, language: str | None = None) -> list[Item]:
    return [
        Item.pronunciation(w, n, n + 0.5, 0.9, language_code=language) for n, w in enumerate(words)
    ]


WORDS = {"en-US": ["Sunny", "warm"]}


def test_mask_replaces_each_filtered_word_with_three_asterisks() -> None:
    filtered = apply_filter(_items("sunny", "and", "WARM"), "mask", WORDS, "en-US")

    assert transcript_text(filtered) == "*** and ***"


def test_remove_leaves_nothing_in_the_words_place() -> None:
    filtered = apply_filter(_items("sunny", "and", "warm", "today"), "remove", WORDS, "en-US")

    assert transcript_text(filtered) == "and today"


def test_tag_keeps_the_word_and_marks_its_item() -> None:
    filtered = apply_filter(_items("sunny", "day"), "tag", WORDS, "en-US")

    assert [i.to_json(n).get("vocabularyFilterMatch") for n, i in enumerate(filtered)] == [
        True,
        None,
    ]
    assert transcript_text(filtered) == "sunny day"


def test_only_whole_words_match() -> None:
    filtered = apply_filter(_items("warmer", "sunnyside"), "mask", WORDS, "en-US")

    assert transcript_text(filtered) == "warmer sunnyside"


def test_a_filter_applies_to_speech_in_its_own_language_only() -> None:
    spanish = _items("sunny", language="es-US")
    english = _items("sunny", language="en-US")

    filtered = apply_filter([*spanish, *english], "mask", WORDS, None)

    assert transcript_text(filtered) == "sunny ***"


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="mask, remove, tag"):
        apply_filter(_items("sunny"), "blur", WORDS, "en-US")
