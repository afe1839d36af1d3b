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


# On CI every dependency is installed by .ci/run, so a test that skips there is hiding a missing install
# step: it fails instead. Only skips that depend on the hardware CI happens to get are allowed.
SKIPS_ALLOWED_ON_CI = ("this machine has CUDA",)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if not any(allowed in reason for allowed in SKIPS_ALLOWED_ON_CI):
            report.outcome = "failed"
            report.longrepr = f"skipped on CI (a missing install step?): {reason}"
