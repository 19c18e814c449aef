"""Helpers shared by the end-to-end modules."""

from __future__ import annotations

import html
import time
from typing import Any


def wait_until_empty(sqs: Any, queue_url: str, timeout: float = 30) -> None:
    """Poll until the queue holds no message, visible or in flight; TimeoutError after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }:
            return
        time.sleep(0.25)
    raise TimeoutError(f"{queue_url} still has messages after {timeout} s")


def srt_cues(srt: str) -> list[tuple[int, int, list[str]]]:
    """(start ms, end ms, lines) of each SubRip cue, checking the numbering from 1."""
    cues = []
    for number, block in enumerate(srt.strip("\n").split("\n\n"), start=1):
        index, timing, *lines = block.split("\n")
        assert index == str(number), block
        start, end = (_ms(stamp.replace(",", ".")) for stamp in timing.split(" --> "))
        cues.append((start, end, lines))
    return cues


def vtt_cues(vtt: str) -> list[tuple[int, int, list[str]]]:
    """(start ms, end ms, unescaped lines) of each WebVTT cue, checking header and numbering."""
    header, _, body = vtt.partition("\n")
    assert header == "WEBVTT", header
    cues = []
    for number, block in enumerate(body.strip("\n").split("\n\n"), start=1):
        index, timing, *lines = block.split("\n")
        assert index == str(number), block
        start, end = (_ms(stamp) for stamp in timing.split(" --> "))
        cues.append((start, end, [html.unescape(line) for line in lines]))
    return cues


def _ms(stamp: str) -> int:
    """Milliseconds of ``HH:MM:SS.mmm``."""
    hours, minutes, rest = stamp.split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)
