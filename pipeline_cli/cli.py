"""The ``transcribe-pipeline`` commands: their options, wired from each command's logic to views.

Each command's logic lives in the module named after it (status.py, upload.py, wait.py,
listing.py, results.py for ``get``, retry.py, clean.py), what it prints in views.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from typer.core import TyperGroup

from pipeline_cli import last_upload, views
from pipeline_cli.aws import Clients, Target, find_pipeline
from pipeline_cli.clean import clean_pipeline, inventory
from pipeline_cli.errors import CliError, ExitCode, translate
from pipeline_cli.listing import InputState, list_inputs
from pipeline_cli.results import Format, fetch
from pipeline_cli.retry import retry_failures
from pipeline_cli.status import pipeline_status
from pipeline_cli.upload import plan_uploads, upload_all
from pipeline_cli.wait import State, awaited, follow
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs

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
            views.fail(error)
        except (BotoCoreError, ClientError, Boto3Error) as error:
            known = translate(error)
            if known is None:
                raise
            views.fail(known)


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
        views.emit_json(found.to_json())
    else:
        views.show_status(pipeline, found)


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
    views.show_refusals(plan)
    if plan.refused:
        raise CliError(
            f"{len(plan.refused)} file(s) refused; nothing was uploaded.", ExitCode.USAGE
        )
    if not plan.uploads:
        raise CliError("Nothing to upload: no supported media files.", ExitCode.USAGE)
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    with views.upload_progress() as progress:
        uploaded = upload_all(clients("s3"), pipeline.input_bucket, plan.uploads, progress=progress)
    if json_output:
        views.emit_json(views.uploaded_json(pipeline, uploaded, plan))
    else:
        views.show_uploaded(pipeline, uploaded)


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
    expected = awaited(s3, pipeline, keys)
    with views.wait_progress(len(expected)) as ended:
        results = follow(
            s3,
            pipeline.output_bucket,
            expected,
            timeout=timeout,
            interval=interval,
            on_outcome=ended,
        )
    failed = sum(o.state is State.FAILED for o in results)
    pending = sum(o.state is State.PENDING for o in results)
    if json_output:
        views.emit_json({"timed_out": bool(pending), "inputs": [o.to_json() for o in results]})
    else:
        views.show_outcomes(results)
    if failed:
        views.err.print(f"[red]{failed} of {len(results)} input(s) failed.[/]")
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
        views.emit_json([entry.to_json() for entry in entries])
    else:
        views.show_entries(entries, prefix)


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
    views.show_result(result, output=output, json_output=json_output)


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
    retried = retry_failures(clients, pipeline, dry_run=dry_run)
    if json_output:
        views.emit_json(retried.to_json())
    else:
        views.show_retried(retried, dry_run=dry_run)


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

    A job counts as this pipeline's when its name has the pipeline's prefix and its media is
    in the pipeline's input bucket; other jobs with the prefix are left alone and reported.
    The stack itself stays: `npx cdk destroy` removes it.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    found = inventory(clients, pipeline)
    if not yes and not views.confirm_clean(pipeline, found):
        raise typer.Exit(int(ExitCode.FAILED))
    deleted = clean_pipeline(clients, pipeline, found)
    last_upload.forget(pipeline.input_bucket)
    if json_output:
        views.emit_json(deleted.to_json())
    else:
        views.show_cleaned(deleted)


def main() -> None:
    """Entry point of the ``transcribe-pipeline`` console script and ``python -m pipeline_cli``."""
    app(prog_name="transcribe-pipeline")
