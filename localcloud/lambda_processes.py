"""Run a Lambda function once, in a process on this machine.

moto runs functions in Docker, and no Docker engine runs here: `install()` replaces moto's
runner with `run_function` (Python and Node.js runtimes): the deployment package and its
layers are extracted once per content under the work directory, the handler runs in a new
process group with Lambda's environment variables and the function's timeout, and its output
goes to the function's log group (`lambda_logs`). Python functions run in warm execution
environments that serve one invocation after another, as Lambda reuses them
(`lambda_environments`); Node.js functions start a process per invocation. How Invoke uses a
run (synchronous or asynchronous, retries, destinations) is `lambda_invoke`'s; the extension
point is described in docs/local-cloud.md.
"""

from __future__ import annotations

import atexit
import contextlib
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend

from localcloud import lambda_environments, lambda_logs

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent
_PYTHON_BOOTSTRAP = _PACKAGE_DIR / "runtimes" / "python_bootstrap.py"
_NODE_BOOTSTRAP = _PACKAGE_DIR / "runtimes" / "node_bootstrap.js"

# Lambda's init phase limit, which does not count against the function's timeout.
_INIT_SECONDS = 10.0


@dataclass(frozen=True)
class _Settings:
    endpoint_url: str
    region: str
    work_dir: Path


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
    processes: set[subprocess.Popen[bytes]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    extract_lock: threading.Lock = field(default_factory=threading.Lock)
    originals: dict[str, Any] = field(default_factory=dict)
    environments: lambda_environments.Pool = field(default_factory=lambda_environments.Pool)


_state = _State()


def install(*, endpoint_url: str, region: str = "us-east-1", work_dir: Path) -> None:
    """Patch moto's Lambda so functions run as local subprocesses (idempotent, reconfigurable)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    with _state.lock:
        _state.settings = _Settings(endpoint_url.rstrip("/"), region, work_dir)
        if _state.originals:
            return
        # Function processes must not outlive the local cloud, even without an orderly stop.
        atexit.register(shutdown)
        _state.originals = {"_invoke_lambda": LambdaFunction._invoke_lambda}
    LambdaFunction._invoke_lambda = _patched_invoke_lambda  # type: ignore[method-assign]
    logger.info("Lambda executor installed (endpoint %s, work dir %s)", endpoint_url, work_dir)


def shutdown() -> None:
    """Kill every running function process (and the processes it started)."""
    with _state.lock:
        processes = list(_state.processes)
    for proc in processes:
        _kill_tree(proc)
    _state.environments.shutdown()


def settings() -> _Settings:
    """The settings given to install() (raises if the executor is not installed)."""
    if _state.settings is None:
        raise RuntimeError("localcloud.lambda_processes.install() has not been called")
    return _state.settings


def _patched_invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    result = run_function(self, event)
    return result.payload, result.errored, result.logs


def parse_event(body: Any) -> Any:
    """An Invoke payload as the handler receives it (an empty payload is an empty object)."""
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


def _serve_command(fn: LambdaFunction, code_dir: Path, layers: list[Path]) -> list[str]:
    """The Python runtime of an execution environment (lambda_environments.start_environment)."""
    return [
        sys.executable,
        "-u",
        str(_PYTHON_BOOTSTRAP),
        str(fn.handler),
        str(code_dir),
        *_python_paths(layers),
    ]


def config_key(fn: LambdaFunction, code_dir: Path, layers: list[Path]) -> tuple[Any, ...]:
    """What an execution environment is built from: another value needs a new environment."""
    return (
        fn.function_arn,
        str(fn.version),
        code_dir.name,  # the package's sha256
        tuple(str(layer) for layer in layers),
        str(fn.handler),
        str(fn.run_time),
        float(fn.timeout or 3),
        int(fn.memory_size or 128),
        json.dumps(fn.environment_vars or {}, sort_keys=True),
        fn.logs_group_name,
        settings().endpoint_url,
    )


def run_function(fn: LambdaFunction, event: Any, request_id: str | None = None) -> InvocationResult:
    """Run the function once with the event, synchronously; never raises for function errors."""
    event = parse_event(event)
    request_id = request_id or str(uuid.uuid4())
    stream = lambda_logs.stream_name(fn)
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
            # The bootstrap enforces the timeout from the handler call; this backstop also
            # covers init (Lambda allows 10 s) and a handler that blocks the timer.
            backstop = timeout + _INIT_SECONDS
            if str(fn.run_time or "").startswith("python"):
                output, timed_out, returncode, stream = _run_in_environment(
                    fn, code_dir, layers, event, request_id, timeout=backstop, tmp=Path(tmp)
                )
            else:
                command = _command(fn, code_dir, layers, result_file)
                env = _environment(fn, code_dir, request_id, stream)
                if str(fn.run_time).startswith("nodejs"):
                    env["NODE_PATH"] = os.pathsep.join(_node_paths(layers))
                output, timed_out, returncode = _run_process(
                    command, env, code_dir, event, timeout=backstop, tmp=Path(tmp)
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
    logs = lambda_logs.format_logs(
        fn,
        request_id,
        output.decode("utf-8", errors="replace"),
        duration_ms,
        payload if timed_out else None,
    )
    lambda_logs.save_logs(fn, stream, started, logs)
    logger.debug(
        "%s %s in %.0f ms (error=%s)", fn.function_name, request_id, duration_ms, error_type
    )
    return InvocationResult(payload, errored, logs, request_id, duration_ms, error_type)


def _run_in_environment(
    fn: LambdaFunction,
    code_dir: Path,
    layers: list[Path],
    event: Any,
    request_id: str,
    *,
    timeout: float,
    tmp: Path,
) -> tuple[bytes, bool, int, str]:
    """One invocation in a warm execution environment: (output, timed out, exit status, stream).

    The environment goes back to the pool when its runtime answered; after a timeout or an
    exit it is killed with everything it started, as Lambda discards such an environment.
    """
    key = config_key(fn, code_dir, layers)

    def start() -> lambda_environments.Environment:
        stream = lambda_logs.stream_name(fn)
        env = _environment(fn, code_dir, "", stream)
        return lambda_environments.start_environment(
            key, _serve_command(fn, code_dir, layers), env, code_dir, stream
        )

    environment = _state.environments.acquire(key, start)
    event_file, output_file = tmp / "event.json", tmp / "output.log"
    event_file.write_text(json.dumps(event), "utf-8")
    command = {
        "request_id": request_id,
        "event_file": str(event_file),
        "result_file": str(tmp / "result.json"),
        "output_file": str(output_file),
    }
    outcome = environment.invoke(command, timeout=timeout)
    if outcome.answered:
        _state.environments.release(environment)
    else:
        _state.environments.discard(environment)
    output = output_file.read_bytes() if output_file.exists() else b""
    returncode = outcome.returncode if outcome.returncode is not None else -signal.SIGKILL
    return output, outcome.timed_out, 0 if outcome.answered else returncode, environment.stream


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
