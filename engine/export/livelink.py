"""Live Link Face data: the iPhone app's CSV recordings and its UDP packets (spec README, "Live Link Face").

Internally there is one column order for the 61 values, `livelink_udp_order()`: the 52 ARKit shapes in
ARKIT_NAMES order, then head yaw/pitch/roll and left/right eye yaw/pitch/roll. The app's CSV swaps
JawRight/JawLeft and MouthRight/MouthLeft; that order only exists at the file boundary, and CSV columns
are always found by header name, never by position.

Two readers share one parser: `read_livelink_csv` (the app's files and the takes' arkit.csv: the Timecode
and all 61 columns) and `read_arkit_csv` (any ARKit-52 CSV: shapes named the app's way or Apple's,
rotations optional, a Timecode, `time` or `frame` column or a given frame rate; values must be finite
and times increasing).
"""
from __future__ import annotations

import csv
import gzip
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import MalformedInput
from engine.export.text_table import TextFile, csv_lines, formatted_columns, row_blocks
from engine.rig.arkit import ARKIT_NAMES, livelink_csv_order, livelink_names, livelink_udp_order

VALUE_NAMES = tuple(livelink_udp_order())
CSV_VALUE_NAMES = tuple(livelink_csv_order())
N_VALUES = len(VALUE_NAMES)
HEAD_NAMES = ("HeadYaw", "HeadPitch", "HeadRoll")
EYE_NAMES = ("LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")

_COLUMN = {name: i for i, name in enumerate(VALUE_NAMES)}
_ARKIT_COLUMNS = [_COLUMN[livelink_names()[name]] for name in ARKIT_NAMES]
_HEAD_COLUMNS = [_COLUMN[name] for name in HEAD_NAMES]
_EYE_COLUMNS = [_COLUMN[name] for name in EYE_NAMES]
_CSV_COLUMNS = [_COLUMN[name] for name in CSV_VALUE_NAMES]  # values[:, _CSV_COLUMNS] is in the app's order

# ---------------------------------------------------------------------------------------------------
# CSV recordings
# ---------------------------------------------------------------------------------------------------

CSV_HEADER = ("Timecode", "BlendShapeCount", *CSV_VALUE_NAMES)
CSV_VALUE_FORMAT = "%.10f"  # the app writes every value with 10 decimals
TIMECODE_RATES = (24, 25, 30, 60)
SECONDS_PER_DAY = 86400
_TIMECODE = re.compile(r"^(\d+):(\d\d):(\d\d):(\d+(?:\.\d+)?)$")


@dataclass(eq=False)
class LiveLinkTake:
    """A Live Link Face recording. `values` holds the 61 values per row in `VALUE_NAMES` (UDP) order."""

    times: np.ndarray            # (N,) float64 seconds since the first row
    values: np.ndarray           # (N, 61) float32
    timecodes: list[str] = field(default_factory=list)  # as read, one per row (may be empty)
    fps: float = 60.0            # the timecode's frame rate (what FF counts), not the row rate; read_arkit_csv:
                                 # the rate of a frame column or of the rows, the row rate with a `time` column
    start_s: float = 0.0         # the first row's timecode in seconds since midnight (its time / frame time)
    time_column: str | None = "Timecode"    # the header name times came from (None: rows at `fps`)
    columns: tuple[str, ...] = VALUE_NAMES  # the values the file holds (the others read 0)

    def arkit(self) -> np.ndarray:
        """(N, 52) blendshape weights in ARKIT_NAMES order."""
        return self.values[:, _ARKIT_COLUMNS]

    def head(self) -> np.ndarray:
        """(N, 3) head yaw, pitch, roll in radians."""
        return self.values[:, _HEAD_COLUMNS]

    def eyes(self) -> np.ndarray:
        """(N, 6) left eye yaw, pitch, roll, then right eye yaw, pitch, roll, in radians."""
        return self.values[:, _EYE_COLUMNS]


def read_livelink_csv(path: str | Path, timecode_fps: float | None = None) -> LiveLinkTake:
    """Read a Live Link Face CSV. The timecode rate is inferred from the frame numbers unless given."""
    header, rows = _read_csv_rows(Path(path))
    timecode_col, value_cols = _columns(header, path)
    _check_row_lengths(rows, max(timecode_col, *value_cols) + 1, path)
    timecodes = [row[timecode_col] for _, row in rows]
    seconds, fps = _timecode_seconds(timecodes, [line for line, _ in rows], timecode_fps, path)
    return LiveLinkTake(times=seconds - seconds[0], values=_parse_values(rows, value_cols, path),
                        timecodes=timecodes, fps=fps, start_s=float(seconds[0]))


ARKIT_TIME_COLUMNS = ("Timecode", "time", "frame")   # looked for in this order, without regard to case


def read_arkit_csv(path: str | Path, fps: float | None = None) -> LiveLinkTake:
    """Read any CSV of ARKit-52 weights, header-driven: a Live Link Face recording or a 52-column table.

    Columns are found by name in any order and case (`EyeBlinkLeft` = `eyeBlinkLeft`); all 52 shapes are
    needed, head and eye rotations (radians) are optional (0 when missing), other columns are ignored.
    Times: a `Timecode` column (`HH:MM:SS:FF[.fff]`, or frame numbers), a `time` column (seconds) or a
    `frame` column; `fps` is the rate the frame numbers count at (timecode FF, frame column, or the rows
    of a file with no time column) and is inferred from a timecode when not given. Every value must be a
    finite number and times must increase; a ValueError names the line and column of any problem.
    """
    header, rows = _read_csv_rows(Path(path))
    index = _header_index(header, path)
    missing = [name for name in ARKIT_NAMES if name.lower() not in index]
    if len(missing) == len(ARKIT_NAMES):
        raise MalformedInput(f"{path}: no ARKit blendshape columns in the header ({_preview(header)}): expected the "
                         f"52 ARKit names, e.g. eyeBlinkLeft, jawOpen, mouthSmileLeft (Live Link Face: EyeBlinkLeft, "
                         "JawOpen, ...)")
    if missing:
        raise MalformedInput(f"{path}: {len(ARKIT_NAMES) - len(missing)} of the 52 ARKit columns found, missing: "
                         f"{', '.join(missing)}")
    value_cols = [index.get(name.lower()) for name in VALUE_NAMES]
    time_name = next((name for name in ARKIT_TIME_COLUMNS if name.lower() in index), None)
    used = [c for c in value_cols if c is not None] + ([index[time_name.lower()]] if time_name else [])
    _check_row_lengths(rows, max(used) + 1, path)
    lines = [line for line, _ in rows]
    timecodes: list[str] = []
    if time_name is None:
        if fps is None:
            raise MalformedInput(f"{path}: no time column ({', '.join(ARKIT_TIME_COLUMNS)}) and no frame rate given")
        seconds = np.arange(len(rows)) / _positive_rate(fps)
    else:
        texts = [row[index[time_name.lower()]] for _, row in rows]
        if time_name == "Timecode" and not all(_is_number(t) for t in texts):
            timecodes = texts
            seconds, fps = _timecode_seconds(texts, lines, fps, path)
        else:
            seconds = _parse_column(texts, lines, time_name, path)
            if time_name != "time":
                if fps is None:
                    raise MalformedInput(f"{path}: column {time_name} holds frame numbers, and no frame rate was given")
                seconds = seconds / _positive_rate(fps)
    _check_increasing(seconds, lines, path)
    if fps is None:   # a `time` column: the rows' own rate
        fps = 1.0 / float(np.median(np.diff(seconds))) if len(seconds) > 1 else 0.0
    return LiveLinkTake(times=seconds - seconds[0], values=_parse_values(rows, value_cols, path, finite=True),
                        timecodes=timecodes, fps=float(fps), start_s=float(seconds[0]), time_column=time_name,
                        columns=tuple(n for n, c in zip(VALUE_NAMES, value_cols) if c is not None))


def infer_timecode_fps(max_frame: int) -> int:
    """The smallest usual timecode rate whose frame numbers reach `max_frame`.

    FF always counts below the rate, so any take of a second or more shows the rate; shorter takes that
    never reach the high frame numbers are ambiguous, and their caller should pass the rate.
    """
    for rate in TIMECODE_RATES:
        if max_frame < rate:
            return rate
    raise MalformedInput(f"timecode frame number {max_frame} is too high for any timecode rate {TIMECODE_RATES}")


def write_livelink_csv(path: str | Path, times: np.ndarray, arkit: np.ndarray, head: np.ndarray | None = None,
                       eyes: np.ndarray | None = None, start_timecode_s: float = 0.0,
                       timecode_fps: int = 60) -> None:
    """Write a CSV exactly like the app's: its header, column order, timecode and number formats.

    `arkit` is (N, 52) in ARKIT_NAMES order (clipped to 0..1); `head` (N, 3) and `eyes` (N, 6) are radians,
    zeros when not given. Row i gets the timecode of `start_timecode_s + times[i]` at `timecode_fps`.
    """
    with LiveLinkCsv(path, start_timecode_s, timecode_fps) as table:
        table.write(times, arkit, head, eyes)


class LiveLinkCsv(TextFile):
    """`write_livelink_csv` block by block: `write` appends the rows of more frames."""

    def __init__(self, path: str | Path, start_timecode_s: float = 0.0, timecode_fps: int = 60):
        super().__init__(path, newline="", encoding="utf-8")
        self.start, self.fps = start_timecode_s, timecode_fps
        self.handle.write(",".join(CSV_HEADER) + "\n")

    def write(self, times: np.ndarray, arkit: np.ndarray, head: np.ndarray | None = None,
              eyes: np.ndarray | None = None) -> None:
        values = _assemble_values(times, arkit, head, eyes)[:, _CSV_COLUMNS]
        timecodes = [format_timecode(t, self.fps) for t in self.start + np.asarray(times, np.float64)]
        for rows in row_blocks(len(timecodes)):
            stamps = timecodes[rows]
            columns = [stamps, str(N_VALUES), *formatted_columns(values[rows], CSV_VALUE_FORMAT)]
            self.handle.write(csv_lines(columns, len(stamps)))



def format_timecode(seconds: float, fps: int) -> str:
    """`HH:MM:SS:FF.fff` like the app: FF counts frames at `fps`, .fff is thousandths of a frame.

    Rounding happens once, on the thousandths, so a time never formats as frame `fps` or second 60;
    hours wrap at midnight as a wall-clock timecode does (the reader unwraps them).
    """
    if not (np.isfinite(seconds) and seconds >= 0):
        raise MalformedInput(f"cannot write a timecode for {seconds} s: times must be finite and not before 00:00")
    if int(fps) != fps or fps <= 0:
        raise MalformedInput(f"timecode rate must be a positive whole number of frames per second, not {fps}")
    frames, thousandths = divmod(round(seconds * fps * 1000), 1000)
    whole_seconds, frame = divmod(frames, int(fps))
    minutes, second = divmod(whole_seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours % 24:02d}:{minute:02d}:{second:02d}:{frame:02d}.{thousandths:03d}"


def _read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header fields and the non-blank data rows, each with its line number for error messages."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if any(f.strip() for f in row)]
        except UnicodeDecodeError as exc:
            raise MalformedInput(f"{path}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x} at offset "
                             f"{exc.start}): is it a CSV?") from None
        except csv.Error as exc:
            raise MalformedInput(f"{path}: line {reader.line_num + 1}: not readable as CSV ({exc})") from None
    if not any(header):
        raise MalformedInput(f"{path}: empty file, expected a CSV header naming the columns")
    if not rows:
        raise MalformedInput(f"{path}: no data rows after the header")
    return header, rows


def _columns(header: list[str], path) -> tuple[int, list[int]]:
    """Field index of the timecode and of each value in VALUE_NAMES order; a header that lacks any of
    them is rejected with every missing name, so one look at the message tells what the file is."""
    missing = [name for name in ("Timecode", *VALUE_NAMES) if name not in header]
    if missing:
        raise MalformedInput(f"{path}: not a Live Link Face CSV, missing column(s): {', '.join(missing)}")
    return header.index("Timecode"), [header.index(name) for name in VALUE_NAMES]


def _header_index(header: list[str], path) -> dict[str, int]:
    """Lower-cased header name -> field index; a column the reader uses that is named twice is an error
    (which one would count?)."""
    wanted = {name.lower() for name in (*VALUE_NAMES, *ARKIT_TIME_COLUMNS)}
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.lower()
        if key in index and key in wanted:
            raise MalformedInput(f"{path}: column {name} appears twice in the header")
        index.setdefault(key, i)
    return index


def _preview(header: list[str], count: int = 6) -> str:
    shown = ", ".join(name or "''" for name in header[:count])
    return f"it starts {shown}, ..." if len(header) > count else f"it holds {shown}"


def _positive_rate(fps: float) -> float:
    if not fps > 0:
        raise MalformedInput(f"frame rate must be positive, not {fps:g}")
    return float(fps)


def _timecode_seconds(timecodes: list[str], lines: list[int], fps: float | None, path) -> tuple[np.ndarray, float]:
    """(seconds since midnight, unwrapped past it; the timecode rate) of `HH:MM:SS:FF[.fff]` timecodes."""
    whole_seconds, frames = _parse_timecodes(timecodes, lines, path)
    rate = float(infer_timecode_fps(int(frames.max())) if fps is None else fps)
    _check_frames_below_rate(frames, rate, path)
    return _unwrap_midnight(whole_seconds + frames / rate), rate


def _parse_column(texts: list[str], lines: list[int], name: str, path) -> np.ndarray:
    """One column of finite numbers (times, frame numbers)."""
    values = np.empty(len(texts))
    for i, (text, line) in enumerate(zip(texts, lines)):
        if not _is_number(text):
            raise MalformedInput(f"{path}: line {line}: non-numeric value {text!r} in column {name}")
        values[i] = float(text)
        if not np.isfinite(values[i]):
            raise MalformedInput(f"{path}: line {line}: value {text.strip()} in column {name} is not a finite number")
    return values


def _check_increasing(seconds: np.ndarray, lines: list[int], path) -> None:
    steps = np.diff(seconds)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        raise MalformedInput(f"{path}: line {lines[i]}: time {seconds[i] - seconds[0]:.6g} s does not come after the "
                         f"previous row's {seconds[i - 1] - seconds[0]:.6g} s: times must increase")


def _check_row_lengths(rows: list[tuple[int, list[str]]], needed: int, path) -> None:
    for line, row in rows:
        if len(row) < needed:
            raise MalformedInput(f"{path}: line {line} has {len(row)} fields, expected at least {needed}")


def _parse_timecodes(timecodes: list[str], lines: list[int], path) -> tuple[np.ndarray, np.ndarray]:
    """(whole seconds since midnight, frames with their fraction) of each `HH:MM:SS:FF.fff`."""
    whole_seconds = np.empty(len(timecodes))
    frames = np.empty(len(timecodes))
    for i, (text, line) in enumerate(zip(timecodes, lines)):
        match = _TIMECODE.match(text.strip())
        if not match:
            raise MalformedInput(f"{path}: line {line}: timecode {text!r} is not HH:MM:SS:FF.fff")
        hours, minutes, seconds, frame = match.groups()
        whole_seconds[i] = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        frames[i] = float(frame)
    return whole_seconds, frames


def _check_frames_below_rate(frames: np.ndarray, fps: float, path) -> None:
    if fps <= 0:
        raise MalformedInput(f"timecode rate must be positive, not {fps:g}")
    if np.floor(frames.max()) >= fps:
        raise MalformedInput(f"{path}: timecode frame number {int(frames.max())} does not exist at {fps:g} fps")


def _unwrap_midnight(seconds: np.ndarray) -> np.ndarray:
    """Wall-clock timecodes restart at 00:00:00:00; a take that runs past midnight keeps counting up."""
    jumps = np.diff(seconds, prepend=seconds[0]) < -SECONDS_PER_DAY / 2
    return seconds + SECONDS_PER_DAY * np.cumsum(jumps)


def _parse_values(rows: list[tuple[int, list[str]]], columns: list[int | None], path,
                  finite: bool = False) -> np.ndarray:
    """(rows, 61) values in VALUE_NAMES order from the given field of each (None: 0); `finite` refuses
    NaN and infinities, naming the line and column."""
    values = np.zeros((len(rows), N_VALUES), np.float32)
    present = [(k, c) for k, c in enumerate(columns) if c is not None]
    keys = [k for k, _ in present]
    for i, (line, row) in enumerate(rows):
        try:
            values[i, keys] = [float(row[c]) for _, c in present]
        except ValueError:
            name, text = next((VALUE_NAMES[k], row[c]) for k, c in present if not _is_number(row[c]))
            raise MalformedInput(f"{path}: line {line}: non-numeric value {text!r} in column {name}") from None
        if finite and not np.isfinite(values[i, keys]).all():
            name, text = next((VALUE_NAMES[k], row[c]) for k, c in present if not np.isfinite(values[i, k]))
            raise MalformedInput(f"{path}: line {line}: value {text.strip()} in column {name} is not a finite number")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assemble_values(times, arkit, head, eyes) -> np.ndarray:
    """(N, 61) float64 in VALUE_NAMES order from the writer's arguments, shapes checked."""
    n = len(np.atleast_1d(times))
    values = np.zeros((n, N_VALUES))
    values[:, _ARKIT_COLUMNS] = np.clip(_checked(arkit, n, len(ARKIT_NAMES), "arkit"), 0.0, 1.0)
    for block, columns, name in ((head, _HEAD_COLUMNS, "head"), (eyes, _EYE_COLUMNS, "eyes")):
        if block is not None:
            values[:, columns] = _checked(block, n, len(columns), name)
    return values + 0.0  # + 0.0 turns -0.0 into 0.0, which the app never writes as "-0.0000000000"


def _checked(array, rows: int, cols: int, name: str) -> np.ndarray:
    array = np.asarray(array, np.float64)
    if array.shape != (rows, cols):
        raise MalformedInput(f"{name} must have shape ({rows}, {cols}) to match the times, not {array.shape}")
    return array


# ---------------------------------------------------------------------------------------------------
# UDP packets (version 6, big-endian) and .gesichter captures
# ---------------------------------------------------------------------------------------------------

PACKET_VERSION = 6
_UINT8 = struct.Struct(">B")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_FRAME_TIME = struct.Struct(">ifiiB")  # frame, sub-frame, rate numerator, rate denominator, value count
_VALUES_DTYPE = np.dtype(">f4")


@dataclass(eq=False)
class LiveLinkPacket:
    """One Live Link Face datagram; `values` are the 61 floats in VALUE_NAMES (UDP) order."""

    device_id: str
    subject: str
    frame: int
    subframe: float
    rate_num: int
    rate_den: int
    values: np.ndarray


def encode_packet(packet: LiveLinkPacket) -> bytes:
    """The datagram the app would send for `packet`."""
    values = np.asarray(packet.values).reshape(-1)
    if values.size != N_VALUES:
        raise MalformedInput(f"a packet carries {N_VALUES} values, not {values.size}")
    device, subject = packet.device_id.encode("utf-8"), packet.subject.encode("utf-8")
    return b"".join([
        _UINT8.pack(PACKET_VERSION), _INT32.pack(len(device)), device, _INT32.pack(len(subject)), subject,
        _FRAME_TIME.pack(packet.frame, packet.subframe, packet.rate_num, packet.rate_den, N_VALUES),
        values.astype(_VALUES_DTYPE).tobytes(),
    ])


def decode_packet(data: bytes) -> LiveLinkPacket:
    """Parse one datagram; a ValueError says what is wrong with a foreign or damaged one."""
    cursor = _Cursor(bytes(data), "datagram")
    (version,) = cursor.unpack(_UINT8, "packet version")
    if version != PACKET_VERSION:
        raise MalformedInput(f"unsupported Live Link packet version {version}, expected {PACKET_VERSION}")
    device_id = cursor.text("device id")
    subject = cursor.text("subject name")
    frame, subframe, rate_num, rate_den, count = cursor.unpack(_FRAME_TIME, "frame time")
    if count != N_VALUES:
        raise MalformedInput(f"datagram has {count} values, expected {N_VALUES}")
    values = np.frombuffer(cursor.take(count * 4, "values"), _VALUES_DTYPE).astype(np.float32)
    cursor.expect_end()
    return LiveLinkPacket(device_id, subject, frame, subframe, rate_num, rate_den, values)


def read_gesichter(path: str | Path) -> list[bytes]:
    """The datagrams of a .gesichter capture (LLV's format): gzip of uint8 version, uint32 BE frame count,
    then per frame uint32 BE size and the datagram. The version byte is not interpreted."""
    with gzip.open(path, "rb") as handle:
        cursor = _Cursor(handle.read(), "capture")
    cursor.unpack(_UINT8, "version")
    (count,) = cursor.unpack(_UINT32, "frame count")
    datagrams = [cursor.take(cursor.unpack(_UINT32, f"frame {i} size")[0], f"frame {i}") for i in range(count)]
    cursor.expect_end()
    return datagrams


class _Cursor:
    """Reads a byte string front to back; running short names the field, so the error says what was cut."""

    def __init__(self, data: bytes, kind: str):
        self.data, self.kind, self.pos = data, kind, 0

    def take(self, size: int, what: str) -> bytes:
        left = len(self.data) - self.pos
        if size > left:
            raise MalformedInput(f"{self.kind} too short: {what} needs {size} bytes at offset {self.pos}, "
                             f"only {left} left")
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def unpack(self, fmt: struct.Struct, what: str) -> tuple:
        return fmt.unpack(self.take(fmt.size, what))

    def text(self, what: str) -> str:
        (size,) = self.unpack(_INT32, f"{what} length")
        if size < 0:
            raise MalformedInput(f"{self.kind} is damaged: negative {what} length {size}")
        try:
            return self.take(size, what).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInput(f"{self.kind} is damaged: {what} is not UTF-8 ({exc.reason})") from None

    def expect_end(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise MalformedInput(f"{self.kind} has {extra} unexpected bytes after its end at offset {self.pos}")
