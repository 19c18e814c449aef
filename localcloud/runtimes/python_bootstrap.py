"""Run Lambda invocations of a Python handler, as the AWS Python runtime would.

Usage, one invocation:
    python python_bootstrap.py <handler> <task_root> <result_file> [extra sys.path dir ...]
The event is read from stdin as JSON.

Usage, an execution environment that serves invocations one after the other:
    python python_bootstrap.py --serve <command_fd> <answer_fd> <handler> <task_root> [dir ...]
Each invocation is one JSON line on <command_fd>: {"request_id", "event_file", "result_file",
"output_file"}. The handler's module is imported once, at the first invocation (Lambda's init);
while an invocation runs, the process's stdout and stderr go to its output_file. When its result
is written, the line "done" goes to <answer_fd>. After an init failure or a timeout the process
exits, as Lambda discards such an environment (docs/lambda-execution-environment.md).

Either way, the handler's return value (JSON) or the error, in the shape the Lambda service
reports (errorMessage, errorType, requestId, stackTrace), is written to <result_file> as
{"ok": bool, "payload": ...}. Everything the function prints goes to this process's
stdout/stderr, which the local cloud stores in the function's log group.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from typing import Any


class LambdaContext:
    """The context object the Python runtime passes to handlers."""

    def __init__(self) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("_LOCALCLOUD_INVOKED_ARN", "")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = env.get("_LOCALCLOUD_REQUEST_ID", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = int(
            (time.time() + float(env.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))) * 1000
        )

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the local cloud kills this invocation."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _configure_logging(request_id: str) -> None:
    # The AWS runtime installs a root handler with this format, so `logging` calls in handlers
    # show up in CloudWatch the same way.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_RequestIdFilter(request_id))
    root = logging.getLogger()
    root.handlers = [handler]
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


def _error(
    exc: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    request_id = os.environ.get("_LOCALCLOUD_REQUEST_ID", "")
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


_RESULT_LOCK = threading.Lock()


def _write(result_file: str, ok: bool, payload: Any) -> None:
    # The handler and the timeout timer race to answer: the first one wins.
    with _RESULT_LOCK:
        if os.path.exists(result_file):
            return
        with open(result_file + ".tmp", "w", encoding="utf-8") as out:
            json.dump({"ok": ok, "payload": payload}, out)
        os.replace(result_file + ".tmp", result_file)


def _start_timeout(result_file: str) -> threading.Timer:
    """Answer "Task timed out" when the function's timeout passes (init is not counted)."""
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    request_id = os.environ.get("_LOCALCLOUD_REQUEST_ID", "")

    def expire() -> None:
        message = f"Task timed out after {timeout:.2f} seconds"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        print(f"{stamp}Z {request_id} {message}", flush=True)
        _write(
            result_file,
            False,
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {message}",
            },
        )
        sys.stderr.flush()
        os._exit(0)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    return timer


def _resolve_localhost_subdomains() -> None:
    # Virtual-hosted S3 addresses buckets as <bucket>.localhost, which glibc does not resolve.
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.lower().rstrip(".").endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def _prepare_path(task_root: str, extra_paths: list[str]) -> None:
    # As on Lambda: the code directory first, then layers, then the runtime's own packages.
    bootstrap_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != bootstrap_dir]
    sys.path[0:0] = [task_root, *extra_paths]
    os.chdir(task_root)


def _load_handler(handler_name: str, result_file: str) -> Any:
    """The handler function (init); None when it cannot be loaded (the error is the result)."""
    module_name, _, function_name = handler_name.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is reported as Lambda does
        _write(
            result_file,
            False,
            _error(
                exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
            ),
        )
        print(f"[ERROR] Runtime.ImportModuleError: Unable to import module '{module_name}': {exc}")
        return None
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        _write(
            result_file,
            False,
            {
                "errorMessage": message,
                "errorType": "Runtime.HandlerNotFound",
                "requestId": os.environ.get("_LOCALCLOUD_REQUEST_ID", ""),
                "stackTrace": [],
            },
        )
        print(f"[ERROR] Runtime.HandlerNotFound: {message}")
    return handler


def _invoke(handler: Any, event: Any, result_file: str) -> None:
    """Call the handler within the function's timeout and record the outcome."""
    context = LambdaContext()
    timer = _start_timeout(result_file)
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - any exception is the function's error
        timer.cancel()
        error = _error(exc)
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        traceback.print_exc(file=sys.stdout)
        _write(result_file, False, error)
        return
    timer.cancel()
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        _write(
            result_file,
            False,
            _error(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}"),
        )
        return
    _write(result_file, True, result)


def main() -> int:
    """Import the handler, call it with the event from stdin and record the outcome."""
    handler_name, task_root, result_file, *extra_paths = sys.argv[1:]
    _prepare_path(task_root, extra_paths)
    _configure_logging(os.environ.get("_LOCALCLOUD_REQUEST_ID", ""))
    _resolve_localhost_subdomains()

    event = json.loads(sys.stdin.read() or "{}")
    handler = _load_handler(handler_name, result_file)
    if handler is not None:
        _invoke(handler, event, result_file)
    return 0


def serve() -> int:
    """An execution environment: invocations from the command pipe, one at a time."""
    command_fd, answer_fd, handler_name, task_root, *extra_paths = sys.argv[2:]
    _prepare_path(task_root, extra_paths)
    _resolve_localhost_subdomains()
    handler = None
    with os.fdopen(int(command_fd), "rb") as commands, os.fdopen(int(answer_fd), "wb") as answers:
        for line in commands:
            command = json.loads(line)
            # This invocation's output file becomes the process's stdout and stderr.
            sys.stdout.flush()
            sys.stderr.flush()
            output = os.open(command["output_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(output)
            os.environ["_LOCALCLOUD_REQUEST_ID"] = command["request_id"]
            _configure_logging(command["request_id"])
            with open(command["event_file"], encoding="utf-8") as source:
                event = json.loads(source.read() or "{}")
            if handler is None:
                handler = _load_handler(handler_name, command["result_file"])
                if handler is None:
                    return 0  # Lambda retries a failed init in a new environment
            _invoke(handler, event, command["result_file"])
            sys.stdout.flush()
            sys.stderr.flush()
            answers.write(b"done\n")
            answers.flush()
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = serve() if sys.argv[1:2] == ["--serve"] else main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Real Lambda freezes the sandbox once the handler returns: do not wait for stray threads.
    os._exit(code)
