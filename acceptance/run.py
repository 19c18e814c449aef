"""``python -m acceptance``: deploy a throw-away pipeline, run the corpus through it, check every
output against the contract, print a pass/fail table, and destroy everything it created.

Without ``--endpoint-url`` it uses the caller's AWS credentials (``--profile``, ``--region`` or
the standard chain) in an account and region that ``cdk bootstrap`` has prepared; with
``--endpoint-url http://localhost:PORT`` it runs against a running local cloud (which it
bootstraps). Exit status: 0 every check passed and everything was destroyed, 1 a check failed
or something could not be destroyed, 2 nothing was deployed (no credentials, not bootstrapped,
no local cloud), 130 interrupted (after the clean-up).
"""

from __future__ import annotations

import argparse
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from acceptance.checks import Verdict, verdict
from acceptance.corpus import CORPUS, SAMPLES, Case, Expect, Version
from localcloud import server
from localcloud.deployment import (
    Cloud,
    DeploymentError,
    LocalEndpoint,
    deploy,
    destroy,
    stack_status,
)
from pipeline_cli.aws import Clients, Target, find_pipeline
from pipeline_cli.clean import clean_pipeline, inventory
from pipeline_cli.errors import LOCAL_HOSTS, CliError, translate
from pipeline_cli.ledger import pipeline_ledger
from pipeline_cli.readers import Expected, expect
from pipeline_cli.upload import PlannedUpload, upload_file
from pipeline_cli.wait import State, check
from transcribe_pipeline.stack_outputs import StackOutputs

# The CDK CLI's default bootstrap stack (`cdk bootstrap` without --toolkit-stack-name).
TOOLKIT_STACK = "CDKToolkit"
_SDK_ERRORS = (BotoCoreError, ClientError, Boto3Error)
_MATCHING_STATE = {
    Expect.TRANSCRIPT: State.TRANSCRIBED,
    Expect.REJECTED: State.FAILED,
    Expect.FAILED_JOB: State.FAILED,
}

out = Console()
err = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True)
class AwsAccount:
    """The AWS account and region of the caller's credentials, as a place to deploy to."""

    clients: Clients

    @property
    def bootstrap_target(self) -> None:
        """Never bootstrapped here: the bootstrap stack is the account's, not this run's."""
        return None

    def environment(self) -> dict[str, str]:
        """The CDK CLI gets the same profile and region as the boto3 clients."""
        env = {"AWS_PROFILE": self.clients.target.profile} if self.clients.target.profile else {}
        if self.clients.region:
            env |= {"AWS_REGION": self.clients.region, "AWS_DEFAULT_REGION": self.clients.region}
        return env

    def client(self, service: str, **config: Any) -> Any:
        """A client of the same session as the CLI helpers use."""
        return self.clients(service)


@dataclass
class Row:
    """One input key's line of the table."""

    case: Case
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every version of the key kept the contract."""
        return len(self.verdicts) == len(self.case.versions) and all(
            v.passed for v in self.verdicts
        )


@dataclass
class _Tracked:
    """An input key being followed: which version is awaited, and its expected job."""

    row: Row
    version: int
    expected: Expected


def main(argv: list[str] | None = None) -> int:
    """Run the acceptance check; the exit status says how it went (module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m acceptance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--endpoint-url", help="a local cloud, e.g. http://localhost:4566")
    parser.add_argument("--profile", help="AWS named profile (default: the standard chain)")
    parser.add_argument("--region", help="AWS region (default: the profile's)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds to wait for every output (default 900)")  # fmt: skip
    parser.add_argument("--stack-name", help="default: tp-acceptance-<random hex>")
    args = parser.parse_args(argv)
    token = secrets.token_hex(4)
    stack = args.stack_name or f"tp-acceptance-{token}"
    # Its own job-name prefix: no other pipeline of the account reacts to this run's jobs.
    context = {"stack_name": stack, "job_name_prefix": f"tpa-{token}-"}
    try:
        cloud, clients = connect(args, stack)
    except CliError as error:
        err.print(f"[bold red]error:[/] {escape(error.message)}")
        if error.hint:
            err.print(f"[dim]hint:[/] {escape(error.hint)}")
        return 2
    # The CDK CLI takes minutes on AWS; the local cloud deploys in seconds.
    cdk_timeout = 600.0 if isinstance(cloud, LocalEndpoint) else 1800.0
    rows = [Row(case) for case in CORPUS]
    interrupted = False
    with tempfile.TemporaryDirectory() as tmp, _terminate_as_interrupt():
        try:
            err.print(f"Deploying {stack} (cdk deploy)…")
            deploy(cloud, context=context, output_dir=Path(tmp) / "cdk.out", timeout=cdk_timeout)
            pipeline = find_pipeline(clients)
            _exercise(clients, pipeline, rows, timeout=args.timeout, files=Path(tmp))
        except KeyboardInterrupt:
            interrupted = True
            err.print("[yellow]Interrupted.[/]")
        except (DeploymentError, CliError, *_SDK_ERRORS) as error:
            known = translate(error) if isinstance(error, _SDK_ERRORS) else None
            err.print(f"[bold red]error:[/] {escape(str(known.message if known else error))}")
        finally:
            _print_table(rows)
            leftovers = _tear_down(cloud, clients, context, Path(tmp) / "cdk.out", cdk_timeout)
    passed = sum(row.passed for row in rows)
    out.print(f"{passed} of {len(rows)} inputs kept the contract.")
    if leftovers:
        out.print("[bold red]Not destroyed:[/] " + "; ".join(escape(x) for x in leftovers))
    else:
        out.print(f"Destroyed {stack} and the Transcribe jobs it created.")
    if interrupted:
        return 130
    return 0 if passed == len(rows) and not leftovers else 1


def connect(args: argparse.Namespace, stack: str) -> tuple[Cloud, Clients]:
    """Where to deploy, and the CLI's clients for the throw-away stack; CliError if unusable."""
    if args.endpoint_url:
        parts = urlsplit(args.endpoint_url)
        if parts.hostname not in LOCAL_HOSTS or parts.port is None:
            raise CliError(f"--endpoint-url must be http://localhost:PORT, not {args.endpoint_url}")
        if not server.is_responding(parts.port):
            raise CliError(
                f"No local cloud answers at {args.endpoint_url}.",
                hint=f"Start it with `python -m localcloud up --port {parts.port}`.",
            )
        endpoint = LocalEndpoint(parts.port)
        return endpoint, Clients(Target(stack=stack, local=True, endpoint_url=endpoint.url))
    clients = Clients(Target(stack=stack, profile=args.profile, region=args.region))
    try:
        account = clients("sts").get_caller_identity()["Account"]
        if clients.region is None:
            raise CliError("No AWS region configured.", hint="Pass --region or set AWS_REGION.")
        if stack_status(AwsAccount(clients), TOOLKIT_STACK) is None:
            raise CliError(
                f"{clients.where()} of account {account} is not bootstrapped for the CDK.",
                hint=f"Run `npx cdk bootstrap aws://{account}/{clients.region}` once, then retry.",
            )
    except _SDK_ERRORS as error:
        raise translate(error) or CliError(str(error)) from error
    return AwsAccount(clients), clients


def _exercise(
    clients: Clients, pipeline: StackOutputs, rows: list[Row], *, timeout: float, files: Path
) -> None:
    """Upload each key's first version; on each outcome check it and upload the next version."""
    s3 = clients("s3")
    ledger = pipeline_ledger(clients("dynamodb"), pipeline)
    tracked = {row.case.key: _upload(s3, pipeline, row, 0, files) for row in rows}
    deadline = time.monotonic() + timeout
    with err.status("Waiting for the outputs…") as status:
        while tracked and time.monotonic() < deadline:
            for key, item in list(tracked.items()):
                outcome = check(ledger, item.expected)
                if outcome.state is State.PENDING:
                    continue
                version = item.row.case.versions[item.version]
                wanted = _MATCHING_STATE[version.expect]
                item.row.verdicts.append(
                    verdict(s3, pipeline, version, item.expected)
                    if outcome.state is wanted
                    else Verdict(False, f"{outcome.state.value}: {outcome.reason or 'no reason'}")
                )
                if item.version + 1 < len(item.row.case.versions):
                    tracked[key] = _upload(s3, pipeline, item.row, item.version + 1, files)
                else:
                    del tracked[key]
            status.update(f"Waiting for the outputs of {len(tracked)} input(s)…")
            time.sleep(1.0)
    for item in tracked.values():
        item.row.verdicts.append(Verdict(False, f"no outcome within {timeout:g} s"))


def _upload(s3: Any, pipeline: StackOutputs, row: Row, index: int, files: Path) -> _Tracked:
    """Upload one version of a key with the CLI's upload; return what the pipeline must do."""
    version: Version = row.case.versions[index]
    if version.sample is not None:
        path = SAMPLES / version.sample
    else:
        path = files / f"body-{secrets.token_hex(4)}"
        path.write_bytes(version.body)
    planned = PlannedUpload(path=path, key=row.case.key, size=path.stat().st_size)
    uploaded = upload_file(s3, pipeline.input_bucket, planned, on_bytes=lambda _: None)
    return _Tracked(row, index, expect(s3, pipeline, uploaded.key, uploaded.version_id))


def _print_table(rows: list[Row]) -> None:
    table = Table("Input key", "Exercises", "Expected", "Result", "Detail",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)  # fmt: skip
    for row in rows:
        expected = " → ".join(v.expect.value for v in row.case.versions)
        detail = " | ".join(v.detail for v in row.verdicts) or "not checked"
        result = "[green]PASS[/]" if row.passed else "[bold red]FAIL[/]"
        table.add_row(escape(row.case.key), row.case.exercises, expected, result, escape(detail))
    out.print(table)


def _tear_down(
    cloud: Cloud, clients: Clients, context: dict[str, str], cdk_out: Path, timeout: float
) -> list[str]:
    """Delete the run's jobs, the stack and the log groups Lambda made outside it; what is left."""
    left: list[str] = []
    stack = context["stack_name"]
    functions: list[str] = []
    with _shielded():
        err.print(f"Destroying {stack} and its Transcribe jobs (interrupts wait for this)…")
        _settle(cloud, stack, timeout)
        try:
            pipeline = find_pipeline(clients)
        except CliError:
            pipeline = None  # the stack never got its outputs: no job can have started
        try:
            if pipeline is not None:
                # An upload event still in the start queue would start a job after the clean,
                # and that job would outlive the stack.
                _drain_start_queue(clients, pipeline, timeout)
                clean_pipeline(clients, pipeline, inventory(clients, pipeline))
                left += [f"job {job}" for job in inventory(clients, pipeline).jobs]
            if stack_status(cloud, stack) is not None:
                functions = [
                    r["PhysicalResourceId"]
                    for r in cloud.client("cloudformation").describe_stack_resources(
                        StackName=stack
                    )["StackResources"]
                    if r["ResourceType"] == "AWS::Lambda::Function" and r.get("PhysicalResourceId")
                ]
        except (CliError, *_SDK_ERRORS) as error:
            left.append(f"the run's jobs ({error})")
        try:
            destroy(cloud, context=context, output_dir=cdk_out, timeout=timeout)
        except DeploymentError as error:
            left.append(f"stack {stack} ({error})")
        left += _delete_log_groups(cloud, functions)
    return left


def _drain_start_queue(clients: Clients, pipeline: StackOutputs, timeout: float) -> None:
    """Wait until the start function has handled every upload event (none waiting or in flight)."""
    sqs = clients("sqs")
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=pipeline.start_queue_url, AttributeNames=counts
        )["Attributes"]
        if all(attributes.get(name) == "0" for name in counts):
            return
        time.sleep(1.0)


def _settle(cloud: Cloud, stack: str, timeout: float) -> None:
    """Wait until CloudFormation is not in the middle of creating or updating the stack."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = stack_status(cloud, stack)
        if status is None or not status.endswith("_IN_PROGRESS"):
            return
        time.sleep(5.0)


def _delete_log_groups(cloud: Cloud, functions: list[str]) -> list[str]:
    """Lambda creates a function's log group on first run; CDK's own handlers' outlive the stack."""
    logs, left = cloud.client("logs"), []
    for name in functions:
        try:
            logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
        except logs.exceptions.ResourceNotFoundException:
            continue  # never ran, or the stack owned and deleted it
        except ClientError as error:
            left.append(f"log group /aws/lambda/{name} ({error})")
    return left


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (e.g. a CI job cancelled) tears down like Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _shielded() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while tearing down (the CDK CLI it starts inherits that)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
