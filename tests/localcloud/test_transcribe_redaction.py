"""PII redaction by pattern over result items: recognizer-independent, pure functions."""

from __future__ import annotations

import pytest

from localcloud.transcribe.redaction import PII_TAG, entity_type, redact
from localcloud.transcribe_items import Item, transcript_text


def _items(text: str, channel: str | None = None) -> list[Item]:
    """Items of a text: one word per space-separated token, marks split off, 0.5 s each."""
    items: list[Item] = []
    clock = 0.0
    for token in text.split():
        word = token.rstrip(".,")
        if word:
            items.append(Item.pronunciation(word, clock, clock + 0.5, 0.9, channel_label=channel))
            clock += 0.5
        items.extend(
            Item("punctuation", mark, space_before=False, channel_label=channel)
            for mark in token[len(word) :]
        )
    return items


def _redactions(items: list[Item]) -> list[tuple[str, float]]:
    return [r for item in items for r in item.redactions]


def test_a_phone_number_written_in_digits_becomes_one_pii_item() -> None:
    redacted = redact(_items("Please call me back at 5552124367. Thanks."))

    assert transcript_text(redacted) == "Please call me back at [PII]. Thanks."
    assert [kind for kind, _ in _redactions(redacted)] == ["PHONE"]


def test_a_phone_number_spoken_in_words_is_redacted_from_its_first_to_its_last_word() -> None:
    items = _items("call me at five five five, two one two, four three six seven please")

    redacted = redact(items)

    pii = [i for i in redacted if i.content == PII_TAG]
    assert transcript_text(redacted) == "call me at [PII] please"
    assert (pii[0].start, pii[0].end) == (items[3].start, items[-2].end)


def test_double_and_triple_count_their_digits() -> None:
    redacted = redact(_items("my number is five double five triple oh one two"))

    assert transcript_text(redacted) == "my number is [PII]"
    assert _redactions(redacted)[0][0] == "PHONE"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my social security number is 123-45-6789", "SSN"),
        ("the routing number is 021000021", "BANK_ROUTING"),
        ("my card number is 4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"),
        ("the account number is 000123456789", "BANK_ACCOUNT_NUMBER"),
        ("and the cvv is 123", "CREDIT_DEBIT_CVV"),
        ("my pin is four three two one", "PIN"),
        ("it ends in 4111 on the card", None),
    ],
)
def test_the_entity_type_follows_the_words_before_the_number(text: str, kind: str | None) -> None:
    found = _redactions(redact(_items(text)))

    assert [k for k, _ in found] == ([kind] if kind else [])


def test_a_number_without_context_is_named_by_its_length() -> None:
    assert entity_type(16, "so it is") == "CREDIT_DEBIT_NUMBER"
    assert entity_type(10, "so it is") == "PHONE"
    assert entity_type(9, "so it is") == "SSN"
    assert entity_type(4, "so it is") is None


def test_small_numbers_and_words_like_one_are_left_alone() -> None:
    text = "I have two cats and one dog, born in 2019, oh well."

    assert transcript_text(redact(_items(text))) == transcript_text(_items(text))


def test_only_the_requested_entity_types_are_redacted() -> None:
    items = _items("call 5552124367 with card 4111111111111111")

    only_cards = redact(items, ["CREDIT_DEBIT_NUMBER"])
    every_type = redact(items, ["ALL"])

    assert transcript_text(only_cards) == "call 5552124367 with card [PII]"
    assert transcript_text(every_type) == "call [PII] with card [PII]"


def test_the_pii_item_carries_the_redaction_in_transcribes_shape() -> None:
    redacted = redact(_items("call 5552124367"))

    item = redacted[1].to_json(1)

    assert item["type"] == "pronunciation"
    assert item["alternatives"] == [
        {
            "content": "[PII]",
            "redactions": [{"confidence": "0.9", "type": "PHONE", "category": "PII"}],
        }
    ]
    assert (item["start_time"], item["end_time"]) == ("0.5", "1.0")


def test_digits_of_two_channels_never_join_into_one_number() -> None:
    # Ten digits in all (a phone number), six and four on each channel (nothing).
    left = _items("call 555212", channel="ch_0")
    right = _items("4367 ok", channel="ch_1")

    redacted = redact([*left, *right])

    assert PII_TAG not in transcript_text(redacted)
