"""The ``transcribe-pipeline`` commands: their options, wired from each command's logic to views.

Each command's logic lives in the module named after it (status.py, upload.py, wait.py,
listing.py, results.py for ``get``, retry.py, clean.py, reprocess.py and backfill.py,
forget.py, costs.py), what it prints in views.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from typer.core import TyperGroup

from pipeline_cli import forget as forgetting
from pipeline_cli import last_upload, views
from pipeline_cli.aws import Clients, Target, find_pipeline
from pipeline_cli.backfill import backfill
from pipeline_cli.clean import clean_pipeline, inventory
from pipeline_cli.costs import GroupBy, costs
from pipeline_cli.errors import CliError, ExitCode, translate
from pipeline_cli.ledger import Ledger, pipeline_ledger
from pipeline_cli.listing import DEFAULT_LIMIT, list_versions
from pipeline_cli.reprocess import REPROCESSABLE, Action, render, reprocess, selected_keys
from pipeline_cli.results import Format, fetch
from pipeline_cli.retry import retry_failures
from pipeline_cli.status import key_status, pipeline_status
from pipeline_cli.upload import plan_uploads, upload_all
from pipeline_cli.wait import awaited, follow
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs

HELP = f"""\
Operate a deployed transcription pipeline: upload media, watch it being transcribed, list
upload versions from the ledger, fetch transcripts, reprocess, re-drive failures, forget a
key, estimate costs and clean up.

The pipeline is found by its CloudFormation stack (--stack, default {DEFAULT_STACK_NAME})
with the normal AWS credential chain (--profile, --region), or in the local cloud with
--local (http://localhost:4566, or --endpoint-url / AWS_ENDPOINT_URL; test credentials).
"""
EPILOG = """\
Every command takes --json (data on stdout, messages on stderr) and the connection options.
Exit codes: 0 ok, 1 an input or operation failed (or was refused), 2 usage error or refused
file, 3 stack/input/result not found, 4 no credentials or endpoint unreachable, 5 wait timed
out.
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


def _ledger(clients: Clients, pipeline: StackOutputs) -> Ledger:
    """The pipeline's ledger table (CliError for a stack deployed before the ledger)."""
    return pipeline_ledger(clients("dynamodb"), pipeline)


@app.command()
def status(
    *,
    key: Annotated[
        str | None,
        typer.Argument(help="An input key: show its ledger item instead.", show_default=False),
    ] = None,
    versions: Annotated[
        bool, typer.Option("--versions", help="With KEY: every version, newest first.")
    ] = False,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Show the pipeline's buckets, queues and upload versions by state, or one key's item.

    With KEY: its current version from the ledger (state, job, attempt, times, language,
    audio duration, outputs, reason); exit 3 when the ledger has no item of it.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    ledger = _ledger(clients, pipeline)
    if key is not None:
        items = key_status(ledger, key, every_version=versions)
        if json_output:
            views.emit_json([item.to_json() for item in items] if versions else items[0].to_json())
        else:
            views.show_versions(items, ledger.current(key) if versions else items[0])
        return
    found = pipeline_status(clients, pipeline, ledger)
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
    """Wait until each input's ledger item is final; exit 1 if any failed or was superseded.

    The awaited version's own item decides: an earlier upload of the same key does not end
    the wait. Exit 5 when --timeout passes first.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    expected = awaited(clients("s3"), pipeline, keys)
    with views.wait_progress(len(expected)) as ended:
        results = follow(
            _ledger(clients, pipeline),
            expected,
            timeout=timeout,
            interval=interval,
            on_outcome=ended,
        )
    failed = sum(o.ended_badly for o in results)
    pending = sum(o.state.value == "pending" for o in results)
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


StatesOption = Annotated[
    list[State] | None,
    typer.Option(
        "--state",
        case_sensitive=False,
        help="Only upload versions in this ledger state (repeatable).",
        show_default=False,
    ),
]


@app.command("list")
def list_(
    *,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Only input keys starting with this.")
    ] = "",
    states: StatesOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="At most this many rows (0: all).")
    ] = DEFAULT_LIMIT,
    next_token: Annotated[
        str | None,
        typer.Option("--next-token", help="Go on where a listing with --limit stopped."),
    ] = None,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """List upload versions from the ledger: state, job, language, audio, outputs, reason.

    One Query of the ledger's by-state index per state (every state but SUPERSEDED unless
    --state says), by key within each state; --limit pages and --next-token goes on.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    page = list_versions(
        _ledger(clients, pipeline), states=states, prefix=prefix, limit=limit, token=next_token
    )
    if json_output:
        views.emit_json(
            {"items": [item.to_json() for item in page.items], "next_token": page.next_token}
        )
    else:
        views.show_page(page, prefix)


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
    """Delete this pipeline's jobs, empty both buckets (every version) and the ledger.

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


@app.command("reprocess")
def reprocess_(
    *,
    keys: Annotated[
        list[str] | None,
        typer.Argument(
            help="Input keys (or choose them with --prefix / --state).", show_default=False
        ),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Every key under this prefix.")
    ] = None,
    states: StatesOption = None,
    render_only: Annotated[
        bool,
        typer.Option(
            "--render-only",
            help="Start no job: rebuild txt/srt/vtt/json under transcripts/ from the stored "
            "<job>.json with the current profile settings.",
        ),
    ] = False,
    backfill_items: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="Migration: write ledger items for inputs uploaded before the ledger "
            "existed, from the outputs they have (under --prefix if given). Idempotent.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be done.")
    ] = False,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Run each key's current version again (a new attempt, a new job), or re-render it.

    Only a current version in a final state (REJECTED, TRANSCRIBED, FAILED) is run again:
    one in progress, or one a newer upload replaced, is refused (exit 1; 3 when the ledger
    or the bucket has no such key). Reprocessed keys become the "last upload" `wait` follows.
    """
    if backfill_items and (keys or states or render_only):
        raise CliError("--backfill takes only --prefix and --dry-run.", ExitCode.USAGE)
    if not backfill_items and not keys and prefix is None and not states:
        raise CliError("Name input keys, or choose them with --prefix or --state.", ExitCode.USAGE)
    if states and any(s not in REPROCESSABLE for s in states):
        allowed = ", ".join(s.value for s in REPROCESSABLE)
        raise CliError(f"--state takes a final state: {allowed}.", ExitCode.USAGE)
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    ledger = _ledger(clients, pipeline)
    if backfill_items:
        done = backfill(clients, pipeline, ledger, prefix=prefix or "", dry_run=dry_run)
        if json_output:
            views.emit_json({"inputs": [b.to_json() for b in done]})
        else:
            views.show_backfilled(done)
        return
    chosen = selected_keys(ledger, keys or [], prefix=prefix, states=states)
    run = render if render_only else reprocess
    decisions = run(clients, pipeline, ledger, chosen, dry_run=dry_run)
    if json_output:
        views.emit_json({"inputs": [d.to_json() for d in decisions]})
    else:
        views.show_reprocessed(decisions)
    refused = [d for d in decisions if d.action is Action.REFUSED]
    if refused:
        code = min(d.code for d in refused)  # FAILED (1) before NOT_FOUND (3)
        views.err.print(f"[red]{len(refused)} of {len(decisions)} key(s) refused.[/]")
        raise typer.Exit(int(code))


@app.command()
def forget(
    *,
    key: Annotated[str, typer.Argument(help="The input key to remove everything of.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0, help="Wait this long for a running job to finish."),
    ] = 600.0,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Remove every version of an input, its outputs, its Transcribe jobs and ledger items.

    For a privacy request: nothing of the key stays in the buckets, the ledger or
    Transcribe's job list. A job still running is waited for (Transcribe deletes only
    finished jobs); exit 1 if one is still running after --timeout, 3 if nothing was found.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    ledger = _ledger(clients, pipeline)
    found = forgetting.inventory(clients, pipeline, ledger, key)
    if found.empty:
        raise CliError(f"Nothing of {key!r} found.", ExitCode.NOT_FOUND)
    if not yes and not views.confirm_forget(found):
        raise typer.Exit(int(ExitCode.FAILED))
    removed = forgetting.forget(clients, pipeline, ledger, found, timeout=timeout)
    if json_output:
        views.emit_json(removed.to_json())
    else:
        views.show_forgotten(removed)
    if removed.left:
        raise typer.Exit(int(ExitCode.FAILED))


@app.command("costs")
def costs_(
    *,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Only input keys starting with this.")
    ] = "",
    group_by: Annotated[
        GroupBy,
        typer.Option(
            "--by",
            case_sensitive=False,
            help="folder: the key's first path segment; profile: the profile the key matched.",
        ),
    ] = GroupBy.FOLDER,
    json_output: JsonOption = False,
    stack: StackOption = DEFAULT_STACK_NAME,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Estimate Amazon Transcribe's bill from the ledger, per prefix and month.

    Billed seconds of each transcribed job (whole seconds, at least 15 per job) times the
    US East list price per second (docs/transcribe-pricing.md); failed jobs are counted, not
    priced.
    """
    clients, pipeline = _connect(stack, profile, region, local, endpoint_url)
    found = costs(_ledger(clients, pipeline), prefix=prefix, group_by=group_by)
    if json_output:
        views.emit_json(found.to_json())
    else:
        views.show_costs(found)


def main() -> None:
    """Entry point of the ``transcribe-pipeline`` console script and ``python -m pipeline_cli``."""
    app(prog_name="transcribe-pipeline")
