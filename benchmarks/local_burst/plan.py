"""The burst's plan: which uploads are dropped, duplicated or plain, and the clip they carry."""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path

import av

RESULTS = Path(__file__).resolve().parent.parent / "results" / "local_burst.json"
SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
SOURCE = SAMPLES / "hello-pipeline.mp3"
CLIP_SECONDS = 3.0  # the first sentence: its last word ends before 3 s, the second starts at 4
DUPLICATE_SHARE = 0.05
DROP_SHARE = 0.10
UPLOAD_THREADS = 16
KEY_ROOT = "burst/"
# Every key is unique (its number) and its own S3 event-key encoding test.
KEY_PATTERNS = (
    "burst/{n:03d}/talk {n:03d} + ü.mp3",  # space -> "+", "+" -> "%2B", ü -> UTF-8 escapes
    "burst/{n:03d}/deep/er/still/räksmörgås_{n}.mp3",  # nesting, non-ASCII
    "burst/{n:03d}/会议 记录 {n}.mp3",  # no ASCII stem at all for the job name
    "burst/{n:03d}/50% off+more {n}.MP3",  # a literal "%", upper-case extension
    "burst/{n:03d}/already%20encoded {n}.mp3",  # decoded twice, it would name another key
)
DUPLICATE_TARGET_ID = "LocalBurstDuplicateDelivery"
# Before the job-state rule is enabled again, the events of the jobs that just finished must
# be through: Transcribe emits them after the status changes (milliseconds apart locally).
STATE_EVENT_SETTLE_SECONDS = 3.0
# Before the duplicate target goes: the local cloud routes S3's events within PutObject, so
# this is a margin (on AWS, events are delivered asynchronously, within seconds).
UPLOAD_EVENT_SETTLE_SECONDS = 1.0
SWEEP_MARGIN_SECONDS = 5.0
MAX_SWEEPS = 5
FINISHED = ("COMPLETED", "FAILED")
WER_SAMPLES = 5
POLL_SECONDS = 1.0
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Which uploads get which fault."""

    keys: list[str]
    dropped: list[str]  # their completion events are dropped (job-state rule disabled)
    duplicated: list[str]  # their upload events are delivered twice (a second target)
    rest: list[str]


def make_plan(uploads: int, seed: int) -> Plan:
    """Keys and fault subsets, reproducible from the seed."""
    rng = random.Random(seed)
    keys = [rng.choice(KEY_PATTERNS).format(n=n) for n in range(uploads)]
    shuffled = rng.sample(keys, len(keys))
    n_drop = max(1, round(uploads * DROP_SHARE))
    n_dup = max(1, round(uploads * DUPLICATE_SHARE))
    dropped, duplicated = shuffled[:n_drop], shuffled[n_drop : n_drop + n_dup]
    faulty = {*dropped, *duplicated}
    return Plan(keys, dropped, duplicated, [k for k in keys if k not in faulty])


def cut_clip(source: Path, target: Path, seconds: float) -> None:
    """The first ``seconds`` of an MP3, whole frames, without re-encoding."""
    with av.open(str(source)) as media, av.open(str(target), "w", format="mp3") as out:
        audio = media.streams.audio[0]
        stream = out.add_stream_from_template(audio)
        for packet in media.demux(audio):
            if packet.pts is None:  # the demuxer's final flush packet
                continue
            if packet.time_base is not None and float(packet.pts * packet.time_base) >= seconds:
                break
            packet.stream = stream
            out.mux(packet)


def reference_text() -> str:
    """What the clip says: the first sentence of hello-pipeline's text in texts.json."""
    clips = json.loads((SAMPLES / "texts.json").read_text())["clips"]
    text = next(c["text"] for c in clips if c["name"] == SOURCE.stem)
    return str(re.split(r"(?<=[.!?])\s+", text)[0])
