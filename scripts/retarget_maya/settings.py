"""What the dialog remembers between sessions (QSettings): last files, options and the engine's Python."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional

from . import defaults, protocol
from .qt import QtCore


class DialogSettings:
    """Typed access to the remembered values; `store` defaults to the user's FaceRetarget settings."""

    def __init__(self, store: Optional[QtCore.QSettings] = None) -> None:
        self.store = store if store is not None else QtCore.QSettings(
            defaults.SETTINGS_ORGANIZATION, defaults.SETTINGS_APPLICATION)

    def text(self, key: str, default: str = "") -> str:
        value = self.store.value(key, default)
        return str(value) if value is not None else default

    def flag(self, key: str, default: bool) -> bool:
        value: Any = self.store.value(key, default)
        if isinstance(value, str):          # INI files give back strings
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def number(self, key: str, default: Optional[float]) -> Optional[float]:
        value: Any = self.store.value(key, "" if default is None else default)
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        self.store.setValue(key, "" if value is None else value)

    def sync(self) -> None:
        self.store.sync()

    # Actor profiles: an animator works with several actors, each one's footage in its own folders, so the
    # profile chosen for a video is remembered for the video's folder (and the last one used, as "actor").
    def actor_profiles(self) -> Dict[str, str]:
        """{video folder: actor profile path} ("" = this folder's clips run without a profile)."""
        try:
            doc = json.loads(self.text(defaults.ACTOR_PROFILES_KEY, "{}") or "{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}

    def actor_for_video(self, video: str) -> Optional[str]:
        """The profile remembered for the folder of `video`, or None when that folder has none."""
        return self.actor_profiles().get(_folder_key(video)) if video else None

    def remember_actor(self, video: str, profile: str) -> None:
        self.set("actor", profile)
        if not video:
            return
        profiles = self.actor_profiles()
        profiles.pop(_folder_key(video), None)          # re-inserted last: the most recent folder
        profiles[_folder_key(video)] = profile
        kept = list(profiles.items())[-defaults.MAX_REMEMBERED_FOLDERS:]
        self.set(defaults.ACTOR_PROFILES_KEY, json.dumps(dict(kept)))

    # The engine's Python: the environment variable overrides what the user chose in the dialog.
    def engine_python(self, environ: Mapping[str, str] = os.environ) -> str:
        return protocol.resolve_engine_python(self.text("engine_python"), environ)

    @staticmethod
    def engine_python_overridden(environ: Mapping[str, str] = os.environ) -> bool:
        return bool(environ.get(defaults.ENGINE_PYTHON_ENV, "").strip())


def _folder_key(video: str) -> str:
    return os.path.normcase(os.path.dirname(os.path.abspath(video)))
