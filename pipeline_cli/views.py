"""What the commands print: tables, progress bars and messages (rich), or JSON on stdout."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
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

from pipeline_cli import forget as forgetting
from pipeline_cli import pricing
from pipeline_cli.backfill import Backfilled
from pipeline_cli.clean import Inventory
from pipeline_cli.costs import Costs
from pipeline_cli.errors import CliError
from pipeline_cli.last_upload import Upload
from pipeline_cli.ledger import Page, VersionItem
from pipeline_cli.listing import output_kinds
from pipeline_cli.reprocess import Action as ReprocessAction
from pipeline_cli.reprocess import Decision
from pipeline_cli.results import Result
from pipeline_cli.retry import Action, Retried
from pipeline_cli.status import Status
from pipeline_cli.upload import Plan, PlannedUpload
from pipeline_cli.wait import Outcome, State
from transcribe_pipeline.ledger_schema import State as LedgerState
from transcribe_pipeline.stack_outputs import StackOutputs

out = Console()
# Messages are not re-wrapped: paths and keys in them stay whole for copy and paste.
err = Console(stderr=True, soft_wrap=True)


def fail(error: CliError) -> None:
    """Report ``error`` in one line (plus its hint) and exit with its code."""
    err.print(f"[bold red]error:[/] {escape(error.message)}")
    if error.hint:
        err.print(f"[dim]hint:[/] {escape(error.hint)}")
    raise typer.Exit(int(error.code))


def emit_json(data: Any) -> None:
    """``--json``: the data on stdout."""
    # Console.out neither wraps nor interprets markup: the JSON stays valid at any width.
    out.out(json.dumps(data, indent=2, ensure_ascii=False, default=str), highlight=False)


def _table(*columns: Column | str) -> Table:
    """A table with a ruled header and no borders: plain to read and to copy from."""
    return Table(*columns, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))


def _print_reasons(reasons: Iterable[tuple[str, str | None]]) -> None:
    """Failure reasons below a table, one paragraph each: too long for a table cell."""
    for key, reason in reasons:
        out.print(f"[red]{escape(key)}[/]: {escape(reason or 'no reason recorded')}")


def show_status(pipeline: StackOutputs, found: Status) -> None:
    """``status``: the stack's facts, queue depths (dead letters in red), jobs by state."""
    facts = Table.grid(padding=(0, 2))
    facts.add_row("Stack", f"{pipeline.stack} ({pipeline.status}) in {found.where}")
    facts.add_row("Input bucket", pipeline.input_bucket)
    facts.add_row("Output bucket", pipeline.output_bucket)
    facts.add_row("Job names", f"{pipeline.job_name_prefix}*")
    facts.add_row("Ledger", pipeline.ledger_table)
    out.print(facts)
    queues = _table("Queue", "Waiting", "In flight")
    for queue in found.queues:
        dead = "DeadLetter" in queue.name and queue.visible > 0
        style = "bold red" if dead else None
        queues.add_row(queue.name, str(queue.visible), str(queue.in_flight), style=style)
    out.print(queues)
    versions = _table("Upload versions", "Count")
    for version_state, count in found.versions.items():
        versions.add_row(version_state, str(count), style=_STATE_STYLE.get(version_state))
    if not found.versions:
        versions.add_row("(none)", "0")
    out.print(versions)


_STATE_STYLE: dict[str, str] = {
    LedgerState.TRANSCRIBED: "green",
    LedgerState.FAILED: "red",
    LedgerState.REJECTED: "red",
    LedgerState.SUPERSEDED: "dim",
}


def show_versions(items: list[VersionItem], head: VersionItem | None) -> None:
    """``status KEY``: the current version item's fields, or every version newest first."""
    for item in items:
        current = head is not None and item.sort_key == head.sort_key
        facts = Table.grid(padding=(0, 2))
        title = "current version" if current else "version"
        facts.add_row(f"[bold]{escape(item.key)}[/]", f"{title} {escape(item.version_id or '-')}")
        facts.add_row("State", f"[{_STATE_STYLE.get(item.state, 'yellow')}]{item.state}[/]")
        facts.add_row("Job", escape(f"{item.job or '-'} (attempt {item.attempt})"))
        for label, value in (
            ("Received", item.received_at),
            ("Started", item.started_at),
            ("Finished", item.finished_at),
            ("Language", item.language),
            ("Audio", f"{item.duration_s:.1f} s" if item.duration_s is not None else None),
            ("Profile", item.profile or None),
            ("Reason", item.reason),
        ):
            if value:
                facts.add_row(label, escape(value))
        for output in item.outputs:
            facts.add_row("Output", escape(output))
        out.print(facts)
        out.print()


def show_refusals(plan: Plan) -> None:
    """The files ``upload`` skips (inside folders) or refuses (named), with the reason."""
    for skipped in plan.skipped:
        err.print(f"[yellow]skipped[/] {escape(str(skipped.path))}: {escape(skipped.reason)}")
    for refused in plan.refused:
        err.print(f"[red]refused[/] {escape(str(refused.path))}: {escape(refused.reason)}")


@contextmanager
def upload_progress() -> Iterator[Callable[[PlannedUpload], Callable[[int], None]]]:
    """A progress bar per file; yields what gives each file its byte callback."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as progress:

        def bar(planned: PlannedUpload) -> Callable[[int], None]:
            """A new bar for ``planned``, and boto3's callback: bytes sent since the last call."""
            task = progress.add_task(escape(planned.key), total=planned.size)
            return lambda sent: progress.advance(task, sent)

        yield bar


def show_uploaded(pipeline: StackOutputs, uploaded: list[Upload]) -> None:
    """``upload``: the keys now in the input bucket, and what to run next."""
    out.print(f"Uploaded {len(uploaded)} file(s) to s3://{escape(pipeline.input_bucket)}/")
    for item in uploaded:
        out.print(f"  {escape(item.key)}")
    out.print("Next: [bold]transcribe-pipeline wait[/] follows them until they are transcribed.")


def uploaded_json(pipeline: StackOutputs, uploaded: list[Upload], plan: Plan) -> dict[str, Any]:
    """``upload --json``: each uploaded file with its key, version, path and size."""
    return {
        "bucket": pipeline.input_bucket,
        "uploads": [
            {"key": u.key, "version_id": u.version_id, "path": str(p.path), "size": p.size}
            for u, p in zip(uploaded, plan.uploads, strict=True)
        ],
    }


@contextmanager
def wait_progress(total: int) -> Iterator[Callable[[Outcome], None]]:
    """One bar over the awaited inputs; yields what reports each input as it ends."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("Transcribing", total=total)

        def ended(outcome: Outcome) -> None:
            """Advance the bar and say how the input ended."""
            progress.advance(task)
            if outcome.state is State.TRANSCRIBED:
                progress.console.print(f"[green]transcribed[/] {escape(outcome.key)}")
            else:
                reason = escape(outcome.reason or "")
                word = outcome.state.value
                progress.console.print(f"[red]{word}[/] {escape(outcome.key)}: {reason}")

        yield ended


def show_outcomes(results: list[Outcome]) -> None:
    """``wait``: each input's outcome and job, then the failures' reasons."""
    table = _table(Column("Input", overflow="fold"), "Outcome", Column("Job", overflow="fold"))
    style = {
        State.TRANSCRIBED: "green",
        State.FAILED: "red",
        State.SUPERSEDED: "red",
        State.PENDING: "yellow",
    }
    for o in results:
        table.add_row(o.key, o.state.value, o.job_name or "", style=style[o.state])
    out.print(table)
    _print_reasons((o.key, o.reason) for o in results if o.ended_badly)


def show_page(page: Page, prefix: str) -> None:
    """``list``: one row per upload version, the reasons below, and how to go on."""
    table = _table(
        Column("Input", overflow="fold"),
        "State",
        Column("Job", overflow="fold"),
        "Lang",
        Column("Audio", justify="right"),
        "Finished",
        "Outputs",
    )
    for item in page.items:
        audio = f"{item.duration_s:.1f} s" if item.duration_s is not None else ""
        table.add_row(
            item.key,
            item.state.value,
            item.job or "",
            item.language or "",
            audio,
            (item.finished_at or "")[:19].replace("T", " "),
            " ".join(output_kinds(item.outputs)),
            style=_STATE_STYLE.get(item.state),
        )
    out.print(table)
    _print_reasons((i.key, i.reason) for i in page.items if i.reason)
    if not page.items:
        err.print("No upload versions" + (f" under {escape(prefix)!r}" if prefix else "") + ".")
    if page.next_token:
        err.print(f"More: add [bold]--next-token {escape(page.next_token)}[/]")


def show_result(result: Result, *, output: Path | None, json_output: bool) -> None:
    """``get``: the result as stored, into ``output`` or on stdout (or wrapped in JSON)."""
    if result.note:
        err.print(f"[yellow]note:[/] {escape(result.note)}")
    if output is not None:
        output.write_text(result.text, encoding="utf-8", newline="")  # bytes as stored
        err.print(f"Wrote {escape(str(output))}")
    if json_output:
        content: Any = result.document if result.document is not None else result.text
        emit_json(
            {
                "key": result.key,
                "format": result.format.value,
                "job": result.job_name,
                "file": str(output) if output else None,
                "content": content,
            }
        )
    elif output is None:
        # Written as is: rich would drop control characters such as the CR of SRT's CRLF.
        out.file.write(result.text)


def show_retried(retried: Retried, *, dry_run: bool) -> None:
    """``retry``: the dead letters re-driven, and what became of each failed input."""
    moved, method = retried.dead_letters.moved, retried.dead_letters.method
    if dry_run:
        out.print(f"Start dead-letter queue: {moved} message(s) would be re-driven.")
    elif moved:
        out.print(f"Start dead-letter queue: {moved} message(s) re-driven ({method}).")
    else:
        out.print("Start dead-letter queue: empty.")
    if not retried.decisions:
        out.print("No failure records.")
        return
    table = _table(Column("Input", overflow="fold"), "Action", "Why")
    for d in retried.decisions:
        style = "green" if d.action is not Action.SKIPPED else "dim"
        table.add_row(d.key, d.action.value, d.why, style=style)
    out.print(table)
    if retried.resubmitted:
        out.print("Next: [bold]transcribe-pipeline wait[/] follows the re-submitted inputs.")


def confirm_clean(pipeline: StackOutputs, found: Inventory) -> bool:
    """Show what ``clean`` would delete and ask; False (and say so) when the user declines."""
    err.print("This deletes:")
    err.print(
        f"  {len(found.jobs)} transcription job(s) named {escape(pipeline.job_name_prefix)}* "
        f"that read {escape(pipeline.input_bucket)}"
    )
    for bucket, count in found.objects.items():
        err.print(f"  {count} object version(s) in {bucket}")
    err.print(f"  {found.ledger_items} ledger item(s)")
    if found.skipped:
        err.print(
            f"({len(found.skipped)} other job(s) with that prefix read other media and stay.)"
        )
    if typer.confirm("Delete them?", err=True):
        return True
    err.print("Nothing deleted.")
    return False


def show_cleaned(deleted: Inventory) -> None:
    """``clean``: how many jobs and object versions are gone."""
    out.print(f"Deleted {len(deleted.jobs)} transcription job(s).")
    for bucket, count in deleted.objects.items():
        out.print(f"Emptied {bucket}: {count} object version(s) deleted.")
    out.print(f"Emptied the ledger: {deleted.ledger_items} item(s) deleted.")
    if deleted.skipped:
        out.print(
            f"Skipped {len(deleted.skipped)} transcription job(s) with the pipeline's prefix "
            "that are not its own:"
        )
        table = _table(Column("Job", overflow="fold"), Column("Why", overflow="fold"))
        for skipped in deleted.skipped:
            table.add_row(skipped.job, skipped.why, style="dim")
        out.print(table)


def show_reprocessed(decisions: list[Decision]) -> None:
    """``reprocess``: what became of each key."""
    if not decisions:
        out.print("Nothing to reprocess.")
        return
    table = _table(
        Column("Input", overflow="fold"), "Action", "Attempt", Column("Why", overflow="fold")
    )
    for d in decisions:
        style = "red" if d.action is ReprocessAction.REFUSED else "green"
        attempt = str(d.attempt) if d.attempt is not None else ""
        table.add_row(d.key, d.action.value, attempt, d.why, style=style)
    out.print(table)
    if any(d.action is ReprocessAction.REPROCESSED for d in decisions):
        out.print("Next: [bold]transcribe-pipeline wait[/] follows the reprocessed inputs.")


def show_backfilled(done: list[Backfilled]) -> None:
    """``reprocess --backfill``: the items written, and the inputs left as they were."""
    table = _table(
        Column("Input", overflow="fold"), "Action", "State", Column("Why", overflow="fold")
    )
    for b in done:
        state = b.state.value if b.state else ""
        table.add_row(b.key, b.action.value, state, b.why, style=_STATE_STYLE.get(state))
    out.print(table)
    recorded = sum(b.action.value != "skipped" for b in done)
    out.print(f"{recorded} of {len(done)} input(s) recorded in the ledger.")


def confirm_forget(found: forgetting.Inventory) -> bool:
    """Show what ``forget`` would remove and ask; False (and say so) when the user declines."""
    err.print(f"This removes everything of {escape(found.key)!r}:")
    err.print(f"  {len(found.input_versions)} input version(s) and delete marker(s)")
    err.print(f"  {len(found.ledger_items)} ledger item(s)")
    err.print(f"  {len(found.jobs)} transcription job(s)")
    err.print(f"  {len(found.outputs)} output object(s)")
    if typer.confirm("Remove them? This cannot be undone", err=True):
        return True
    err.print("Nothing removed.")
    return False


def show_forgotten(removed: forgetting.Inventory) -> None:
    """``forget``: what is gone, item by item, and what could not be removed."""
    table = _table("Removed", Column("What", overflow="fold"))
    for version in removed.input_versions:
        table.add_row("input version", version)
    for sort_key in removed.ledger_items:
        table.add_row("ledger item", sort_key)
    for job in removed.jobs:
        table.add_row("transcription job", job)
    for output in removed.outputs:
        table.add_row("output", output)
    out.print(table)
    for left in removed.left:
        err.print(f"[red]left[/]: {escape(left)}")


def show_costs(found: Costs) -> None:
    """``costs``: billed seconds and list price per prefix and month, and the total."""
    table = _table(
        "Month",
        Column("Prefix", overflow="fold"),
        Column("Jobs", justify="right"),
        Column("Audio s", justify="right"),
        Column("Billed s", justify="right"),
        Column("USD", justify="right"),
        Column("Failed", justify="right"),
    )
    for line in found.lines:
        table.add_row(
            line.month,
            line.prefix or "(top level)",
            str(line.jobs),
            f"{line.audio_seconds:.1f}",
            str(line.billed_seconds),
            f"{line.usd:.4f}",
            str(line.failed_jobs),
        )
    out.print(table)
    out.print(f"Total: USD {found.total_usd:.4f} at the {pricing.PRICE_REGION} list price")
    if any(line.unknown_durations for line in found.lines):
        err.print(
            "Some jobs have no recorded duration: each is counted at the "
            f"{pricing.MINIMUM_BILLED_SECONDS} s minimum."
        )
