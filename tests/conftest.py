"""Shared fixtures. Development data is read from ../shared/data (override: FACERETARGET_SHARED_DATA).

On CI the data must be there (a missing folder fails the run); elsewhere tests that need it are skipped.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "MANIFEST.md").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared data not found at {path} (set FACERETARGET_SHARED_DATA)")
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture(scope="session")
def face_clips(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "video" / "faces").glob("*.mp4"))
