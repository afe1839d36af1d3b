"""Batch manifests: which clips to run, where each take goes, and per-clip options.

A manifest is a CSV file with a header row, or a JSON file holding a list of objects (or `{"clips": [...]}`).
Each row / object names:

| column         | required | meaning                                                                 |
|----------------|----------|-------------------------------------------------------------------------|
| `video`        | yes *    | the face video                                                          |
| `arkit`        | yes *    | instead of `video`: an iPhone Live Link Face / ARKit-52 CSV (`--arkit`)  |
| `output`       | yes      | the take folder to write                                                |
| `audio`        | no       | speech recording (RunOptions.audio.audio)                               |
| `transcript`   | no       | transcript file (a path: has a folder part or a file suffix) or the text|
| `actor`        | no       | actor profile from `calibrate` (`--actor`; RunOptions.solve.actor)      |
| `rig`          | no       | `mh4` or `legacy` (`--rig`)                                             |
| `fps_out`      | no       | uniform output rate (`--fps-out`)                                       |
| `neutral_time` | no       | seconds where the face is at rest (`--neutral-time`)                    |
| `smoothing`    | no       | low-pass cutoff in Hz, 0 = off (`--smoothing`)                          |
| `arkit_fps`    | no       | the ARKit CSV's frame rate (`--arkit-fps`)                              |
| `preview`      | no       | yes/no: also write preview.mp4 into the take (`--preview`)              |
| `language`, `lip_correction`, `audio_offset`, `blend_weight` | no | the audio options of `run`        |

* every row names exactly one source: a `video` or an `arkit` CSV.

`batch VIDEO_OR_FOLDER... --out FOLDER` makes the manifest itself (`jobs_from_videos`): one row per video,
its take in FOLDER/<video name>.

Empty cells (or JSON null) take `run`'s defaults (engine.config). Column names are matched without regard
to case, and `-` equals `_` (`fps-out` = `fps_out`). A JSON object may also carry the options in an
`"options"` object. Any other column is an error that names it, before anything runs. Relative paths are
relative to the manifest's folder. Every row is checked like a `run` command line (rig, rate, ...) before
the first clip starts; the files themselves are checked by each clip's run, so a missing or corrupt video
fails only its own clip. The exception is the actor profile: it is read with the manifest (like `run`, which
reads it before tracking), because a missing, damaged or other-rig profile would fail every clip of its actor.
"""
from __future__ import annotations

import csv
import math
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

from engine.audio.text import TRANSCRIPT_SUFFIXES
from engine.config import RunOptions, SolveOptions
from engine.config.batch import VIDEO_SUFFIXES
from engine.config.preview import PreviewOptions
from engine.errors import BadInput
from engine.media.files import reading_input
from engine.pipeline import validate

REQUIRED = ("output",)
SOURCES = ("video", "arkit")          # a row names exactly one
FILES = ("video", "arkit", "output", "audio", "transcript", "actor")


def _float(text: Any) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _str(text: Any) -> str:
    return str(text).strip()


YES, NO = ("1", "true", "yes", "y", "on"), ("0", "false", "no", "n", "off")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in YES + NO:
        raise ValueError(f"not yes/no: {value!r}")
    return text in YES


# manifest column -> (attribute path in RunOptions, parser). Audio columns exist when RunOptions has audio.
_OPTION_COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "rig": ("rig", _str),
    "fps_out": ("fps_out", _float),
    "neutral_time": ("solve.neutral_time", _float),
    "smoothing": ("solve.smoothing_cutoff_hz", _float),
    "arkit_fps": ("arkit_fps", _float),
    "preview": ("preview", _bool),
    "symmetric": ("symmetric", _bool),
}
_AUDIO_OPTION_COLUMNS = {"language": _str, "lip_correction": _str, "audio_offset": _float, "blend_weight": _float}


def _has_audio_options() -> bool:
    return any(f.name == "audio" for f in fields(RunOptions))


def option_columns() -> dict[str, tuple[str, Callable[[Any], Any]]]:
    columns = dict(_OPTION_COLUMNS)
    if _has_audio_options():
        audio_fields = {f.name for f in fields(RunOptions().audio)}
        columns.update({name: (f"audio.{name}", parse) for name, parse in _AUDIO_OPTION_COLUMNS.items()
                        if name in audio_fields})
    return columns


def known_columns() -> tuple[str, ...]:
    return (*FILES, *option_columns())


@dataclass
class ClipJob:
    """One manifest row, resolved: absolute paths and the options that differ from `run`'s defaults."""

    row: int                      # position in the manifest (1-based)
    video: Path | None            # the face video (None: the row's source is `arkit`)
    output: Path
    audio: Path | None = None
    transcript: str | None = None   # an absolute path, or the transcript text itself
    options: dict[str, Any] = field(default_factory=dict)   # manifest column -> parsed value
    where: str = ""               # "manifest.csv, line 3": for messages
    overwrite: bool = False       # replace the take folder at `output` (set by the runner, not the manifest)
    actor: Path | None = None     # actor profile (RunOptions.solve.actor); None: the population resting model
    arkit: Path | None = None     # an ARKit CSV in place of the video (RunOptions.arkit)
    preview_options: PreviewOptions | None = None   # how previews look (set by the runner from the batch's)

    @property
    def source(self) -> Path:
        """The clip's input file: its video or its ARKit CSV."""
        source = self.video if self.video is not None else self.arkit
        assert source is not None, "a clip has a video or an ARKit CSV"
        return source

    def run_options(self, overwrite: bool | None = None, model_path: Path | None = None) -> RunOptions:
        """The RunOptions `run` gets for this clip (overwrite: default the job's own flag)."""
        overwrite = self.overwrite if overwrite is None else overwrite
        options = RunOptions(video=self.video, arkit=self.arkit, out=self.output, overwrite=overwrite,
                             model_path=model_path, solve=SolveOptions(actor=self.actor))
        columns = option_columns()
        for column, value in self.options.items():
            target, owner = columns[column][0], options
            *parents, attribute = target.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            setattr(owner, attribute, value)
        if self.audio is not None or self.transcript is not None:
            options.audio = replace(options.audio, audio=self.audio, transcript=self.transcript)
        if self.preview_options is not None:
            options.preview_options = self.preview_options
        return options

    def to_json(self) -> dict:
        return {"row": self.row, "where": self.where, "video": path_text(self.video), "arkit": path_text(self.arkit),
                "output": str(self.output), "audio": path_text(self.audio), "transcript": self.transcript,
                "actor": path_text(self.actor), "options": dict(self.options)}


def path_text(path: Path | None) -> str | None:
    """A path for a JSON report; None stays None."""
    return str(path) if path is not None else None


def read_manifest(path: str | Path) -> list[ClipJob]:
    """Every clip of a CSV or JSON manifest, checked; BadInput names the row and column of any problem."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"manifest not found: {path}", "give a CSV or JSON file listing the clips")
    suffix = path.suffix.lower()
    if suffix == ".json":
        rows = _json_rows(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise BadInput(f"manifest {path.name}: unknown format {path.suffix!r}", "use a .csv or .json manifest")
    if not rows:
        raise BadInput(f"manifest {path.name} lists no clips", "add one row per clip (video, output, ...)")
    base = path.absolute().parent
    csv_like = suffix != ".json"
    jobs = [_job(row, fields_, base, f"manifest {path.name}, {'line' if csv_like else 'clip'} {number}")
            for row, (number, fields_) in enumerate(rows, start=1)]
    _check_outputs(jobs, path.name)
    return jobs


def jobs_from_videos(inputs: list[Path] | tuple[Path, ...], out: Path, options: dict[str, Any]) -> list[ClipJob]:
    """A manifest made from videos (and folders of videos): each to out/<video name>, with `options`
    (manifest columns, e.g. rig and preview); checked as a manifest's rows are."""
    videos: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            videos += sorted(p for p in item.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        elif item.is_file():
            videos.append(item)
        else:
            raise BadInput(f"not found: {item}", "give video files or folders that hold them")
    if not videos:
        raise BadInput("no videos found in " + ", ".join(map(str, inputs)),
                       f"videos are files ending in {', '.join(VIDEO_SUFFIXES)}")
    out = Path(out).absolute()
    jobs = [_job(row, {"video": str(video.absolute()), "output": str(out / video.stem), **options}, out, video.name)
            for row, video in enumerate(videos, start=1)]
    _check_outputs(jobs, "the videos")
    return jobs


def _normal(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _check_columns(names: list[str], where: str) -> None:
    unknown = [name for name in names if _normal(name) not in known_columns()]
    if unknown:
        raise BadInput(f"{where}: unknown column(s): {', '.join(repr(n) for n in unknown)}",
                       f"known columns: {', '.join(known_columns())}")


def _csv_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with reading_input(path, "manifest (UTF-8 CSV)", "save the manifest as UTF-8 text"), \
            open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = "\t" if path.suffix.lower() == ".tsv" or ("\t" in sample and "," not in sample) else ","
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise BadInput(f"manifest {path.name} is empty", "its first line names the columns: video,output,...")
        _check_columns([h for h in header if h.strip()], f"manifest {path.name}")
        names = [_normal(h) for h in header]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values) or values[0].lstrip().startswith("#"):
                continue
            if len(values) > len(names) and any(v.strip() for v in values[len(names):]):
                raise BadInput(f"manifest {path.name}, line {reader.line_num}: {len(values)} fields, "
                               f"but the header names {len(names)}", "quote values that contain commas")
            rows.append((reader.line_num, {n: v.strip() for n, v in zip(names, values) if n}))
    return rows


def _json_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"manifest {path.name} is not valid JSON: {exc}", "fix the file") from exc
    if isinstance(doc, dict):
        extra = set(doc) - {"clips"}
        if "clips" not in doc or extra:
            raise BadInput(f"manifest {path.name}: expected a list of clips or {{\"clips\": [...]}}"
                           + (f", found key(s) {', '.join(sorted(extra))}" if extra else ""),
                           "put one object per clip in a top-level list")
        doc = doc["clips"]
    if not isinstance(doc, list):
        raise BadInput(f"manifest {path.name}: expected a list of clips", "put one object per clip in a list")
    rows = []
    for i, item in enumerate(doc, start=1):
        where = f"manifest {path.name}, clip {i}"
        if not isinstance(item, dict):
            raise BadInput(f"{where} is not an object", 'write each clip as {"video": ..., "output": ...}')
        item = dict(item)
        nested = item.pop("options", None) or {}
        if not isinstance(nested, dict):
            raise BadInput(f"{where}: \"options\" must be an object")
        _check_columns([*item, *nested], where)
        merged = {_normal(k): v for k, v in item.items()}
        for key, value in nested.items():
            if _normal(key) in FILES:
                raise BadInput(f"{where}: {key!r} belongs beside \"video\", not in \"options\"")
            if _normal(key) in merged:
                raise BadInput(f"{where}: {key!r} is given twice (in the clip and in its options)")
            merged[_normal(key)] = value
        rows.append((i, merged))
    return rows


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _job(row: int, values: dict[str, Any], base: Path, where: str) -> ClipJob:
    for column in REQUIRED:
        if _blank(values.get(column)):
            raise BadInput(f"{where}: no {column}", "every clip needs an output and a video (or an arkit CSV)")
    sources = [column for column in SOURCES if not _blank(values.get(column))]
    if len(sources) != 1:
        raise BadInput(f"{where}: " + ("both video and arkit given" if sources else "no video or arkit"),
                       "every clip names one source: a face video in `video`, or an ARKit CSV in `arkit`")

    def resolve(value: Any) -> Path:
        p = Path(str(value).strip()).expanduser()
        return p if p.is_absolute() else base / p

    options: dict[str, Any] = {}
    columns = option_columns()
    for column, (_, parse) in columns.items():
        value = values.get(column)
        if _blank(value):
            continue
        try:
            options[column] = parse(value)
        except (TypeError, ValueError):
            raise BadInput(f"{where}: {column} {value!r} is not a number", f"write {column} as e.g. 30") from None
    transcript = values.get("transcript")
    if not _blank(transcript):
        text = str(transcript).strip()
        looks_like_path = "/" in text or "\\" in text or Path(text).suffix.lower() in TRANSCRIPT_SUFFIXES
        transcript = str(resolve(text)) if looks_like_path else text
    else:
        transcript = None
    video, arkit, audio, actor = (None if _blank(values.get(column)) else resolve(values[column])
                                  for column in ("video", "arkit", "audio", "actor"))
    if (audio is not None or transcript is not None) and not _has_audio_options():
        raise BadInput(f"{where}: audio/transcript given, but this engine has no audio stage",
                       "remove the audio and transcript columns, or update the engine")
    job = ClipJob(row, video, resolve(values["output"]), audio, transcript, options, where, actor=actor,
                  arkit=arkit)
    _check_options(job, where)
    return job


def _check_options(job: ClipJob, where: str) -> None:
    """The same checks a `run` command line gets, so a typo fails the manifest, not a clip at 3 a.m."""
    try:
        validate(job.run_options())
    except BadInput as exc:
        raise BadInput(f"{where}: {exc.message}", exc.hint) from None
    smoothing = job.options.get("smoothing")
    if smoothing is not None and smoothing < 0:
        raise BadInput(f"{where}: smoothing {smoothing} must be 0 (off) or a cutoff in Hz")


def _check_outputs(jobs: list[ClipJob], name: str) -> None:
    seen: dict[Path, ClipJob] = {}
    for job in jobs:
        key = Path(job.output).resolve()
        if key in seen:
            raise BadInput(f"{job.where}: writes the same take as {seen[key].where.split(', ')[-1]}: {job.output}",
                           "give every clip its own output folder")
        seen[key] = job
