"""The ``transcribe-pipeline`` commands: status, upload, wait, list, get, retry, clean."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table
from typer.core import TyperGroup

from pipeline_cli import last_upload
from pipeline_cli.aws import Clients, Target, find_pipeline
from pipeline_cli.clean import (
    Action,
    Decision,
    clean_pipeline,
    decide,
    failure_records,
    inventory,
    redrive_start_queue,
    resubmit,
)
from pipeline_cli.errors import CliError, ExitCode, translate
from pipeline_cli.listing import InputState, list_inputs, pipeline_status, queue_depth
from pipeline_cli.readers import Outcome, State, check, expect
from pipeline_cli.results import Format, fetch
from pipeline_cli.upload import plan_uploads, upload_file
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs

out = Console()
# Messages are not re-wrapped: paths and keys in them stay whole for copy and paste.
err = Console(stderr=True, soft_wrap=True)

HELP = f"""\
Operate a deployed transcription pipeline: upload media, watch it being transcribed, list
inputs with their jobs, fetch transcripts, re-drive failures and clean up.

The pipeline is found by its CloudFormation stack (--stack, default {DEFAULT_STACK_NAME})
with the normal AWS credential chain (--profile, --region), or in the local cloud with
--local (http://localhost:4566, or --endpoint-url / AWS_ENDPOINT_URL; test credentials).
"""
EPILOG = """\
Every command takes --json (data on stdout, messages on stderr) and the connection options.
Exit codes: 0 ok, 1 an input or operation failed, 2 usage error or refused file,
3 stack/input/result not found, 4 no credentials or endpoint unreachable, 5 wait timed out.
The last upload is remembered in $XDG_STATE_HOME/transcribe-pipeline/last-upload.json
(~/.local/state/...; TRANSCRIBE_PIPELINE_STATE_DIR overrides the folder).
"""


class _Guarded(TyperGroup):
    """Reports CliErrors and AWS SDK errors in one line with their exit code, not a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        """Run the command; turn the errors a user can act on into messages and exit codes."""
        try:
            return super().invoke(ctx)
        except CliError as error:
            _fail(error)
        except (BotoCoreError, ClientError, Boto3Error) as error:
            known = translate(error)
            if known is None:
                raise
            _fail(known)


def _fail(error: CliError) -> None:
    err.print(f"[bold red]error:[/] {escape(error.message)}")
    if error.hint:
        err.print(f"[dim]hint:[/] {escape(error.hint)}")
    raise typer.Exit(int(error.code))


app = typer.Typer(
    name="transcribe-pipeline",
    cls=_Guarded,
    help=HELP,
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals may hold credentials
)

_CONNECTION = "Connection"
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout (messages go to stderr).")
]
StackOption = Annotated[
    str,
    typer.Option(
        "--stack",
        envvar="TRANSCRIBE_PIPELINE_STACK",
        help="The pipeline's CloudFormation stack.",
        rich_help_panel=_CONNECTION,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="AWS named profile (default: the standard credential chain).",
        rich_help_panel=_CONNECTION,
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region", help="AWS region (default: the profile's).", rich_help_panel=_CONNECTION
    ),
]
LocalOption = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Use the local cloud: http://localhost:4566 (or --endpoint-url, AWS_ENDPOINT_URL), "
        "region us-east-1, test credentials.",
        rich_help_panel=_CONNECTION,
    ),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Call this endpoint instead of AWS's (e.g. http://localhost:4567).",
        rich_help_panel=_CONNECTION,
    ),
]


def _connect(
    stack: str, profile: str | None, region: str | None, local: bool, endpoint_url: str | None
) -> tuple[Clients, StackOutputs]:
    """Clients for the target and the pipeline its stack describes."""
    if local and profile:
        raise CliError("--local uses test credentials; drop --profile.", ExitCode.USAGE)
    target = Target(
        stack=stack, profile=profile, region=region, local=local, endpoint_url=endpoint_url
    )
    clients = Clients(target)
    return clients, find_pipeline(clients)


def _table(*columns: Column | str) -> Table:
    """A table with a ruled header and no borders: plain to read and to copy from."""
    return Table(*columns, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))


def _print_reasons(reasons: Iterable[tuple[str, str | None]]) -> None:
    """Failure reasons below a table, one paragraph each: too long for a table cell."""
    for key, reason in reasons:
        out.print(f"[red]{escape(key)}[/]: {escape(reason or 'no reason recorded')}")


def _emit_json(data: Any) -> None:
    # Console.out neither wraps nor interprets markup: the JSON stays valid at any width.
    out.out(json.dumps(data, indent=2, ensure_ascii=False, default=str), highlight=False)


@app.command()
def status(
    *,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Show the deployed pipeline: buckets, queue depths, dead letters, jobs by state."""
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    found = pipeline_status(clients, pipeline)
    if json_output:
        _emit_json(found.to_json())
        return
    facts = Table.grid(padding=(0, 2))
    facts.add_row("Stack", f"{pipeline.stack} ({pipeline.status}) in {found.where}")
    facts.add_row("Input bucket", pipeline.input_bucket)
    facts.add_row("Output bucket", pipeline.output_bucket)
    facts.add_row("Job names", f"{pipeline.job_name_prefix}*")
    out.print(facts)
    queues = _table("Queue", "Waiting", "In flight")
    for queue in found.queues:
        dead = "DeadLetter" in queue.name and queue.visible > 0
        style = "bold red" if dead else None
        queues.add_row(queue.name, str(queue.visible), str(queue.in_flight), style=style)
    out.print(queues)
    jobs = _table("Transcription jobs", "Count")
    for job_state, count in found.jobs.items():
        jobs.add_row(job_state, str(count))
    if not found.jobs:
        jobs.add_row("(none)", "0")
    out.print(jobs)


@app.command()
def upload(
    *,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Media files, or folders (uploaded as <folder name>/<path>).", show_default=False
        ),
    ],
    prefix: Annotated[
        str, typer.Option("--prefix", help="Key prefix, e.g. talks/ (a trailing / is added).")
    ] = "",
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Upload media to the input bucket, with progress bars; remembered for `wait`.

    Files the pipeline would reject (unsupported extension, empty, over 2 GB) are refused
    before anything is uploaded; inside folders they are skipped with a warning.
    """
    plan = plan_uploads(paths, prefix=prefix)
    for skipped in plan.skipped:
        err.print(f"[yellow]skipped[/] {escape(str(skipped.path))}: {escape(skipped.reason)}")
    for refused in plan.refused:
        err.print(f"[red]refused[/] {escape(str(refused.path))}: {escape(refused.reason)}")
    if plan.refused:
        raise CliError(
            f"{len(plan.refused)} file(s) refused; nothing was uploaded.", ExitCode.USAGE
        )
    if not plan.uploads:
        raise CliError("Nothing to upload: no supported media files.", ExitCode.USAGE)
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    s3 = clients("s3")
    uploaded: list[last_upload.Upload] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err) as progress:
            for planned in plan.uploads:
                task = progress.add_task(escape(planned.key), total=planned.size)

                def advance(sent: int, task: Any = task) -> None:
                    """boto3's transfer callback: bytes sent since the last call."""
                    progress.advance(task, sent)

                uploaded.append(upload_file(s3, pipeline.input_bucket, planned, on_bytes=advance))
    finally:
        if uploaded:  # what did reach the bucket is worth waiting for, even after an error
            last_upload.remember(pipeline.input_bucket, uploaded)
    if json_output:
        _emit_json(
            {
                "bucket": pipeline.input_bucket,
                "uploads": [
                    {"key": u.key, "version_id": u.version_id, "path": str(p.path), "size": p.size}
                    for u, p in zip(uploaded, plan.uploads, strict=True)
                ],
            }
        )
        return
    out.print(f"Uploaded {len(uploaded)} file(s) to s3://{escape(pipeline.input_bucket)}/")
    for item in uploaded:
        out.print(f"  {escape(item.key)}")
    out.print("Next: [bold]transcribe-pipeline wait[/] follows them until they are transcribed.")


@app.command()
def wait(
    *,
    keys: Annotated[
        list[str] | None,
        typer.Argument(help="Input keys (default: the last upload's).", show_default=False),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Give up after this many seconds.")
    ] = 600.0,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between checks.")
    ] = 2.0,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Wait until each input has a transcript or a failure record; exit 1 if any failed.

    Only outputs of the awaited version count: a transcript of an earlier upload of the
    same key does not end the wait. Exit 5 when --timeout passes first.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    s3 = clients("s3")
    if keys:
        expected = [expect(s3, pipeline, key) for key in dict.fromkeys(keys)]
    else:
        remembered = last_upload.recall(pipeline.input_bucket)
        if not remembered:
            raise CliError(
                "Nothing to wait for: no upload remembered for this pipeline.",
                ExitCode.USAGE,
                hint="Name the input keys, or upload first.",
            )
        expected = [expect(s3, pipeline, u.key, u.version_id) for u in remembered]
    outcomes = {e.key: Outcome(e.key, State.PENDING, e.job_name) for e in expected}
    deadline = time.monotonic() + timeout
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("Transcribing", total=len(expected))
        while True:
            for item in expected:
                if outcomes[item.key].state is not State.PENDING:
                    continue
                outcome = check(s3, pipeline.output_bucket, item)
                if outcome.state is State.PENDING:
                    continue
                outcomes[item.key] = outcome
                progress.advance(task)
                if outcome.state is State.TRANSCRIBED:
                    progress.console.print(f"[green]transcribed[/] {escape(item.key)}")
                else:
                    progress.console.print(
                        f"[red]failed[/] {escape(item.key)}: {escape(outcome.reason or '')}"
                    )
            pending = sum(o.state is State.PENDING for o in outcomes.values())
            remaining = deadline - time.monotonic()
            if not pending or remaining <= 0:
                break
            time.sleep(min(interval, remaining))
    results = list(outcomes.values())
    failed = [o for o in results if o.state is State.FAILED]
    if json_output:
        _emit_json({"timed_out": bool(pending), "inputs": [o.to_json() for o in results]})
    else:
        table = _table(Column("Input", overflow="fold"), "Outcome", Column("Job", overflow="fold"))
        style = {State.TRANSCRIBED: "green", State.FAILED: "red", State.PENDING: "yellow"}
        for o in results:
            table.add_row(o.key, o.state.value, o.job_name, style=style[o.state])
        out.print(table)
        _print_reasons((o.key, o.reason) for o in failed)
    if failed:
        err.print(f"[red]{len(failed)} of {len(results)} input(s) failed.[/]")
        raise typer.Exit(int(ExitCode.FAILED))
    if pending:
        raise CliError(
            f"Timed out after {timeout:g} s with {pending} input(s) still pending.",
            ExitCode.TIMEOUT,
            hint="`transcribe-pipeline status` shows queues and jobs; run `wait` again to go on.",
        )


@app.command("list")
def list_(
    *,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Only input keys starting with this.")
    ] = "",
    states: Annotated[
        list[InputState] | None,
        typer.Option(
            "--state",
            case_sensitive=False,
            help="Only inputs in this state (repeatable). WAITING: no job yet; REJECTED: never "
            "sent to Transcribe; the others are Transcribe's job states.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """List inputs with their job, state, language, timings, outputs and failure reason."""
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    entries = list_inputs(clients, pipeline, prefix=prefix, states=set(states) if states else None)
    if json_output:
        _emit_json([entry.to_json() for entry in entries])
        return
    table = _table(
        Column("Input", overflow="fold"),
        "State",
        Column("Job", overflow="fold"),
        "Lang",
        Column("Took", justify="right"),
        "Outputs",
    )
    style = {InputState.COMPLETED: "green", InputState.FAILED: "red", InputState.REJECTED: "red"}
    for e in entries:
        took = f"{e.seconds:.1f} s" if e.seconds is not None else ""
        outputs = " ".join(e.outputs) or ("see below" if e.reason else "")
        table.add_row(
            e.key,
            e.state.value,
            e.job_name,
            e.language or "",
            took,
            outputs,
            style=style.get(e.state),
        )
    out.print(table)
    _print_reasons((e.key, e.reason) for e in entries if e.reason and not e.outputs)
    if not entries:
        err.print("No inputs" + (f" under {escape(prefix)!r}" if prefix else "") + ".")


@app.command()
def get(
    *,
    key: Annotated[str, typer.Argument(help="The input's key, e.g. talks/my talk.mp3.")],
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="txt transcript, srt/vtt subtitles, or json: every word with start, end "
            "(seconds) and confidence, from Transcribe's <job>.json.",
        ),
    ] = Format.TXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Fetch one input's result. Exit 1 if the input failed (with the reason), 3 if none yet."""
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    result = fetch(clients("s3"), pipeline, key, fmt)
    if result.note:
        err.print(f"[yellow]note:[/] {escape(result.note)}")
    if output is not None:
        output.write_text(result.text, encoding="utf-8", newline="")  # bytes as stored
        err.print(f"Wrote {escape(str(output))}")
    if json_output:
        content: Any = result.document if result.document is not None else result.text
        _emit_json(
            {
                "key": key,
                "format": fmt.value,
                "job": result.job_name,
                "file": str(output) if output else None,
                "content": content,
            }
        )
    elif output is None:
        # Written as is: rich would drop control characters such as the CR of SRT's CRLF.
        out.file.write(result.text)


@app.command()
def retry(
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be re-driven and re-submitted.")
    ] = False,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Re-drive the start dead-letter queue and re-submit failed inputs that may succeed now.

    Dead-lettered upload events go back to the start queue (SQS StartMessageMoveTask, or
    receive/re-send where the endpoint lacks it). A failed input is re-submitted by copying it
    onto itself (a new version: a new event and job) unless it cannot succeed: rejected by the
    pipeline's rules, gone, replaced by a newer upload, or media Transcribe could not read.
    Re-submitted inputs become the "last upload" that `wait` follows.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    s3, transcribe = clients("s3"), clients("transcribe")
    if dry_run:
        dead = queue_depth(
            clients("sqs"), "StartDeadLetterQueue", pipeline.start_dead_letter_queue_url
        )
        redriven, method = dead.visible, "dry-run"
    else:
        moved = redrive_start_queue(clients, pipeline)
        redriven, method = moved.moved, moved.method
    decisions: list[Decision] = []
    for record_key, record in failure_records(s3, pipeline):
        decision = decide(s3, transcribe, pipeline, record)
        if decision.action is Action.RESUBMITTED:
            if dry_run:
                decision = replace(decision, action=Action.WOULD_RESUBMIT)
            else:
                version = resubmit(s3, pipeline, decision, record_key)
                decision = replace(decision, version_id=version)
        decisions.append(decision)
    again = [
        last_upload.Upload(d.key, d.version_id) for d in decisions if d.action is Action.RESUBMITTED
    ]
    if again:
        last_upload.remember(pipeline.input_bucket, again)
    if json_output:
        _emit_json(
            {
                "dead_letters": {"moved": redriven, "method": method},
                "inputs": [d.to_json() for d in decisions],
            }
        )
        return
    if dry_run:
        out.print(f"Start dead-letter queue: {redriven} message(s) would be re-driven.")
    elif redriven:
        out.print(f"Start dead-letter queue: {redriven} message(s) re-driven ({method}).")
    else:
        out.print("Start dead-letter queue: empty.")
    if not decisions:
        out.print("No failure records.")
        return
    table = _table(Column("Input", overflow="fold"), "Action", "Why")
    for d in decisions:
        table.add_row(
            d.key, d.action.value, d.why, style="green" if d.action is not Action.SKIPPED else "dim"
        )
    out.print(table)
    if again:
        out.print("Next: [bold]transcribe-pipeline wait[/] follows the re-submitted inputs.")


@app.command()
def clean(
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Delete this pipeline's transcription jobs and empty both buckets (every version).

    The stack itself stays: `npx cdk destroy` removes it.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    found = inventory(clients, pipeline)
    if not yes:
        err.print("This deletes:")
        err.print(f"  {len(found.jobs)} transcription job(s) named {pipeline.job_name_prefix}*")
        for bucket, count in found.objects.items():
            err.print(f"  {count} object version(s) in {bucket}")
        if not typer.confirm("Delete them?", err=True):
            err.print("Nothing deleted.")
            raise typer.Exit(int(ExitCode.FAILED))
    deleted = clean_pipeline(clients, pipeline, found.jobs)
    last_upload.forget(pipeline.input_bucket)
    if json_output:
        _emit_json(deleted.to_json())
        return
    out.print(f"Deleted {len(deleted.jobs)} transcription job(s).")
    for bucket, count in deleted.objects.items():
        out.print(f"Emptied {bucket}: {count} object version(s) deleted.")


def main() -> None:
    """Entry point of the ``transcribe-pipeline`` console script and ``python -m pipeline_cli``."""
    app(prog_name="transcribe-pipeline")
