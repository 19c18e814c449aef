"""The CLI against the real app deployed to the local cloud: one operator session, end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.deployment import ROOT, LocalEndpoint, deploy, destroy
from localcloud.wer import wer as word_error_rate
from pipeline_cli.errors import ExitCode
from transcribe_pipeline.keys import encode_event_key
from transcribe_pipeline.stack_outputs import StackOutputs

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli-e2e")]

SAMPLES = ROOT / "samples"
EVENTS = ROOT / "tests" / "events"
HELLO_TEXT = next(
    clip["text"]
    for clip in json.loads((SAMPLES / "texts.json").read_text())["clips"]
    if clip["name"] == "hello-pipeline"
)
HELLO, BROKEN = "session/hello-pipeline.mp3", "session/not-media.mp3"


@pytest.fixture(scope="module")
def outputs(
    endpoint: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackOutputs]:
    """The real stack, deployed with the pinned CDK CLI, and destroyed at the end."""
    cdk_out = tmp_path_factory.mktemp("cli-cdk.out")
    deployed = deploy(endpoint, output_dir=cdk_out)
    try:
        yield deployed
    finally:
        destroy(endpoint, output_dir=cdk_out)


@pytest.fixture(scope="module")
def cli(endpoint: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run ``python -m pipeline_cli <command> --local --endpoint-url ...`` in a subprocess."""
    state_dir = tmp_path_factory.mktemp("cli-state")
    env = {**os.environ, "TRANSCRIBE_PIPELINE_STATE_DIR": str(state_dir), "COLUMNS": "200"}
    env.pop("AWS_ENDPOINT_URL", None)

    def run(*args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        """One CLI command against this module's local cloud."""
        program = [script] if script else [sys.executable, "-m", "pipeline_cli"]
        return subprocess.run(
            [*program, *args, "--local", "--endpoint-url", endpoint.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    return run


def test_an_operator_session_upload_wait_list_get_retry_clean(endpoint, outputs, cli, tmp_path):
    # status, through the installed console script
    script = Path(sys.executable).with_name("transcribe-pipeline")
    assert script.exists(), "`make setup` installs the console script (pip install -e .)"
    status = cli("status", "--json", script=str(script))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["input_bucket"] == outputs.input_bucket

    # upload: a speech sample and a file that only looks like an mp3
    upload = cli("upload", str(SAMPLES / "hello-pipeline.mp3"), str(SAMPLES / "not-media.mp3"),
                 "--prefix", "session", "--json")  # fmt: skip
    assert upload.returncode == 0, upload.stderr
    assert [u["key"] for u in json.loads(upload.stdout)["uploads"]] == [HELLO, BROKEN]

    # wait for the last upload: one transcribed, one failed (exit 1, reason printed)
    wait = cli("wait", "--timeout", "120", "--interval", "0.5", "--json")
    assert wait.returncode == ExitCode.FAILED, wait.stderr
    states = {i["key"]: i for i in json.loads(wait.stdout)["inputs"]}
    assert states[HELLO]["state"] == "transcribed"
    assert states[BROKEN]["state"] == "failed"
    assert "could not be decoded" in states[BROKEN]["reason"]
    assert "could not be decoded" in wait.stderr

    # list: each upload version from the ledger, with its job and outputs
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {e["key"]: e for e in json.loads(listed.stdout)["items"]}
    assert entries[HELLO]["state"] == "TRANSCRIBED"
    assert entries[HELLO]["job"] == states[HELLO]["job"]
    assert {o.rsplit(".", 1)[-1] for o in entries[HELLO]["outputs"]} >= {"txt", "srt", "vtt"}
    assert entries[HELLO]["duration_s"] > 5
    assert entries[BROKEN]["state"] == "FAILED"
    shown = json.loads(cli("status", HELLO, "--json").stdout)
    assert (shown["state"], shown["job"]) == ("TRANSCRIBED", states[HELLO]["job"])

    # get: the transcript, both subtitle formats and the words
    text = cli("get", HELLO)
    assert text.returncode == 0, text.stderr
    assert word_error_rate(HELLO_TEXT, text.stdout) <= 0.15, text.stdout
    srt_file = tmp_path / "hello.srt"
    assert cli("get", HELLO, "--format", "srt", "-o", str(srt_file)).returncode == 0
    assert re.match(r"^1\r?\n\d\d:\d\d:\d\d,\d{3} --> ", srt_file.read_text())
    assert cli("get", HELLO, "--format", "vtt").stdout.startswith("WEBVTT")
    words = json.loads(cli("get", HELLO, "--format", "json").stdout)["words"]
    assert words[0]["word"].lower() == "hello"
    assert all(w["start"] < w["end"] and 0 <= w["confidence"] <= 1 for w in words)
    assert cli("get", BROKEN).returncode == ExitCode.FAILED

    # retry: a dead-lettered upload event goes back to the start queue; the broken media
    # cannot succeed and is left alone
    sqs = endpoint.client("sqs")
    sqs.send_message(
        QueueUrl=outputs.start_dead_letter_queue_url,
        MessageBody=json.dumps(
            _object_created(endpoint, outputs.input_bucket, HELLO, shown["sequencer"])
        ),
    )
    retry = cli("retry", "--json")
    assert retry.returncode == 0, retry.stderr
    retried = json.loads(retry.stdout)
    assert retried["dead_letters"]["moved"] == 1
    assert {i["key"]: i["action"] for i in retried["inputs"]} == {BROKEN: "skipped"}
    _drained(sqs, outputs.start_queue_url)  # else the re-driven event could race `clean`

    # clean: no job of this pipeline, no object version and no ledger item left
    clean = cli("clean", "--yes", "--json")
    assert clean.returncode == 0, clean.stderr
    assert sorted(json.loads(clean.stdout)["jobs"]) == sorted(e["job"] for e in entries.values())
    assert json.loads(cli("list", "--json").stdout)["items"] == []
    assert json.loads(cli("status", "--json").stdout)["versions"] == {}


def test_clean_leaves_a_same_prefix_job_of_another_deployment_alone(endpoint, outputs, cli):
    """Another deployment in the account uses the same job-name prefix on its own bucket."""
    s3, transcribe = endpoint.client("s3"), endpoint.client("transcribe")
    other_bucket = "another-deployment-input"
    s3.create_bucket(Bucket=other_bucket)
    s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), other_bucket, "talk.mp3")
    theirs = f"{outputs.job_name_prefix}another-deployment-talk"
    transcribe.start_transcription_job(
        TranscriptionJobName=theirs,
        LanguageCode="en-US",
        Media={"MediaFileUri": f"s3://{other_bucket}/talk.mp3"},
        OutputBucketName=other_bucket,
    )
    upload = cli("upload", str(SAMPLES / "hello-pipeline.mp3"), "--prefix", "own", "--json")
    assert upload.returncode == 0, upload.stderr
    wait = cli("wait", "--timeout", "120", "--interval", "0.5", "--json")
    assert wait.returncode == 0, wait.stderr
    [ours] = [i["job"] for i in json.loads(wait.stdout)["inputs"]]
    try:
        clean = cli("clean", "--yes", "--json")

        assert clean.returncode == 0, clean.stderr
        cleaned = json.loads(clean.stdout)
        assert cleaned["jobs"] == [ours]
        assert [(s["job"], s["media"]) for s in cleaned["skipped_jobs"]] == [
            (theirs, f"s3://{other_bucket}/talk.mp3")
        ]
        job = transcribe.get_transcription_job(TranscriptionJobName=theirs)["TranscriptionJob"]
        assert job["TranscriptionJobName"] == theirs
        again = cli("clean", "--yes")
        assert again.returncode == 0, again.stderr
        assert "Skipped 1 transcription job(s)" in again.stdout
        assert theirs in again.stdout
    finally:
        transcribe.delete_transcription_job(TranscriptionJobName=theirs)


def test_reprocess_render_only_and_forget_on_the_deployed_app(endpoint, outputs, cli):
    """A new attempt, a re-render and a privacy removal, through the real functions."""
    upload = cli("upload", str(SAMPLES / "hello-pipeline.mp3"), "--prefix", "again", "--json")
    assert upload.returncode == 0, upload.stderr
    key = "again/hello-pipeline.mp3"
    first = cli("wait", key, "--timeout", "120", "--interval", "0.5", "--json")
    assert first.returncode == 0, first.stderr
    [done] = json.loads(first.stdout)["inputs"]

    # reprocess: the same version again, under the second attempt's job
    again = cli("reprocess", key, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["inputs"][0]["attempt"] == 2
    waited = cli("wait", "--timeout", "120", "--interval", "0.5", "--json")
    assert waited.returncode == 0, waited.stderr
    [redone] = json.loads(waited.stdout)["inputs"]
    assert redone["state"] == "transcribed"
    assert redone["job"] != done["job"]
    shown = json.loads(cli("status", key, "--json").stdout)
    assert (shown["attempt"], shown["job"]) == (2, redone["job"])

    # reprocess --render-only: the outputs rewritten from the stored result, no new job
    rendered = cli("reprocess", key, "--render-only", "--json")
    assert rendered.returncode == 0, rendered.stderr
    assert json.loads(rendered.stdout)["inputs"][0]["action"] == "rendered"
    assert json.loads(cli("status", key, "--json").stdout)["job"] == redone["job"]

    # forget: nothing of the key left anywhere
    forgot = cli("forget", key, "--yes", "--json")
    assert forgot.returncode == 0, forgot.stderr
    assert sorted(json.loads(forgot.stdout)["jobs"]) == sorted([done["job"], redone["job"]])
    s3, transcribe = endpoint.client("s3"), endpoint.client("transcribe")
    listed = s3.list_object_versions(Bucket=outputs.input_bucket, Prefix=key)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
    left = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=outputs.output_bucket).get("Contents", [])
        if key in o["Key"] or any(job in o["Key"] for job in (done["job"], redone["job"]))
    ]
    assert left == []
    for job in (done["job"], redone["job"]):
        summaries = transcribe.list_transcription_jobs(JobNameContains=job)
        assert summaries["TranscriptionJobSummaries"] == []
    assert cli("status", key).returncode == ExitCode.NOT_FOUND


def _drained(sqs: Any, url: str, timeout: float = 60.0) -> None:
    """Wait until the start function has consumed every message of the queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(int(counts[name]) == 0 for name in names):
            return
        time.sleep(0.25)
    raise AssertionError(f"{url} still holds messages after {timeout:.0f} s")


def _object_created(
    endpoint: LocalEndpoint, bucket: str, key: str, sequencer: str
) -> dict[str, Any]:
    """The "Object Created" event of the key's current version, as EventBridge delivers it
    (with the sequencer S3 gave that version: a redelivery of the same event)."""
    head = endpoint.client("s3").head_object(Bucket=bucket, Key=key)
    event = json.loads((EVENTS / "s3ObjectCreatedEvent.json").read_text())
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update(
        key=encode_event_key(key),
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        sequencer=sequencer,
        **{"version-id": head["VersionId"]},
    )
    return event
