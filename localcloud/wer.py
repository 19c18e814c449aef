"""Word error rate: word-level Levenshtein distance over normalized text."""

from __future__ import annotations

import re
from collections.abc import Sequence

_NOT_WORD = re.compile(r"[^\w']+")
_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# Written forms a recognizer may choose where a reference spells the word out.
_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}


def number_words(number: int) -> list[str]:
    """An integer below a million as English words: 21 -> ["twenty", "one"]."""
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        tens, ones = divmod(number, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    thousands, rest = divmod(number, 1000)
    return [*number_words(thousands), "thousand"] + (number_words(rest) if rest else [])


def _spoken(word: str) -> list[str]:
    if word.isdigit() and len(word) < 7:
        return number_words(int(word))
    return [_SPOKEN.get(word, word)]


def normalize(text: str) -> list[str]:
    """Lowercase, drop punctuation (apostrophes join their word: "o'clock" -> "oclock").

    English numerals below a million are spelled out ("10" -> "ten") and a few titles
    expanded ("Mr." -> "mister"): Whisper, like Amazon Transcribe, writes numbers as digits,
    while the references spell what was spoken.
    """
    words = _NOT_WORD.sub(" ", text.lower()).replace("'", "").split()
    return [spoken for word in words if word for spoken in _spoken(word)]


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Minimum substitutions + deletions + insertions turning reference into hypothesis."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference` (0.0 is perfect).

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise, since the
    usual errors / reference-length ratio is undefined there.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
