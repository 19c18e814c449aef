"""Applying a custom vocabulary filter to result items: mask, remove or tag.

As Transcribe does (docs/transcribe-features.md, "Vocabulary filters"): only whole words
match, not case sensitive; ``mask`` writes ``***`` instead of the word, ``remove`` leaves
nothing in its place, ``tag`` keeps the word and marks its item ``vocabularyFilterMatch``. A
filter applies to speech in its own language only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from localcloud.transcribe_items import Item

MASK = "***"
METHODS = ("mask", "remove", "tag")


def apply_filter(
    items: Sequence[Item],
    method: str,
    words_by_language: Mapping[str, Collection[str]],
    default_language: str | None,
) -> list[Item]:
    """The items with the filter's words masked, removed or tagged.

    `words_by_language` maps a language code to the words filtered in it; an item is in its
    own `language_code` (multi-language transcripts) or else in `default_language`.
    """
    if method not in METHODS:
        raise ValueError(f"VocabularyFilterMethod must be one of {', '.join(METHODS)}: {method!r}")
    lowered = {code: {w.lower() for w in words} for code, words in words_by_language.items()}
    out: list[Item] = []
    for item in items:
        language = item.language_code or default_language
        words = lowered.get(language or "", set())
        if item.kind != "pronunciation" or item.content.lower() not in words:
            out.append(item)
        elif method == "mask":
            out.append(replace(item, content=MASK))
        elif method == "tag":
            out.append(replace(item, vocabulary_filter_match=True))
        # "remove": nothing takes the word's place
    return out
