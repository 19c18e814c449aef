"""The subtitle style: one object, validated the same way at synth and at cold start.

The stack checks the ``subtitle_style`` context value with :func:`style_from_mapping` and
passes it to the functions as JSON in the ``SUBTITLE_STYLE`` variable (its name is in
transcribe_pipeline.environment); the functions read it back with the same function. A profile
can carry the same object (docs/subtitles.md explains the defaults).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


class StyleError(ValueError):
    """A style field is unknown or out of range; the message names the field and what is allowed."""


@dataclass(frozen=True, kw_only=True)
class SubtitleStyle:
    """How words become cues: line and cue size, cue duration, reading speed, where to split."""

    # Netflix's English template and most broadcasters: 42 characters, 2 lines, 17 characters
    # a second, 5/6 s to 7 s on screen (docs/subtitles.md).
    max_chars_per_line: int = 42
    max_lines_per_cue: int = 2
    min_cue_seconds: float = 1.0
    max_cue_seconds: float = 7.0
    max_chars_per_second: float = 17.0
    # A silence at least this long ends a cue, so text never hangs over a pause into the next
    # phrase; the cue may still stay up into the pause for reading time.
    pause_seconds: float = 1.0
    # "spk_0: " (or "ch_0: ") before the first cue of each speaker's or channel's turn.
    speaker_prefix: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            rule = _RULES[field.name]
            value = getattr(self, field.name)
            if not rule.accepts(value):
                raise StyleError(f"field '{field.name}' expected {rule.allowed}, got {value!r}")
        if self.min_cue_seconds > self.max_cue_seconds:
            raise StyleError(
                f"field 'min_cue_seconds' expected at most max_cue_seconds "
                f"({self.max_cue_seconds}), got {self.min_cue_seconds!r}"
            )

    def to_json(self) -> str:
        """The compact JSON the stack puts in the ``SUBTITLE_STYLE`` environment variable."""
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class _Rule:
    allowed: str
    accepts: Callable[[Any], bool]


def _integer(low: int, high: int) -> _Rule:
    return _Rule(
        f"an integer {low}-{high}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high,
    )


def _number(low: float, high: float, *, low_open: bool = False) -> _Rule:
    bound = "more than" if low_open else "at least"

    def accepts(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or value > high:
            return False
        return value > low if low_open else value >= low

    return _Rule(f"a number {bound} {low:g} and at most {high:g}", accepts)


_RULES: dict[str, _Rule] = {
    "max_chars_per_line": _integer(10, 120),
    "max_lines_per_cue": _integer(1, 3),
    "min_cue_seconds": _number(0, 10),
    "max_cue_seconds": _number(1, 60),
    "max_chars_per_second": _number(1, 100),
    "pause_seconds": _number(0, 10, low_open=True),
    "speaker_prefix": _Rule("true or false", lambda v: isinstance(v, bool)),
}
STYLE_FIELDS = tuple(_RULES)


def style_from_mapping(value: Any) -> SubtitleStyle:
    """A style from a JSON object; fields left out take their defaults, unknown ones fail."""
    if not isinstance(value, Mapping):
        raise StyleError(f"expected an object with fields {', '.join(STYLE_FIELDS)}")
    for name in value:
        if name not in _RULES:
            raise StyleError(f"unknown field {name!r}: expected fields {', '.join(STYLE_FIELDS)}")
    numbers = {"min_cue_seconds", "max_cue_seconds", "max_chars_per_second", "pause_seconds"}
    values: dict[str, Any] = {
        # A whole number in JSON is an int; the durations and rates are floats.
        name: float(raw) if name in numbers and _is_plain_int(raw) else raw
        for name, raw in value.items()
    }
    return SubtitleStyle(**values)


def style_from_json(text: str) -> SubtitleStyle:
    """A style from its JSON text (the environment variable, or ``-c subtitle_style=...``)."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StyleError(f"expected a JSON object, got {text!r} ({error})") from None
    return style_from_mapping(value)


def _is_plain_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
