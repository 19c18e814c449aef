"""PII redaction by pattern: the number-based entities of Transcribe's content redaction.

Amazon Transcribe replaces each piece of PII it finds with one ``[PII]`` item that carries
the entity's type (docs/transcribe-results.md, "Redaction"). The local engine has no entity
recognizer: `redact` finds runs of spoken numbers in the items (digits as Whisper writes
them, "555-0100", or number words, "five five five oh one double oh") and names them by
their count of digits and the words just before them ("social security", "routing",
"card"...). Only number-based types can be found this way: NAME, ADDRESS and EMAIL are
never redacted locally (README, "What differs from AWS").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from localcloud.transcribe_items import Item

PII_TAG = "[PII]"
# The PiiEntityTypes the local engine can find (the others are accepted and not redacted).
NUMBER_BASED = frozenset(
    {
        "BANK_ACCOUNT_NUMBER",
        "BANK_ROUTING",
        "CREDIT_DEBIT_NUMBER",
        "CREDIT_DEBIT_CVV",
        "PIN",
        "PHONE",
        "SSN",
    }
)
_DIGIT_WORDS = {
    "zero": 1,
    "oh": 1,
    "one": 1,
    "two": 1,
    "three": 1,
    "four": 1,
    "five": 1,
    "six": 1,
    "seven": 1,
    "eight": 1,
    "nine": 1,
}
# "double five" says two digits, "triple oh" three.
_REPEATS = {"double": 2, "triple": 3}
# Digits as Whisper writes them: "4111", "555-0100", "4111,1111".
_DIGITS = re.compile(r"\d+(?:[-,]\d+)*")
# Marks that may stand between the groups of one spoken number: "555, 0100".
_JOINING_MARKS = frozenset({",", "-"})
# How many words before a number are read for its context.
CONTEXT_WORDS = 8

# Context words -> (entity type, digit counts it takes). The first rule whose words appear
# before the number and whose counts fit wins; Transcribe's descriptions give the counts
# (docs/transcribe-results.md, "Redaction"), "the last 4 digits" included where it says so.
_CONTEXT_RULES: tuple[tuple[tuple[str, ...], str, frozenset[int]], ...] = (
    (("social", "ssn"), "SSN", frozenset({4, 9})),
    (("routing",), "BANK_ROUTING", frozenset({4, 9})),
    (("cvv", "cvc", "verification", "security code"), "CREDIT_DEBIT_CVV", frozenset({3, 4})),
    (("pin",), "PIN", frozenset({4})),
    (("card", "credit", "debit"), "CREDIT_DEBIT_NUMBER", frozenset({4, *range(13, 20)})),
    (("account",), "BANK_ACCOUNT_NUMBER", frozenset({4, *range(8, 18)})),
    (("phone", "call", "fax", "pager", "reach", "number"), "PHONE", frozenset(range(7, 12))),
)
# Without context: how a number of that many digits is read.
_BY_LENGTH: tuple[tuple[frozenset[int], str], ...] = (
    (frozenset(range(13, 20)), "CREDIT_DEBIT_NUMBER"),
    (frozenset({7, 10, 11}), "PHONE"),
    (frozenset({12}), "BANK_ACCOUNT_NUMBER"),
    (frozenset({9}), "SSN"),
)


@dataclass(frozen=True)
class _Run:
    """Items first..last (inclusive) speak one number of `digits` digits."""

    first: int
    last: int
    digits: int


def _digits_of(word: str) -> int | None:
    """How many digits a word says, None when it is not part of a number."""
    if _DIGITS.fullmatch(word):
        return sum(c.isdigit() for c in word)
    return _DIGIT_WORDS.get(word.lower())


def _runs(items: Sequence[Item]) -> list[_Run]:
    """The spoken numbers among the items, joining marks and "double"/"triple" included."""
    runs: list[_Run] = []
    index = 0
    while index < len(items):
        first = last = None
        digits = 0
        cursor = index
        while cursor < len(items):
            item = items[cursor]
            if first is not None and item.channel_label != items[first].channel_label:
                break  # one channel's number never continues in the other's words
            if item.kind == "punctuation":
                if first is None or item.content not in _JOINING_MARKS:
                    break
                cursor += 1
                continue
            repeat = _REPEATS.get(item.content.lower(), 0)
            if repeat and cursor + 1 < len(items):
                said = _digits_of(items[cursor + 1].content)
                if said == 1 and items[cursor + 1].kind == "pronunciation":
                    first = cursor if first is None else first
                    last, digits, cursor = cursor + 1, digits + repeat, cursor + 2
                    continue
            said = _digits_of(item.content)
            if said is None:
                break
            first = cursor if first is None else first
            last, digits, cursor = cursor, digits + said, cursor + 1
        if first is not None and last is not None:
            runs.append(_Run(first, last, digits))
            index = last + 1
        else:
            index += 1
    return runs


def _context(items: Sequence[Item], before: int) -> str:
    """The words said before item `before` on its channel, lower case."""
    channel = items[before].channel_label
    words = [
        i.content.lower()
        for i in items[:before]
        if i.kind == "pronunciation" and i.channel_label == channel
    ]
    return " ".join(words[-CONTEXT_WORDS:])


def entity_type(digits: int, context: str) -> str | None:
    """The PII type of a spoken number of `digits` digits after the words `context`."""
    spoken = set(context.split())
    for cues, kind, counts in _CONTEXT_RULES:
        said = any(cue in spoken or (" " in cue and cue in context) for cue in cues)
        if said and digits in counts:
            return kind
    for counts, kind in _BY_LENGTH:
        if digits in counts:
            return kind
    return None


def redact(items: Sequence[Item], entity_types: Collection[str] | None = None) -> list[Item]:
    """The items with each number-based PII entity replaced by one ``[PII]`` item.

    `entity_types` are the request's PiiEntityTypes; None, empty or "ALL": every type. The
    ``[PII]`` item spans the entity's words; its redaction confidence is the lowest
    recognition confidence among them (a pattern has no confidence of its own).
    """
    wanted = set(entity_types or ()) or {"ALL"}
    out: list[Item] = []
    position = 0
    for run in _runs(items):
        kind = entity_type(run.digits, _context(items, run.first))
        if kind is None or not ({"ALL", kind} & wanted):
            continue
        words = [i for i in items[run.first : run.last + 1] if i.kind == "pronunciation"]
        out.extend(items[position : run.first])
        head = words[0]
        assert head.start is not None and words[-1].end is not None
        out.append(
            Item(
                "pronunciation",
                PII_TAG,
                head.start,
                words[-1].end,
                0.0,
                language_code=head.language_code,
                space_before=head.space_before,
                channel_label=head.channel_label,
                redactions=((kind, min(w.confidence for w in words)),),
            )
        )
        position = run.last + 1
    out.extend(items[position:])
    return out
