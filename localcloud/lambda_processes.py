"""Run moto's Lambda functions for real: each invocation is a subprocess on this machine.

moto 5.2.5 runs functions in Docker (`LambdaFunction._invoke_lambda`); no Docker engine runs
here, so `install()` replaces that method with a subprocess runner (Python and Node.js
runtimes), makes `InvocationType=Event` asynchronous with Lambda's retries and destinations,
and keeps the function settings moto's Lambda API drops (dead-letter queue, logging config,
layers that are not moto layer versions; `localcloud.cloudformation` does the same for
templates). See /work/shared/moto-internals.md for the extension points.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.models import EventInvokeConfig, LambdaBackend, LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent
_PYTHON_BOOTSTRAP = _PACKAGE_DIR / "runtimes" / "python_bootstrap.py"
_NODE_BOOTSTRAP = _PACKAGE_DIR / "runtimes" / "node_bootstrap.js"

# Lambda's async defaults (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html):
# two retries on function error, events kept up to six hours.
DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 21600
# CloudWatch Logs' x-amz-log-result carries the last 4 KB of the log.
_LOG_TAIL_BYTES = 4096
_ASYNC_WORKERS = 8
# Lambda's init phase limit, which does not count against the function's timeout.
_INIT_SECONDS = 10.0


@dataclass(frozen=True)
class _Settings:
    endpoint_url: str
    region: str
    work_dir: Path
    retry_delay_seconds: float


@dataclass
class InvocationResult:
    """The outcome of one run of a function."""

    payload: str
    errored: bool
    logs: str
    request_id: str
    duration_ms: float
    error_type: str | None = None

    def payload_json(self) -> Any:
        """The payload parsed as JSON (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None


@dataclass
class _State:
    settings: _Settings | None = None
    executor: ThreadPoolExecutor | None = None
    processes: set[subprocess.Popen[bytes]] = field(default_factory=set)
    timers: set[threading.Timer] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    extract_lock: threading.Lock = field(default_factory=threading.Lock)
    originals: dict[str, Any] = field(default_factory=dict)


_state = _State()


def install(
    *,
    endpoint_url: str,
    region: str = "us-east-1",
    work_dir: Path,
    retry_delay_seconds: float = 1.0,
) -> None:
    """Patch moto's Lambda so functions run as local subprocesses (idempotent, reconfigurable)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    with _state.lock:
        _state.settings = _Settings(endpoint_url.rstrip("/"), region, work_dir, retry_delay_seconds)
        _state.stopping.clear()
        if _state.executor is None:
            _state.executor = ThreadPoolExecutor(
                max_workers=_ASYNC_WORKERS, thread_name_prefix="lambda-async"
            )
        if _state.originals:
            return
        # Function processes must not outlive the local cloud, even without an orderly stop.
        atexit.register(shutdown)
        _state.originals = {
            "_invoke_lambda": LambdaFunction._invoke_lambda,
            "invoke": LambdaFunction.invoke,
            "_get_layers_data": LambdaFunction._get_layers_data,
            "__init__": LambdaFunction.__init__,
            "update_configuration": LambdaFunction.update_configuration,
            "get_configuration": LambdaFunction.get_configuration,
            "put_function_event_invoke_config": LambdaBackend.put_function_event_invoke_config,
        }
    LambdaFunction._invoke_lambda = _patched_invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.invoke = _patched_invoke  # type: ignore[method-assign]
    LambdaFunction._get_layers_data = _patched_get_layers_data  # type: ignore[method-assign]
    LambdaFunction.__init__ = _patched_init  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _patched_update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _patched_get_configuration  # type: ignore[method-assign]
    LambdaBackend.put_function_event_invoke_config = _patched_put_event_invoke_config  # type: ignore[method-assign]
    logger.info("Lambda executor installed (endpoint %s, work dir %s)", endpoint_url, work_dir)


def shutdown() -> None:
    """Stop pending async retries and kill every running function process."""
    _state.stopping.set()
    with _state.lock:
        timers = list(_state.timers)
        _state.timers.clear()
        processes = list(_state.processes)
        executor = _state.executor
        _state.executor = None
    for timer in timers:
        timer.cancel()
    for proc in processes:
        _kill_tree(proc)
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


def settings() -> _Settings:
    """The settings given to install() (raises if the executor is not installed)."""
    if _state.settings is None:
        raise RuntimeError("localcloud.lambda_processes.install() has not been called")
    return _state.settings


# --------------------------------------------------------------------------- moto patches


def _patched_invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    result = run_function(self, event)
    return result.payload, result.errored, result.logs


def _patched_invoke(
    self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
) -> str | bytes:
    event = _parse_event(body)
    invocation_type = (request_headers or {}).get("x-amz-invocation-type") or (
        request_headers or {}
    ).get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        invoke_async(self, event)
        return b""
    result = run_function(self, event)
    response_headers["x-amz-executed-version"] = str(self.version)
    if result.errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    tail = result.logs.encode("utf-8")[-_LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return result.payload.encode("utf-8")


def _patched_get_layers_data(
    self: LambdaFunction, layers_versions_arns: list[str]
) -> list[lambda_models.LayerDataType]:
    # Layers published to this local cloud are moto layer versions; anything else (such as the
    # AWS-managed Powertools layer) is served from the project's own environment instead.
    backend = get_lambda_backend(self.account_id, self.region)
    data: list[lambda_models.LayerDataType] = []
    for arn in layers_versions_arns:
        layer_version = backend.layers_versions_by_arn(arn) if ":layer:" in arn else None
        if layer_version is None:
            logger.info("Layer %s is served from the local environment", arn)
            data.append({"Arn": arn, "CodeSize": 0})
        else:
            data.append({"Arn": layer_version.arn, "CodeSize": layer_version.code_size})
    return data


def _patched_init(self: LambdaFunction, *args: Any, **kwargs: Any) -> None:
    _state.originals["__init__"](self, *args, **kwargs)
    spec = kwargs.get("spec") if "spec" in kwargs else (args[1] if len(args) > 1 else {})
    _apply_extra_settings(self, spec or {})


def _patched_update_configuration(
    self: LambdaFunction, config_updates: dict[str, Any]
) -> dict[str, Any]:
    _apply_extra_settings(self, config_updates)
    result: dict[str, Any] = _state.originals["update_configuration"](self, config_updates)
    return result


def _patched_get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = _state.originals["get_configuration"](self, on_create)
    dead_letter = getattr(self, "dead_letter_config", None)
    if dead_letter:
        config["DeadLetterConfig"] = dead_letter
    logging_config = getattr(self, "logging_config", None)
    if logging_config:
        config["LoggingConfig"] = logging_config
    return config


def _patched_put_event_invoke_config(
    self: LambdaBackend, function_name: str, config: dict[str, Any]
) -> dict[str, Any]:
    # moto appends and reads the first entry, so an update would never be seen: replace.
    fn = self.get_function(function_name)
    return set_event_invoke_config(fn, config)


def _apply_extra_settings(fn: LambdaFunction, spec: Mapping[str, Any]) -> None:
    if "DeadLetterConfig" in spec:
        fn.dead_letter_config = spec["DeadLetterConfig"] or None  # type: ignore[attr-defined]
    elif not hasattr(fn, "dead_letter_config"):
        fn.dead_letter_config = None  # type: ignore[attr-defined]
    if "LoggingConfig" in spec:
        fn.logging_config = spec["LoggingConfig"] or None  # type: ignore[attr-defined]
    elif not hasattr(fn, "logging_config"):
        fn.logging_config = None  # type: ignore[attr-defined]
    logging_config = getattr(fn, "logging_config", None) or {}
    fn.logs_group_name = logging_config.get("LogGroup") or f"/aws/lambda/{fn.function_name}"


# --------------------------------------------------------------------------- event invoke config


def get_event_invoke_config(function: LambdaFunction) -> dict[str, Any]:
    """The function's async settings (retries, maximum event age, destinations), defaulted."""
    configs = getattr(function, "event_invoke_config", None) or []
    config: dict[str, Any] = dict(configs[-1].config) if configs else {}
    config.setdefault("MaximumRetryAttempts", DEFAULT_MAX_RETRY_ATTEMPTS)
    config.setdefault("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)
    config.setdefault("DestinationConfig", {})
    return config


def set_event_invoke_config(function: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
    """Store (replace) the function's async settings, validated as the Lambda API does."""
    stored = EventInvokeConfig(function.function_arn, function.last_modified, dict(config))
    function.event_invoke_config = [stored]
    return stored.response()


# --------------------------------------------------------------------------- running a function


def _parse_event(body: Any) -> Any:
    if body is None or (isinstance(body, str | bytes | bytearray) and not body):
        return {}
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if isinstance(body, str):
        return json.loads(body)
    return body


def _code_dir(kind: str, code: bytes) -> Path:
    """Extract a zip once per content hash under the work dir and return the directory."""
    digest = hashlib.sha256(code).hexdigest()
    target = settings().work_dir / kind / digest
    if target.is_dir():
        return target
    with _state.extract_lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
        try:
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(staging)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def _layer_dirs(fn: LambdaFunction) -> list[Path]:
    backend = get_lambda_backend(fn.account_id, fn.region)
    dirs: list[Path] = []
    for layer in fn.layers or []:
        layer_version = backend.layers_versions_by_arn(layer["Arn"])
        if layer_version is not None and layer_version.code_bytes:
            dirs.append(_code_dir("layers", layer_version.code_bytes))
    return dirs


def _python_paths(layers: list[Path]) -> list[str]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    paths: list[str] = []
    for layer in layers:
        paths += [
            str(layer / "python"),
            str(layer / "python" / "lib" / version / "site-packages"),
            str(layer),
        ]
    return paths


def _node_paths(layers: list[Path]) -> list[str]:
    paths: list[str] = []
    for layer in layers:
        paths += [
            str(layer / "nodejs" / "node_modules"),
            str(layer / "nodejs" / "node20" / "node_modules"),
        ]
    # Real Lambda's Node.js runtimes ship the AWS SDK for JavaScript v3.
    paths.append(str(_REPO_ROOT / "node_modules"))
    return paths


def _log_stream_name(fn: LambdaFunction) -> str:
    now = datetime.now(UTC)
    return f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"


def _environment(
    fn: LambdaFunction, code_dir: Path, request_id: str, stream: str
) -> dict[str, str]:
    cfg = settings()
    home = cfg.work_dir / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home),
        "TMPDIR": tempfile.gettempdir(),
    }
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    env.update(
        {
            "AWS_ENDPOINT_URL": cfg.endpoint_url,
            "AWS_REGION": fn.region or cfg.region,
            "AWS_DEFAULT_REGION": fn.region or cfg.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "_HANDLER": str(fn.handler),
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(_PACKAGE_DIR / "runtimes"),
            "_LOCALCLOUD_REQUEST_ID": request_id,
            "_LOCALCLOUD_INVOKED_ARN": fn.function_arn,
        }
    )
    return env


def _error_payload(request_id: str, error_type: str, message: str) -> str:
    return json.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    )


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _command(
    fn: LambdaFunction, code_dir: Path, layers: list[Path], result_file: Path
) -> list[str]:
    runtime = str(fn.run_time or "")
    if runtime.startswith("python"):
        return [
            sys.executable,
            "-u",
            str(_PYTHON_BOOTSTRAP),
            str(fn.handler),
            str(code_dir),
            str(result_file),
            *_python_paths(layers),
        ]
    if runtime.startswith("nodejs"):
        node = shutil.which("node") or "node"
        return [node, str(_NODE_BOOTSTRAP), str(fn.handler), str(code_dir), str(result_file)]
    raise ValueError(f"runtime {runtime!r} is not supported by the local cloud")


def run_function(fn: LambdaFunction, event: Any, request_id: str | None = None) -> InvocationResult:
    """Run the function once with the event, synchronously; never raises for function errors."""
    event = _parse_event(event)
    request_id = request_id or str(uuid.uuid4())
    stream = _log_stream_name(fn)
    started = time.time()
    timeout = float(fn.timeout or 3)
    output = b""
    timed_out = False
    error_type: str | None
    try:
        if getattr(fn, "package_type", "Zip") == "Image":
            raise ValueError("container-image functions are not supported by the local cloud")
        code_dir = _code_dir("code", fn.code_bytes)
        layers = _layer_dirs(fn)
        with tempfile.TemporaryDirectory(dir=settings().work_dir, prefix="invoke-") as tmp:
            result_file = Path(tmp) / "result.json"
            command = _command(fn, code_dir, layers, result_file)
            env = _environment(fn, code_dir, request_id, stream)
            if str(fn.run_time).startswith("nodejs"):
                env["NODE_PATH"] = os.pathsep.join(_node_paths(layers))
            # The bootstrap enforces the timeout from the handler call; this backstop also
            # covers init (Lambda allows 10 s) and a handler that blocks the timer.
            output, timed_out, returncode = _run_process(
                command, env, code_dir, event, timeout=timeout + _INIT_SECONDS, tmp=Path(tmp)
            )
            if timed_out:
                payload = _error_payload(
                    request_id, "Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"
                )
                errored, error_type = True, "Sandbox.Timedout"
            elif result_file.exists():
                outcome = json.loads(result_file.read_text("utf-8"))
                payload = json.dumps(outcome["payload"])
                errored = not outcome["ok"]
                error_type = str(outcome["payload"].get("errorType")) if errored else None
            else:
                payload = _error_payload(
                    request_id,
                    "Runtime.ExitError",
                    f"Runtime exited with error: exit status {returncode}",
                )
                errored, error_type = True, "Runtime.ExitError"
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        logger.warning("Cannot run %s: %s", fn.function_name, exc)
        payload = _error_payload(request_id, "Runtime.InvalidEntrypoint", str(exc))
        errored, error_type = True, "Runtime.InvalidEntrypoint"
    duration_ms = (time.time() - started) * 1000
    logs = _format_logs(
        fn,
        request_id,
        output.decode("utf-8", errors="replace"),
        duration_ms,
        payload if timed_out else None,
    )
    _save_logs(fn, stream, started, logs)
    logger.debug(
        "%s %s in %.0f ms (error=%s)", fn.function_name, request_id, duration_ms, error_type
    )
    return InvocationResult(payload, errored, logs, request_id, duration_ms, error_type)


def _run_process(
    command: list[str], env: dict[str, str], cwd: Path, event: Any, *, timeout: float, tmp: Path
) -> tuple[bytes, bool, int]:
    # Files rather than pipes: a child the handler started may keep a pipe open after the
    # handler has answered, and the answer must not wait for it.
    event_file, output_file = tmp / "event.json", tmp / "output.log"
    event_file.write_text(json.dumps(event), "utf-8")
    with event_file.open("rb") as stdin, output_file.open("wb") as stdout:
        # A new session so the whole tree (the handler may start children) can be killed.
        proc = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    with _state.lock:
        _state.processes.add(proc)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_tree(proc)
        proc.wait()
    finally:
        _kill_tree(proc)  # stray children of a finished handler must not outlive it
        with _state.lock:
            _state.processes.discard(proc)
    return output_file.read_bytes(), timed_out, proc.returncode


def _format_logs(
    fn: LambdaFunction,
    request_id: str,
    output: str,
    duration_ms: float,
    timeout_payload: str | None,
) -> str:
    lines = [f"START RequestId: {request_id} Version: {fn.version}"]
    lines += [line for line in output.splitlines() if line.strip()]
    if timeout_payload:
        lines.append(json.loads(timeout_payload)["errorMessage"])
    lines.append(f"END RequestId: {request_id}")
    lines.append(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {fn.memory_size} MB\t"
        f"Max Memory Used: {fn.memory_size} MB"
    )
    return "\n".join(lines)


def _save_logs(fn: LambdaFunction, stream: str, started: float, logs: str) -> None:
    backend = fn.logs_backend
    group = fn.logs_group_name
    try:
        backend.ensure_log_group(group)
        backend.create_log_stream(group, stream)
        now_ms = int(time.time() * 1000)
        events = [
            {"timestamp": int(started * 1000) if i == 0 else now_ms, "message": line}
            for i, line in enumerate(logs.splitlines())
        ]
        backend.put_log_events(group, stream, events)
    except (KeyError, ValueError, lambda_models.RESTError) as exc:
        # Losing a log line must not fail the invocation; say so in our own log.
        logger.warning("Could not store logs of %s in %s: %s", fn.function_name, group, exc)


# --------------------------------------------------------------------------- async invocation


@dataclass
class _AsyncJob:
    fn: LambdaFunction
    event: Any
    request_id: str
    first_seen: float
    attempt: int = 1
    on_done: Callable[[InvocationResult], None] | None = None


def invoke_async(
    fn: LambdaFunction,
    event: Any,
    *,
    on_done: Callable[[InvocationResult], None] | None = None,
) -> str:
    """Queue an asynchronous invocation (retries, destinations) and return its request id."""
    request_id = str(uuid.uuid4())
    _submit(_AsyncJob(fn, _parse_event(event), request_id, time.time(), on_done=on_done))
    return request_id


def run_in_background(action: Callable[[], None], description: str = "background task") -> None:
    """Run a callable on the local cloud's async pool; a failure is logged, never lost."""
    with _state.lock:
        executor = _state.executor
    if executor is None or _state.stopping.is_set():
        logger.warning("Local cloud is stopping: dropped %s", description)
        return
    executor.submit(_guarded, action, description)


def _guarded(action: Callable[[], None], description: str) -> None:
    try:
        action()
    except Exception:  # a bug here must not vanish silently inside the thread pool
        logger.exception("%s failed", description)
        raise


def _submit(job: _AsyncJob) -> None:
    run_in_background(
        functools.partial(_async_attempt, job), f"asynchronous invocation of {job.fn.function_name}"
    )


def _schedule(delay: float, job: _AsyncJob) -> None:
    def fire() -> None:
        with _state.lock:
            _state.timers.discard(timer)
        _submit(job)

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    with _state.lock:
        _state.timers.add(timer)
    timer.start()


def _async_attempt(job: _AsyncJob) -> None:
    fn = job.fn
    result = run_function(fn, job.event, job.request_id)
    config = get_event_invoke_config(fn)
    destinations = config.get("DestinationConfig") or {}
    if not result.errored:
        success = (destinations.get("OnSuccess") or {}).get("Destination")
        if success:
            _send_destination_record(job, success, result, "Success")
        if job.on_done:
            job.on_done(result)
        return
    max_retries = int(config["MaximumRetryAttempts"])
    max_age = float(config["MaximumEventAgeInSeconds"])
    # Lambda waits about a minute, then two, between retries; scaled down for a laptop.
    delay = settings().retry_delay_seconds * job.attempt
    if job.attempt <= max_retries:
        if time.time() + delay - job.first_seen <= max_age:
            logger.info(
                "%s failed (%s), retry %d of %d in %.1fs",
                fn.function_name,
                result.error_type,
                job.attempt,
                max_retries,
                delay,
            )
            job.attempt += 1
            _schedule(delay, job)
            return
        condition = "EventAgeExceeded"
    else:
        condition = "RetriesExhausted"
    logger.info(
        "%s: asynchronous invocation %s failed (%s)", fn.function_name, job.request_id, condition
    )
    failure = (destinations.get("OnFailure") or {}).get("Destination")
    if failure:
        _send_destination_record(job, failure, result, condition)
    dead_letter = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn")
    if dead_letter:
        _send_dead_letter(dead_letter, job.event, result)
    if job.on_done:
        job.on_done(result)


def _destination_record(
    fn: LambdaFunction, event: Any, result: InvocationResult, attempts: int, condition: str
) -> dict[str, Any]:
    # Shape of https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": str(fn.version)}
    if result.errored:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{fn.function_arn}:{fn.version}",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": result.payload_json(),
    }


def _send_destination_record(
    job: _AsyncJob, destination: str, result: InvocationResult, condition: str
) -> None:
    fn = job.fn
    record = _destination_record(fn, job.event, result, job.attempt, condition)
    outcome = "Success" if condition == "Success" else "Failure"
    deliver(
        destination,
        record,
        detail_type=f"Lambda Function Invocation Result - {outcome}",
        source="lambda",
        resources=[fn.function_arn],
    )


def _send_dead_letter(target: str, event: Any, result: InvocationResult) -> None:
    payload = result.payload_json() or {}
    message = str(payload.get("errorMessage", "")) if isinstance(payload, dict) else ""
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": result.request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": message[:1024] or "error"},
    }
    deliver(target, event, message_attributes=attributes)


def deliver(
    arn: str,
    payload: Any,
    *,
    message_attributes: dict[str, Any] | None = None,
    detail_type: str = "Lambda Function Invocation Result - Failure",
    source: str = "lambda",
    resources: list[str] | None = None,
) -> None:
    """Send a JSON payload to an SQS queue, SNS topic, Lambda function or EventBridge bus ARN."""
    parts = arn.split(":")
    service, region, account = parts[2], parts[3], parts[4]
    body = json.dumps(payload)
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account][region].send_message(
            queue_name=parts[5], message_body=body, message_attributes=message_attributes or {}
        )
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(
            message=body, arn=arn, message_attributes=message_attributes or {}
        )
    elif service == "lambda":
        target = get_lambda_backend(account, region).get_function(arn)
        invoke_async(target, payload)
    elif service == "events":
        from moto.events.models import events_backends

        events_backends[account][region].put_events(
            [
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": body,
                    "Resources": resources or [],
                    "EventBusName": arn,
                }
            ]
        )
    else:
        raise ValueError(f"unsupported destination {arn}")
