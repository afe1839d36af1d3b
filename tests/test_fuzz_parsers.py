"""Property-based fuzzing of every parser that reads what a user hands the engine: each input either parses
or raises the project's own input error (BadInput; the Maya side's TakeError), never anything else.

CI runs a short profile; the long run is `FACERETARGET_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz_parsers.py`
(figures in docs/engineering.md)."""
from __future__ import annotations

import json
import os
import string
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.errors import BadInput
from engine.export.livelink import CSV_HEADER, decode_packet, encode_packet, read_arkit_csv, read_livelink_csv
from engine.export.take import read_curves_csv

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
EXAMPLES = int(os.environ.get("FACERETARGET_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 1000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Tokens a CSV cell of a real or damaged file may hold.
CELL = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**6, 10**6).map(str),
                 st.sampled_from(["", "nan", "inf", "-", "1e999", "0x10", "NULL", "00:00:01:02.500", "12:61:99:99.9",
                                  "1,5", "\"quoted\"", "é", "\x00"]),
                 st.text(string.printable, max_size=8))


def csv_text(header: list[str] | st.SearchStrategy) -> st.SearchStrategy[str]:
    """A header (given, or drawn), then rows of cells: sometimes the right width, sometimes not."""
    headers = header if isinstance(header, st.SearchStrategy) else st.just(header)

    @st.composite
    def build(draw):
        names = draw(headers)
        width = len(names)
        rows = draw(st.lists(st.lists(CELL, min_size=max(0, width - 2), max_size=width + 2), max_size=12))
        return "\n".join([",".join(names), *(",".join(row) for row in rows)]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    return build()


ARKIT_HEADERS = st.one_of(st.just(list(CSV_HEADER)),
                          st.lists(st.sampled_from(list(CSV_HEADER) + ["time", "frame", "jawOpen", "Timecode"]),
                                   max_size=12),
                          st.lists(st.text(string.ascii_letters, max_size=10), max_size=6))


@contextmanager
def written(content: str | bytes, suffix: str):
    with tempfile.TemporaryDirectory(prefix="fr-fuzz-") as folder:
        path = Path(folder) / f"input{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        yield path


def parses_or_refuses(parse, *args, errors=(BadInput,)):
    try:
        parse(*args)
    except errors:
        pass


@FUZZ
@given(csv_text(ARKIT_HEADERS), st.sampled_from([None, 30.0, 60.0]))
def test_live_link_csv(text, fps):
    with written(text, ".csv") as path:
        parses_or_refuses(read_arkit_csv, path, fps)
        parses_or_refuses(read_livelink_csv, path)


DAMAGE = st.lists(st.tuples(st.sampled_from(["flip", "cut", "extend"]), st.integers(0, 2**20), st.integers(0, 255),
                            st.binary(max_size=8)), max_size=4)


@st.composite
def datagrams(draw):
    """A real packet (random names and frame time), then damaged: bytes flipped, the end cut or extended.
    Every draw is made up front, so the shape of the drawing never depends on the packet's bytes."""
    from engine.export.livelink import LiveLinkPacket

    packet = LiveLinkPacket(draw(st.text(max_size=12)), draw(st.text(max_size=12)), draw(st.integers(0, 2**31 - 1)),
                            draw(st.floats(0, 1)), draw(st.integers(1, 120)), draw(st.integers(1, 1001)),
                            np.zeros(61, np.float32))
    data = bytearray(encode_packet(packet))
    for how, position, value, extra in draw(DAMAGE):
        if how == "flip" and data:
            data[position % len(data)] = value
        elif how == "cut":
            data = data[:position % (len(data) + 1)]
        elif how == "extend":
            data += extra
    return bytes(data)


@FUZZ
@given(st.one_of(st.binary(max_size=400), datagrams()))
def test_live_link_datagram(data):
    parses_or_refuses(decode_packet, data)


FACEBOARD_HEADERS = st.one_of(st.just(["time", "CTRL_C_jaw.ty", "CTRL_L_eye_blink.ty"]),
                              st.lists(st.text(string.printable.replace(",", ""), max_size=12), max_size=5))


@FUZZ
@given(csv_text(FACEBOARD_HEADERS))
def test_faceboard_csv(text):
    with written(text, ".csv") as path:
        parses_or_refuses(read_curves_csv, path)


MANIFEST_COLUMNS = ["video", "arkit", "output", "audio", "transcript", "actor", "rig", "fps_out", "neutral_time",
                    "smoothing", "arkit_fps", "preview", "language", "lip_correction", "audio_offset", "colour"]
JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20)


@st.composite
def manifest_objects(draw):
    keys = st.one_of(st.sampled_from(MANIFEST_COLUMNS + ["options"]), st.text(max_size=8))
    clips = draw(st.lists(st.dictionaries(keys, JSON, max_size=6), max_size=4))
    return json.dumps(draw(st.sampled_from([clips, {"clips": clips}, {"other": 1}])))


@FUZZ
@given(st.one_of(csv_text(st.lists(st.sampled_from(MANIFEST_COLUMNS), max_size=6)).map(lambda t: (t, ".csv")),
                 manifest_objects().map(lambda t: (t, ".json")),
                 JSON.map(lambda v: (json.dumps(v), ".json")),
                 st.binary(max_size=200).map(lambda b: (b, ".csv"))))
def test_batch_manifest(content):
    from engine.scale.manifest import read_manifest

    with written(*content) as path:
        parses_or_refuses(read_manifest, path)


@st.composite
def take_documents(draw):
    base = {"format": "faceretarget-take/1", "rig": "mh4", "fps": 30.0, "files": {"faceboard": "faceboard.csv"}}
    doc = draw(st.one_of(JSON, st.dictionaries(st.sampled_from(list(base) + ["inputs", "options", "frame_count"]),
                                               JSON, max_size=6)))
    return json.dumps(doc) if draw(st.booleans()) else draw(st.text(max_size=40))


@pytest.fixture(scope="module")
def take_folder(tmp_path_factory) -> Path:
    from tests.bad_inputs.corpus import _take

    folder = tmp_path_factory.mktemp("take") / "take"
    _take(folder)
    return folder


@FUZZ
@given(take_documents())
@example(text='{"format": null, "files": {"faceboard": null}}')   # found by the 100k run: a file named null
def test_take_json(take_folder, text):
    from engine.preview.take_data import load_take
    from retarget_maya.takes import TakeError, read_take_info

    (take_folder / "take.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    parses_or_refuses(load_take, take_folder)
    parses_or_refuses(read_take_info, str(take_folder), errors=(TakeError,))


@FUZZ
@given(st.text(max_size=300))
def test_transcript(text):
    from engine.audio.text import normalize_words, read_transcript

    try:
        normalize_words(read_transcript(text) or "")
    except BadInput:
        pass


ARRAY = st.one_of(
    st.builds(lambda shape, fill: np.full(shape, fill), st.lists(st.integers(0, 5), max_size=3).map(tuple),
              st.floats(allow_nan=True, allow_infinity=True)),
    st.lists(st.integers(-3, 3), max_size=6).map(lambda v: np.array(v, np.int64)),
    st.text(max_size=6).map(np.array))


@st.composite
def npz_files(draw, keys):
    arrays = draw(st.dictionaries(st.one_of(st.sampled_from(keys), st.text(string.ascii_lowercase, min_size=1,
                                                                         max_size=6)), ARRAY, max_size=6))
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    if draw(st.booleans()) and data:   # sometimes damaged
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    return data


FLAME_KEYS = ["expr", "exp", "expression", "jaw_pose", "jaw", "eyelids", "neck_pose", "eye_pose", "global_pose",
              "shape", "times", "pose"]
RIG_KEYS = ["neutral", "triangles", "names", "deltas", "expression_names", "expression_deltas", "faces"]


@FUZZ
@given(npz_files(FLAME_KEYS))
def test_flame_parameters(data):
    from engine.blendshapes.flame import load_flame_params

    with written(data, ".npz") as path:
        parses_or_refuses(load_flame_params, path)


@FUZZ
@given(npz_files(RIG_KEYS))
def test_arkit_rig(data):
    from engine.blendshapes.readers import load_model

    with written(data, ".npz") as path:
        parses_or_refuses(load_model, f"arkit:{path}")


@FUZZ
@given(JSON.map(json.dumps) | st.text(max_size=60))
def test_actor_profile(text):
    from engine.solve.actor import load_profile

    with written(text, ".json") as path:
        parses_or_refuses(load_profile, path, "mh4")
