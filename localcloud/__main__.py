"""``python -m localcloud up|down|status|run|demo``: operate the local cloud.

``up`` starts ``run`` as a detached background process (log and pid file under
``.localcloud/``) and returns once the endpoint answers; ``down`` stops it; ``status`` reports
it; ``run`` serves in the foreground until interrupted; ``demo`` runs ``localcloud.demo``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from localcloud import server

logger = logging.getLogger("localcloud")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3  # as `systemctl status` reports a stopped service
STOP_TIMEOUT_SECONDS = 15.0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo":
        return _demo(argv[1:])
    args = _parser().parse_args(argv)
    state_dir: Path = args.state_dir
    command: str = args.command
    if command == "up":
        return up(args.port, state_dir=state_dir, timeout=args.timeout)
    if command == "down":
        return down(args.port, state_dir=state_dir)
    if command == "status":
        return status(args.port, state_dir=state_dir)
    return run(args.port, state_dir=state_dir, log_level=args.log_level)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localcloud", description="Operate the local cloud (moto-based AWS)."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, default=server.DEFAULT_PORT, help="default: 4566")
    common.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("LOCALCLOUD_STATE_DIR", server.STATE_DIR)),
        help="where pid and log files live (default: .localcloud/ in the repository)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser(
        "up", parents=[common], help="start in the background; return when ready"
    )
    start.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    commands.add_parser("down", parents=[common], help="stop the background local cloud")
    commands.add_parser("status", parents=[common], help="is it running? (exit 0 yes, 3 no)")
    foreground = commands.add_parser("run", parents=[common], help="serve in the foreground")
    foreground.add_argument("--log-level", default="INFO")
    commands.add_parser("demo", help="deploy the pipeline and transcribe a sample (make demo)")
    return parser


def _demo(argv: list[str]) -> int:
    # Imported here, not at the top: the demo brings boto3 and rich, which up/down/status
    # do not need.
    from localcloud import demo

    return demo.main(argv)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_localcloud_process(pid: int) -> bool:
    """Whether the pid is alive and is a local cloud (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (not Linux): trust the pid file
    return b"localcloud" in command


def display_path(path: Path, base: Path | None = None) -> str:
    """``path`` as a user would type it: relative to ``base`` (the working directory) inside it."""
    try:
        return str(path.resolve().relative_to((base or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def _print_usage_hint(port: int) -> None:
    print(f"Local cloud: {server.endpoint_url(port)} (region {server.REGION})")
    print("Point tools at it with:")
    for key, value in server.client_environment(port).items():
        print(f"  export {key}={value}")


def up(port: int, *, state_dir: Path, timeout: float) -> int:
    """Start the local cloud as a detached background process and wait until it answers."""
    pid_path = server.pid_file(port, state_dir)
    shown = display_path(pid_path)
    log_path = server.log_file(port, state_dir)
    pid = _read_pid(pid_path)
    if pid is not None:
        if _is_localcloud_process(pid) and server.is_responding(port):
            print(f"Already running (pid {pid}, pid file {shown}).")
            _print_usage_hint(port)
            return EXIT_OK
        if not _is_localcloud_process(pid):
            print(f"Removed stale pid file {shown} (process {pid} no longer runs).")
            pid_path.unlink(missing_ok=True)
    if not server.port_is_free(port):
        print(
            f"Cannot start: port {port} is already in use by "
            f"{server.describe_port_owner(port, state_dir)}.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    state_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "localcloud",
        "run",
        "--port",
        str(port),
        "--state-dir",
        str(state_dir),
    ]
    with log_path.open("ab") as log:
        # A new session: the server outlives this command and a terminal's Ctrl-C.
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print(
                f"The local cloud exited during start-up (code {child.returncode}):",
                file=sys.stderr,
            )
            print(_tail(log_path), file=sys.stderr)
            return EXIT_FAILED
        if server.is_responding(port, timeout=1.0) and _read_pid(pid_path) == child.pid:
            print(f"Started (pid {child.pid}); log: {display_path(log_path)}")
            _print_usage_hint(port)
            return EXIT_OK
        time.sleep(0.2)
    print(
        f"The local cloud did not become ready within {timeout:.0f} s; stopping it.",
        file=sys.stderr,
    )
    _terminate(child.pid)
    print(_tail(log_path), file=sys.stderr)
    return EXIT_FAILED


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _signal(pid: int, signum: int) -> None:
    # `up` starts the server as a session leader: signal its whole group (function processes
    # included). A server started by hand in a shell is signalled alone.
    try:
        leader = os.getpgid(pid) == pid
    except ProcessLookupError:
        return
    try:
        if leader:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        return


def _terminate(pid: int) -> bool:
    """SIGTERM the server, SIGKILL it if it lingers; True when it is gone."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _is_localcloud_process(pid):
            return True
        time.sleep(0.1)
    logger.warning("pid %d did not stop within %.0f s; killing it", pid, STOP_TIMEOUT_SECONDS)
    _signal(pid, signal.SIGKILL)
    time.sleep(0.2)
    return not _is_localcloud_process(pid)


def down(port: int, *, state_dir: Path) -> int:
    """Stop the background local cloud of a port."""
    pid_path = server.pid_file(port, state_dir)
    shown = display_path(pid_path)
    pid = _read_pid(pid_path)
    if pid is None:
        if server.is_responding(port):
            print(
                f"Something answers on port {port}, but there is no pid file {shown}: "
                f"it was not started by `python -m localcloud up` with this state directory "
                f"({server.describe_port_owner(port, state_dir)}).",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print(f"Not running (no pid file {shown}).")
        return EXIT_OK
    if not _is_localcloud_process(pid):
        pid_path.unlink(missing_ok=True)
        print(f"Not running; removed stale pid file {shown} (process {pid} no longer runs).")
        return EXIT_OK
    if not _terminate(pid):
        print(f"Could not stop pid {pid}.", file=sys.stderr)
        return EXIT_FAILED
    pid_path.unlink(missing_ok=True)
    print(f"Stopped the local cloud on port {port} (pid {pid}).")
    return EXIT_OK


def status(port: int, *, state_dir: Path) -> int:
    """Report whether the local cloud of a port runs and answers."""
    pid_path = server.pid_file(port, state_dir)
    shown = display_path(pid_path)
    pid = _read_pid(pid_path)
    alive = pid is not None and _is_localcloud_process(pid)
    responding = server.is_responding(port)
    url = server.endpoint_url(port)
    if alive and responding:
        print(
            f"Running (pid {pid}) on {url}; log: {display_path(server.log_file(port, state_dir))}"
        )
        return EXIT_OK
    if alive:
        print(f"Starting or unhealthy: pid {pid} runs but {url} does not answer.")
        return EXIT_FAILED
    if pid is not None:
        print(f"Not running (stale pid file {shown}; `down` removes it).")
        return EXIT_NOT_RUNNING
    if responding:
        print(f"Not started by `localcloud up`, but something answers on {url}.")
        return EXIT_NOT_RUNNING
    print(f"Not running on port {port}.")
    return EXIT_NOT_RUNNING


def run(port: int, *, state_dir: Path, log_level: str = "INFO") -> int:
    """Serve in the foreground until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    cloud = server.LocalCloud(port, state_dir=state_dir)
    try:
        cloud.start()
    except server.LocalCloudError as exc:
        logger.error("%s", exc)
        return EXIT_FAILED
    pid_path = server.pid_file(port, state_dir)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.write_text(f"{os.getpid()}\n")
    logger.info(
        "serving %s (pid %d); Ctrl-C or `python -m localcloud down` stops it",
        cloud.endpoint_url,
        os.getpid(),
    )
    try:
        while not stop.wait(0.25):
            pass
    finally:
        logger.info("stopping")
        cloud.stop()
        if _read_pid(pid_path) == os.getpid():
            pid_path.unlink(missing_ok=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
