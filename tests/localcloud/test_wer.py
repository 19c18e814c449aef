"""Word error rate used to measure the local recognizer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.wer import edit_distance, normalize, wer


def test_identical_text_has_no_errors() -> None:
    assert wer("the cat sat", "the cat sat") == 0.0


def test_case_and_punctuation_are_ignored() -> None:
    assert wer("Hello, World! It's ten o'clock.", "hello world its ten oclock") == 0.0


@pytest.mark.parametrize(
    ("hypothesis", "errors"),
    [
        ("the dog sat", 1),  # substitution
        ("the sat", 1),  # deletion
        ("the cat sat down", 1),  # insertion
        ("a dog", 3),  # 2 substitutions + 1 deletion
        ("", 3),
    ],
)
def test_each_substitution_deletion_and_insertion_counts_once(hypothesis: str, errors: int) -> None:
    assert wer("the cat sat", hypothesis) == pytest.approx(errors / 3)


def test_empty_reference_scores_zero_for_empty_hypothesis_and_one_otherwise() -> None:
    assert wer("", "") == 0.0
    assert wer("...", "hello") == 1.0


def test_normalize_splits_on_whitespace_and_punctuation() -> None:
    assert normalize("  Good-bye,\tworld. ") == ["good", "bye", "world"]


words = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12)


@given(words, words)
def test_edit_distance_is_symmetric_and_bounded_by_the_longer_sequence(
    ref: list[str], hyp: list[str]
) -> None:
    distance = edit_distance(ref, hyp)

    assert distance == edit_distance(hyp, ref)
    assert abs(len(ref) - len(hyp)) <= distance <= max(len(ref), len(hyp))


@given(words, words, words)
def test_edit_distance_obeys_the_triangle_inequality(
    a: list[str], b: list[str], c: list[str]
) -> None:
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)
