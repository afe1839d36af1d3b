"""Live Link Face CSV and UDP codec (engine/export/livelink.py) against real recordings and captures."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from engine.export.livelink import (
    CSV_VALUE_NAMES, VALUE_NAMES, LiveLinkPacket, decode_packet, encode_packet, format_timecode,
    read_gesichter, read_livelink_csv, write_livelink_csv,
)
from engine.rig.arkit import ARKIT_NAMES

RECORDING = "arkit/livelinkface_alex_rom_3.csv"
UDP = "livelink_udp"
CAPTURES = ("dao.gesichter", "debug-jawopen.gesichter")
UNREAL_TIMECODE = re.compile(r"^\d\d:\d\d:\d\d:\d\d\.\d+$")
# Written values are %.10f of float32s, so re-reading one is off by at most half a unit of the 10th decimal.
CSV_VALUE_TOL = 1e-10
# A take holds float32s: a float64 written and read back is also rounded to float32 (half an ulp, relative).
FLOAT32_RTOL = 2.0 ** -24
# dao_decoded.csv prints values with 7 decimals and sub-frames with 6: half a unit of the last decimal.
DECODED_VALUE_TOL = 0.5e-7 * 1.001
DECODED_SUBFRAME_TOL = 0.5e-6 * 1.001


@pytest.fixture(scope="module")
def recording(shared_data: Path):
    return read_livelink_csv(shared_data / RECORDING)


def _all_datagrams(shared_data: Path) -> list[bytes]:
    frame0 = (shared_data / UDP / "dao_frame0.bin").read_bytes()
    return [frame0] + [d for name in CAPTURES for d in read_gesichter(shared_data / UDP / name)]


def _packet(**changes) -> LiveLinkPacket:
    fields = dict(device_id="iPhone-Ünïcode", subject="Alex", frame=123456, subframe=0.25, rate_num=60,
                  rate_den=1, values=np.linspace(-1, 1, len(VALUE_NAMES), dtype=np.float32))
    return LiveLinkPacket(**{**fields, **changes})


# --- UDP -----------------------------------------------------------------------------------------------

@pytest.mark.shared
def test_udp_decode_matches_decoded_csv(shared_data):
    """Every field dao_decoded.csv has: frame number, sub-frame, rate, value count and the 61 values."""
    packets = [decode_packet(d) for d in read_gesichter(shared_data / UDP / "dao.gesichter")]
    with open(shared_data / UDP / "dao_decoded.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(packets) == len(rows) == 180
    assert [p.frame for p in packets] == [int(r["frame_number"]) for r in rows]
    assert [(p.rate_num, p.rate_den, len(p.values)) for p in packets] == \
        [(int(r["fps_num"]), int(r["fps_den"]), int(r["blendshape_count"])) for r in rows]
    np.testing.assert_allclose([p.subframe for p in packets], [float(r["sub_frame"]) for r in rows],
                               rtol=0, atol=DECODED_SUBFRAME_TOL)
    expected = np.array([[float(r[name]) for name in VALUE_NAMES] for r in rows])  # by column name
    np.testing.assert_allclose(np.array([p.values for p in packets], np.float64), expected,
                               rtol=0, atol=DECODED_VALUE_TOL)
    # The CSV has no device id or subject; LLV's captures all carry its defaults.
    llv_default = ("DEADC0DE-1337-1337-1337-CAFEBABE", "LLV Default Device")
    assert {(p.device_id, p.subject) for p in packets} == {llv_default}


@pytest.mark.shared
def test_udp_frame0_is_first_capture_datagram(shared_data):
    frame0 = (shared_data / UDP / "dao_frame0.bin").read_bytes()
    assert len(frame0) == 270 + 32 + 18 == 320
    assert read_gesichter(shared_data / UDP / "dao.gesichter")[0] == frame0


@pytest.mark.shared
def test_udp_round_trip_is_byte_exact(shared_data):
    datagrams = _all_datagrams(shared_data)
    assert len(datagrams) == 1 + 180 + 66
    for datagram in datagrams:
        assert encode_packet(decode_packet(datagram)) == datagram


@pytest.mark.shared
def test_udp_value_order_puts_jaw_open_where_the_jaw_open_sweep_is(shared_data):
    packets = [decode_packet(d) for d in read_gesichter(shared_data / UDP / "debug-jawopen.gesichter")]
    values = np.array([p.values for p in packets])
    assert VALUE_NAMES[int(np.argmax(values.std(axis=0)))] == "JawOpen"
    assert values[:, VALUE_NAMES.index("JawOpen")].max() == pytest.approx(1.0)


def test_udp_encode_decode_synthetic_packet():
    packet = _packet()
    decoded = decode_packet(encode_packet(packet))
    assert (decoded.device_id, decoded.subject, decoded.frame, decoded.rate_num, decoded.rate_den) == \
        (packet.device_id, packet.subject, packet.frame, packet.rate_num, packet.rate_den)
    assert decoded.subframe == packet.subframe
    assert decoded.values.dtype == np.float32
    np.testing.assert_array_equal(decoded.values, packet.values)
    assert len(encode_packet(packet)) == 270 + len(packet.device_id.encode()) + len(packet.subject)


def test_udp_bad_datagrams_are_rejected():
    good = encode_packet(_packet(device_id="dev", subject="s"))
    count_at = 25 + 3 + 1
    for size in range(len(good)):
        with pytest.raises(ValueError, match="too short"):
            decode_packet(good[:size])
    with pytest.raises(ValueError, match="version 5"):
        decode_packet(b"\x05" + good[1:])
    with pytest.raises(ValueError, match="60 values"):
        decode_packet(good[:count_at] + b"\x3c" + good[count_at + 1:])
    with pytest.raises(ValueError, match="unexpected bytes"):
        decode_packet(good + b"\x00")
    with pytest.raises(ValueError, match="negative device id length"):
        decode_packet(good[:1] + b"\xff\xff\xff\xff" + good[5:])
    with pytest.raises(ValueError, match="61 values"):
        encode_packet(_packet(values=np.zeros(52, np.float32)))


# --- CSV: the real recording ---------------------------------------------------------------------------

@pytest.mark.shared
def test_read_real_recording(recording):
    assert recording.values.shape == (4030, 61) and recording.values.dtype == np.float32
    assert recording.times.dtype == np.float64 and recording.times[0] == 0.0
    assert np.all(np.diff(recording.times) > 0)
    assert recording.fps == 60.0                      # FF runs up to 59: a 60 fps timecode
    assert recording.timecodes[0] == "13:13:04:31.652"
    rows_per_second = 1.0 / np.median(np.diff(recording.times))
    assert rows_per_second == pytest.approx(30.0, abs=0.01)  # the app recorded every other timecode frame
    assert recording.times[-1] == pytest.approx(134.3818, abs=1e-3)
    assert recording.arkit().shape == (4030, 52)
    assert recording.head().shape == (4030, 3) and recording.eyes().shape == (4030, 6)


@pytest.mark.shared
def test_read_uses_header_names_not_positions(recording, shared_data):
    """JawRight comes before JawLeft in the file; the take keeps them at their ARKit (UDP) places."""
    with open(shared_data / RECORDING, newline="") as handle:
        first = next(csv.DictReader(handle))
    for name in ("JawLeft", "JawRight", "MouthLeft", "MouthRight", "HeadYaw", "RightEyeRoll"):
        assert recording.values[0, VALUE_NAMES.index(name)] == np.float32(first[name])
    assert recording.arkit()[0, ARKIT_NAMES.index("jawRight")] == np.float32(first["JawRight"])


@pytest.mark.shared
def test_write_read_round_trip_of_real_recording(recording, tmp_path):
    out = tmp_path / "take.csv"
    write_livelink_csv(out, recording.times, recording.arkit(), recording.head(), recording.eyes(),
                       start_timecode_s=recording.start_s, timecode_fps=60)
    again = read_livelink_csv(out)
    assert again.timecodes == recording.timecodes
    np.testing.assert_allclose(again.times, recording.times, rtol=0, atol=1e-9)
    np.testing.assert_allclose(again.arkit(), np.clip(recording.arkit(), 0, 1), rtol=0, atol=CSV_VALUE_TOL)
    np.testing.assert_allclose(again.head(), recording.head(), rtol=0, atol=CSV_VALUE_TOL)
    np.testing.assert_allclose(again.eyes(), recording.eyes(), rtol=0, atol=CSV_VALUE_TOL)


@pytest.mark.shared
def test_written_file_is_the_apps_text(recording, shared_data, tmp_path):
    """Same header line, and every row identical to the app's except where a weight above 1 was clipped."""
    out = tmp_path / "take.csv"
    write_livelink_csv(out, recording.times, recording.arkit(), recording.head(), recording.eyes(),
                       start_timecode_s=recording.start_s)
    ours = out.read_text().splitlines()
    theirs = (shared_data / RECORDING).read_text().splitlines()
    assert ours[0] == theirs[0]
    clipped = np.any(recording.arkit() > 1, axis=1)
    assert clipped.sum() == 1
    for row, (line, app_line) in enumerate(zip(ours[1:], theirs[1:], strict=True)):
        assert line[:19] == app_line[:19]             # "HH:MM:SS:FF.fff,61,"
        assert (line == app_line) != clipped[row]


# --- CSV: what we write ----------------------------------------------------------------------------------

def _synthetic(tmp_path: Path, n: int = 90, **kwargs) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    times = np.arange(n) / 30.0
    arkit = rng.uniform(-0.2, 1.2, (n, 52))
    path = tmp_path / "synthetic.csv"
    write_livelink_csv(path, times, arkit, **kwargs)
    return path, times, arkit


def test_written_csv_parses_like_unreals_importer(tmp_path):
    path, times, _ = _synthetic(tmp_path, head=np.full((90, 3), 0.1))
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["Timecode", "BlendShapeCount"] and header[2:] == list(CSV_VALUE_NAMES)
    count_at = header.index("BlendShapeCount")
    assert len(lines) == 1 + len(times)
    for line in lines[1:]:
        fields = line.split(",")
        assert len(fields) == 63
        assert int(fields[count_at]) == len(header) - count_at - 1 == 61
        assert UNREAL_TIMECODE.match(fields[0])
        assert all(np.isfinite(float(f)) for f in fields[2:])


def test_written_csv_clips_weights_and_fills_missing_rotations(tmp_path):
    path, times, arkit = _synthetic(tmp_path)
    take = read_livelink_csv(path)
    np.testing.assert_allclose(take.times, times, rtol=0, atol=1e-6)
    np.testing.assert_allclose(take.arkit(), np.clip(arkit, 0, 1), rtol=FLOAT32_RTOL, atol=CSV_VALUE_TOL)
    assert not take.head().any() and not take.eyes().any()
    assert "-0.0000000000" not in path.read_text()


def test_written_csv_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="head must have shape"):
        write_livelink_csv(tmp_path / "x.csv", np.arange(3.0), np.zeros((3, 52)), head=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="arkit must have shape"):
        write_livelink_csv(tmp_path / "x.csv", np.arange(3.0), np.zeros((3, 51)))


def test_timecode_formatting_and_midnight(tmp_path):
    assert format_timecode(0.0, 60) == "00:00:00:00.000"
    assert format_timecode(47584.5275333, 60) == "13:13:04:31.652"
    assert format_timecode(59.9999999, 60) == "00:01:00:00.000"  # never frame 60 or second 60
    assert format_timecode(1.5, 25) == "00:00:01:12.500"
    path, times, _ = _synthetic(tmp_path, start_timecode_s=86400 - 1.0)
    take = read_livelink_csv(path)
    assert take.timecodes[0] == "23:59:59:00.000" and take.timecodes[-1].startswith("00:00:01:")
    np.testing.assert_allclose(take.times, times, rtol=0, atol=1e-6)


def test_timecode_rate_inferred_or_given(tmp_path):
    path, _, _ = _synthetic(tmp_path, timecode_fps=25)
    assert read_livelink_csv(path).fps == 25.0
    path, times, _ = _synthetic(tmp_path, n=10, timecode_fps=60)  # a third of a second: FF stays below 24
    assert read_livelink_csv(path).fps == 24.0
    np.testing.assert_allclose(read_livelink_csv(path, timecode_fps=60).times, times, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="does not exist at 30 fps"):
        read_livelink_csv(_synthetic(tmp_path, timecode_fps=60)[0], timecode_fps=30)


# --- CSV: read errors ------------------------------------------------------------------------------------

def _edit_csv(tmp_path: Path, edit) -> Path:
    """A small valid recording with `edit(header, rows)` applied to its fields."""
    path, _, _ = _synthetic(tmp_path, n=5)
    with open(path, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = edit(header, rows)
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return path


def _drop_columns(*names):
    def edit(header, rows):
        keep = [i for i, name in enumerate(header) if name not in names]
        return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]
    return edit


def test_read_names_missing_columns(tmp_path):
    path = _edit_csv(tmp_path, _drop_columns("JawLeft", "HeadRoll"))
    with pytest.raises(ValueError, match="missing column.*JawLeft, HeadRoll"):
        read_livelink_csv(path)
    with pytest.raises(ValueError, match="missing column.*Timecode"):
        read_livelink_csv(_edit_csv(tmp_path, _drop_columns("Timecode")))


def test_read_accepts_columns_in_any_order(tmp_path):
    reference = read_livelink_csv(_synthetic(tmp_path, n=5)[0])
    take = read_livelink_csv(_edit_csv(tmp_path, lambda h, rows: (h[::-1], [r[::-1] for r in rows])))
    np.testing.assert_array_equal(take.values, reference.values)


def test_read_reports_non_numeric_value_with_its_line(tmp_path):
    def spoil(header, rows):
        rows[2][header.index("MouthLeft")] = "abc"
        return header, rows
    with pytest.raises(ValueError, match=r"line 4: non-numeric value 'abc' in column MouthLeft"):
        read_livelink_csv(_edit_csv(tmp_path, spoil))


def test_read_reports_bad_timecode_and_short_row(tmp_path):
    def bad_timecode(header, rows):
        rows[0][0] = "12:00:00"
        return header, rows
    with pytest.raises(ValueError, match="line 2: timecode '12:00:00'"):
        read_livelink_csv(_edit_csv(tmp_path, bad_timecode))
    with pytest.raises(ValueError, match="line 3 has 10 fields"):
        read_livelink_csv(_edit_csv(tmp_path, lambda h, rows: (h, [rows[0], rows[1][:10], *rows[2:]])))


def test_read_rejects_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty file"):
        read_livelink_csv(empty)
    header_only = _edit_csv(tmp_path, lambda h, rows: (h, []))
    with pytest.raises(ValueError, match="no data rows"):
        read_livelink_csv(header_only)
