"""The local cloud's server: moto's threaded server with every local-cloud patch applied.

``LocalCloud`` owns one in-process moto server on ``localhost`` and the extensions that make
it run the pipeline (CloudFormation engine, Lambda executor, EventBridge routing, SQS pollers,
Transcribe engine). moto's state and patches are process-wide, so one ``LocalCloud`` runs per
process at a time.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

# moto and the patches are imported when a LocalCloud starts, not at import time: importing
# moto's models takes seconds, and the CLI's up/down/status only need the helpers below.

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4566
# A name, not 127.0.0.1: S3 clients put the bucket in front of it (docs/local-cloud.md).
HOST = "localhost"
REGION = "us-east-1"
STATE_DIR = Path(__file__).resolve().parent.parent / ".localcloud"


@dataclass(frozen=True)
class Service:
    """An extension the local cloud installed, and how to stop it (None: nothing runs)."""

    name: str
    shutdown: Callable[[], None] | None = None


class LocalCloudError(RuntimeError):
    """The local cloud could not start, or is not running."""


class PortInUseError(LocalCloudError):
    """Something already listens on the requested port."""


def endpoint_url(port: int) -> str:
    """The endpoint URL for a port."""
    return f"http://{HOST}:{port}"


def free_port() -> int:
    """A port on localhost that nothing listens on right now (for tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pid_file(port: int, state_dir: Path = STATE_DIR) -> Path:
    """Where the background server of a port records its process id."""
    return state_dir / f"localcloud-{port}.pid"


def log_file(port: int, state_dir: Path = STATE_DIR) -> Path:
    """Where the background server of a port writes its log."""
    return state_dir / f"localcloud-{port}.log"


def client_environment(port: int) -> dict[str, str]:
    """Environment variables that point the AWS CLI, boto3 and the CDK CLI at the local cloud."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def is_responding(port: int, timeout: float = 2.0) -> bool:
    """Whether a moto server answers HTTP on the port."""
    try:
        with urllib.request.urlopen(f"{endpoint_url(port)}/moto-api/", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_responding(port: int, timeout: float) -> bool:
    """Poll the endpoint until it answers or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_responding(port, timeout=1.0):
            return True
        time.sleep(0.1)
    return False


def port_is_free(port: int) -> bool:
    """Whether the port can be bound on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server does (werkzeug sets it): connections of a stopped server that linger
        # in TIME_WAIT must not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening_pids(port: int) -> list[int]:
    """Best effort (Linux /proc): the processes with a socket listening on the port."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # fields: sl local_address rem_address st ... inode; state 0A is LISTEN.
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    pids: list[int] = []
    if not inodes:
        return pids
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            descriptors = list((proc / "fd").iterdir())
        except OSError:
            continue  # another user's process, or gone
        links = set()
        for descriptor in descriptors:
            try:
                links.add(os.readlink(descriptor))
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor, for one)
        if any(f"socket:[{inode}]" in links for inode in inodes):
            pids.append(int(proc.name))
    return pids


def describe_port_owner(port: int, state_dir: Path = STATE_DIR) -> str:
    """A sentence saying who holds the port, for error messages."""
    recorded = pid_file(port, state_dir)
    if recorded.exists():
        return (
            f"a local cloud started by `python -m localcloud up` (pid file {recorded}, pid "
            f"{recorded.read_text().strip()}); stop it with "
            f"`python -m localcloud down --port {port}`"
        )
    pids = _listening_pids(port)
    if pids:
        commands = []
        for pid in pids:
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                command = raw.replace(b"\0", b" ").decode(errors="replace").strip()
                commands.append(f"pid {pid}: {command[:120]}")
            except OSError:
                commands.append(f"pid {pid}")
        return "another process (" + "; ".join(commands) + ")"
    return "another process"


def _start_server(port: int, state_dir: Path) -> ThreadedMotoServer:
    """Start moto's threaded server on localhost; raise PortInUseError if it cannot bind."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    bind_error: list[OSError] = []

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except OSError as exc:
                # moto's start() waits for a ready event a failed bind would never set.
                bind_error.append(exc)
                self._server_ready_event.set()

    moto_server = Server(ip_address=HOST, port=port, verbose=False)
    moto_server.start()
    if bind_error:
        raise PortInUseError(
            f"cannot listen on {HOST}:{port}: {bind_error[0].strerror} "
            f"(held by {describe_port_owner(port, state_dir)})"
        ) from bind_error[0]
    return moto_server


class LocalCloud:
    """The local cloud in this process: ``with LocalCloud(port) as cloud: ...``."""

    _active: LocalCloud | None = None
    _active_lock = threading.Lock()

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        work_dir: Path | None = None,
        state_dir: Path = STATE_DIR,
        ready_timeout: float = 30.0,
    ) -> None:
        self.port = port
        self.state_dir = state_dir
        self.ready_timeout = ready_timeout
        self._work_dir = work_dir
        self._owns_work_dir = work_dir is None
        self._server: ThreadedMotoServer | None = None
        self._services: list[Service] = []

    @property
    def endpoint_url(self) -> str:
        """The URL clients use (``http://localhost:<port>``)."""
        return endpoint_url(self.port)

    @property
    def running(self) -> bool:
        """Whether this instance has started and not stopped."""
        return self._server is not None

    @property
    def services(self) -> list[str]:
        """The extensions running, in the order they were installed."""
        return [service.name for service in self._services]

    def start(self) -> LocalCloud:
        """Apply the patches, start the server and wait until it answers."""
        with LocalCloud._active_lock:
            if LocalCloud._active is not None:
                raise LocalCloudError(
                    f"a local cloud already runs in this process on port {LocalCloud._active.port}"
                    " (moto's state and patches are process-wide)"
                )
            LocalCloud._active = self
        try:
            self._start()
        except BaseException:
            self._release()
            raise
        return self

    def _start(self) -> None:
        if not port_is_free(self.port):
            owner = describe_port_owner(self.port, self.state_dir)
            raise PortInUseError(f"port {self.port} is already in use by {owner}")
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix=f"localcloud-{self.port}-"))
        werkzeug_logger = logging.getLogger("werkzeug")
        if werkzeug_logger.level == logging.NOTSET:
            # One line per HTTP request drowns everything else; an explicit level is kept.
            werkzeug_logger.setLevel(logging.WARNING)
        self._install_patches(self._work_dir)
        try:
            self._server = _start_server(self.port, self.state_dir)
        except PortInUseError:
            self._shutdown_services()
            raise
        if not wait_until_responding(self.port, self.ready_timeout):
            self.stop()
            raise LocalCloudError(
                f"the local cloud did not answer on {self.endpoint_url} "
                f"within {self.ready_timeout:.0f} s"
            )
        logger.info(
            "local cloud ready on %s (%s)",
            self.endpoint_url,
            ", ".join(self.services) or "moto only",
        )

    def _install_patches(self, work_dir: Path) -> None:
        # Imported here, not at the top: moto's models take seconds to import, and the CLI's
        # up/down/status need only the helpers above.
        from localcloud import (
            background,
            cloudformation,
            event_targets,
            lambda_config,
            lambda_invoke,
            lambda_processes,
            s3_events,
            schedules,
            sqs_mapping,
            transcribe,
        )

        # No two extensions patch the same method (cloudformation wraps the CloudFormation
        # create/update of functions and buckets, the lambda_* modules the function's runtime,
        # invoke and configuration methods that those call), so the order of installation is
        # free; it decides the order of shutdown, which is the reverse.
        cloudformation.install(endpoint_url=self.endpoint_url)
        lambda_processes.install(endpoint_url=self.endpoint_url, region=REGION, work_dir=work_dir)
        self._services.append(Service(lambda_processes.__name__, lambda_processes.shutdown))
        background.start()
        self._services.append(Service(background.__name__, background.shutdown))
        lambda_config.install()
        self._services.append(Service(lambda_config.__name__))
        lambda_invoke.install()
        self._services.append(Service(lambda_invoke.__name__))
        event_targets.install()
        self._services.append(Service(event_targets.__name__))
        s3_events.install()
        self._services.append(Service(s3_events.__name__))
        schedules.install()
        self._services.append(Service(schedules.__name__, schedules.shutdown))
        sqs_mapping.install()
        self._services.append(Service(sqs_mapping.__name__, sqs_mapping.shutdown))
        transcribe.install(endpoint_url=self.endpoint_url)
        self._services.append(Service(transcribe.__name__, transcribe.shutdown))

    def stop(self) -> None:
        """Stop pollers, workers and function processes, then the server."""
        try:
            self._shutdown_services()
            if self._server is not None:
                self._server.stop()
                self._server = None
            from localcloud import cloudformation

            if not cloudformation.wait_for_idle(timeout=5.0):
                logger.warning("a CloudFormation operation was still running at shutdown")
        finally:
            if self._owns_work_dir and self._work_dir is not None:
                shutil.rmtree(self._work_dir, ignore_errors=True)
                self._work_dir = None
            self._release()

    def _shutdown_services(self) -> None:
        # Reverse order: the Transcribe engine, the SQS pollers and the schedules invoke
        # functions, so they stop before the background pool closes and the function
        # processes are killed.
        for service in reversed(self._services):
            if service.shutdown is None:
                continue
            try:
                service.shutdown()
            except Exception:
                logger.exception("shutting down %s failed", service.name)
        self._services.clear()

    def _release(self) -> None:
        with LocalCloud._active_lock:
            if LocalCloud._active is self:
                LocalCloud._active = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
