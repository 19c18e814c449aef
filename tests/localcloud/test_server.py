"""The local cloud's server lifecycle: `python -m localcloud up/status/down`, and clear errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud import __main__ as cli
from localcloud import demo
from localcloud.server import LocalCloud, LocalCloudError, PortInUseError, free_port

pytestmark = pytest.mark.xdist_group("localcloud-server")

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localcloud", *args, "--state-dir", str(state_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something else (this test process) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`up` on a free port, observed with `status` and a second `up`, then `down` twice."""
    state_dir = tmp_path_factory.mktemp("state")
    port = str(free_port())
    seen: dict[str, Any] = {"state_dir": state_dir, "port": port}
    seen["up"] = _cli("up", "--port", port, state_dir=state_dir)
    try:
        seen["pid_file"] = (state_dir / f"localcloud-{port}.pid").read_text().strip()
        seen["buckets"] = boto3.client(
            "s3",
            endpoint_url=f"http://localhost:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).list_buckets()["Buckets"]
        seen["status"] = _cli("status", "--port", port, state_dir=state_dir)
        seen["up_again"] = _cli("up", "--port", port, state_dir=state_dir)
    finally:
        seen["down"] = _cli("down", "--port", port, state_dir=state_dir)
    seen["down_again"] = _cli("down", "--port", port, state_dir=state_dir)
    seen["status_after"] = _cli("status", "--port", port, state_dir=state_dir)
    seen["log"] = (state_dir / f"localcloud-{port}.log").read_text()
    return seen


def test_up_starts_a_server_that_answers_and_prints_the_environment(background) -> None:
    up = background["up"]

    assert up.returncode == 0, up.stderr
    assert f"export AWS_ENDPOINT_URL=http://localhost:{background['port']}" in up.stdout
    assert background["pid_file"].isdigit()
    assert background["buckets"] == []


def test_status_reports_a_running_server(background) -> None:
    status = background["status"]

    assert status.returncode == 0
    assert f"Running (pid {background['pid_file']})" in status.stdout


def test_up_twice_reuses_the_running_server(background) -> None:
    again = background["up_again"]

    assert again.returncode == 0
    assert f"Already running (pid {background['pid_file']}" in again.stdout


def test_down_stops_the_server_and_removes_its_pid_file(background) -> None:
    down, status = background["down"], background["status_after"]

    assert down.returncode == 0, down.stderr
    assert "Stopped the local cloud" in down.stdout
    assert not (background["state_dir"] / f"localcloud-{background['port']}.pid").exists()
    assert status.returncode == 3
    assert "Not running" in status.stdout
    assert "local cloud ready on" in background["log"]


def test_down_when_nothing_runs_says_so(background) -> None:
    again = background["down_again"]

    assert again.returncode == 0
    assert "Not running (no pid file" in again.stdout


def test_down_cleans_a_stale_pid_file(tmp_path: Path) -> None:
    port = free_port()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file = tmp_path / f"localcloud-{port}.pid"
    pid_file.write_text(f"{dead.pid}\n")

    status = _cli("status", "--port", str(port), state_dir=tmp_path)
    down = _cli("down", "--port", str(port), state_dir=tmp_path)

    assert status.returncode == 3
    assert "stale pid file" in status.stdout
    assert down.returncode == 0
    assert f"removed stale pid file {pid_file}" in down.stdout
    assert not pid_file.exists()


def test_up_on_a_busy_port_names_the_process_holding_it(listener: int, tmp_path: Path) -> None:
    up = _cli("up", "--port", str(listener), state_dir=tmp_path)

    assert up.returncode == 1
    assert f"port {listener} is already in use" in up.stderr
    assert f"pid {os.getpid()}" in up.stderr
    assert not (tmp_path / f"localcloud-{listener}.pid").exists()


def test_local_cloud_on_a_busy_port_raises_a_clear_error(listener: int) -> None:
    with pytest.raises(
        PortInUseError, match=rf"port {listener} is already in use.*pid {os.getpid()}"
    ):
        LocalCloud(listener).start()


def test_only_one_local_cloud_runs_per_process(listener: int) -> None:
    first = LocalCloud(free_port())
    first.start()
    try:
        with pytest.raises(LocalCloudError, match="already runs in this process"):
            LocalCloud(listener).start()
    finally:
        first.stop()

    assert not first.running


def test_demo_is_dispatched_to_the_demo_module_with_its_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        received.append(argv)
        return 7

    monkeypatch.setattr(demo, "main", fake_main)

    code = cli.main(["demo", "--port", "4999"])

    assert code == 7
    assert received == [["--port", "4999"]]


def test_paths_inside_the_working_directory_are_shown_relative_to_it(tmp_path: Path) -> None:
    log = tmp_path / ".localcloud" / "localcloud-4566.log"

    assert cli.display_path(log, base=tmp_path) == ".localcloud/localcloud-4566.log"


def test_paths_outside_the_working_directory_stay_absolute(tmp_path: Path) -> None:
    log = tmp_path / "state" / "localcloud-4566.log"

    assert cli.display_path(log, base=tmp_path / "elsewhere") == str(log)
