"""End to end: takes the engine made from the shared face clips serve as stand-in labels for a small video
model (one of them presented like a Maya export: faceboard.csv + take.json pointing at its video, so the
dataset tracks it and caches the features); then `run --video-model` uses the model."""
from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")

from engine.cli import main  # noqa: E402
from engine.config import RunOptions  # noqa: E402
from engine.export.take import read_curves_csv  # noqa: E402
from engine.models.groups import group_columns  # noqa: E402
from engine.pipeline import run  # noqa: E402
from engine.protocol import Reporter  # noqa: E402
from engine.rig.faceboard import load_faceboard  # noqa: E402

ENGINE_TAKES = ("driving_d0", "driving_d12")
MAYA_STYLE = "driving_d11"


def events(argv: list[str]) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(argv)
    return code, [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("e2e")
    faces = shared_data / "video" / "faces"
    data = root / "data"
    for name in ENGINE_TAKES:
        run(RunOptions(video=faces / f"{name}.mp4", out=data / name), Reporter())
    # a take as the Maya module's export_take writes it: faceboard.csv + take.json, the video by path
    engine_take = run(RunOptions(video=faces / f"{MAYA_STYLE}.mp4", out=root / "scratch"), Reporter())
    maya = data / f"maya_{MAYA_STYLE}"
    maya.mkdir()
    shutil.copy(engine_take / "faceboard.csv", maya / "faceboard.csv")
    (maya / "take.json").write_text(json.dumps({
        "format": "faceretarget-take/1", "source": "maya-export", "rig": "mh4", "fps": 25.0,
        "inputs": {"scene": {"path": "shot.ma"}, "video": {"path": str(faces / f"{MAYA_STYLE}.mp4")}},
        "files": {"faceboard": "faceboard.csv"}}))
    ckpt = root / "video_model.pt"
    code, out = events(["train", "video", "--data", str(data), "--out", str(ckpt), "--device", "cpu",
                        "--max-steps", "60", "--eval-every", "30", "--hidden", "32", "--layers", "2",
                        "--batch-size", "4", "--window", "2", "--threads", "1", "--val-fraction", "0.34",
                        "--progress", "json"])
    assert code == 0, out
    return root, data, ckpt, [e for e in out if e["event"] == "result"][0]


def test_training_on_engine_and_maya_style_takes(trained):
    root, data, ckpt, result = trained
    assert result["take"] == str(ckpt) and ckpt.is_file()
    names = {*result["clips"]["train"], *result["clips"]["validation"]}
    assert names == {*ENGINE_TAKES, f"maya_{MAYA_STYLE}"}
    assert result["clips"]["validation"] and result["steps"] == 60
    assert {r["group"] for r in result["validation"]["groups"]} >= {"mouth", "jaw", "eyes", "brows", "all"}
    cached = list((data / ".faceretarget-cache").glob("track1-*.landmarks.npy"))
    assert len(cached) == 1                      # only the Maya-style take needed tracking


def test_run_with_the_video_model_replaces_and_blends_per_group(trained, shared_data):
    root, data, ckpt, _ = trained
    out = root / "learned_take"
    code, ev = events(["run", "--video", str(shared_data / "video" / "faces" / "driving_d0.mp4"), "--out", str(out),
                       "--video-model", str(ckpt), "--video-model-groups", "mouth,jaw=0.5", "--device", "cpu",
                       "--progress", "json"])
    assert code == 0, ev
    meta = json.loads((out / "take.json").read_text())
    learned = meta["learned"]["video"]
    assert learned["checkpoint"] == str(ckpt) and len(learned["sha256"]) == 64
    assert learned["groups"]["mouth"]["mode"] == "replace" and learned["groups"]["jaw"]["mode"] == "blend"
    assert learned["groups"]["brows"]["mode"] == "pipeline"
    assert "learned" in meta["timings"] and meta["options"]["learned"]["video_model"] == str(ckpt)
    board = load_faceboard("mh4")
    _, names, plain = read_curves_csv(data / "driving_d0" / "faceboard.csv")
    times, names2, mixed = read_curves_csv(out / "faceboard.csv")
    assert names == names2 == board.names and len(times) == len(plain)
    groups = group_columns(names)
    untouched = [c for g in ("brows", "eyes", "nose", "cheeks", "tongue", "other") for c in groups[g]]
    np.testing.assert_allclose(mixed[:, untouched], plain[:, untouched], atol=1e-5)
    assert np.abs(mixed[:, groups["mouth"]] - plain[:, groups["mouth"]]).max() > 1e-3
    assert np.all(mixed >= board.mins - 1e-9) and np.all(mixed <= board.maxs + 1e-9)
    _, _, raw = read_curves_csv(out / "raw_curves.csv")
    assert raw.min() >= 0 and raw.max() <= 1


def test_run_refuses_a_model_for_another_rig_or_a_missing_device(trained, shared_data, tmp_path):
    _, _, ckpt, _ = trained
    video = str(shared_data / "video" / "faces" / "driving_d0.mp4")
    code, ev = events(["run", "--video", video, "--out", str(tmp_path / "t1"), "--rig", "legacy",
                       "--video-model", str(ckpt), "--progress", "json"])
    error = [e for e in ev if e["event"] == "error"][0]
    assert code == 2 and "trained for the 'mh4' rig" in error["message"] and "--rig mh4" in error["hint"]
    assert not (tmp_path / "t1").exists()
    code, ev = events(["run", "--video", video, "--out", str(tmp_path / "t2"), "--audio-model", str(ckpt),
                       "--progress", "json"])
    assert code == 2 and "is a video model" in [e for e in ev if e["event"] == "error"][0]["message"]
    import torch

    if not torch.cuda.is_available():
        code, ev = events(["run", "--video", video, "--out", str(tmp_path / "t3"), "--video-model", str(ckpt),
                           "--device", "cuda", "--progress", "json"])
        assert code == 2 and "no CUDA" in [e for e in ev if e["event"] == "error"][0]["message"]


def test_run_with_an_audio_model_uses_the_videos_sound(shared_data, tmp_path):
    """A small audio model (synthetic speech takes, tiny wav2vec2) drives mouth/jaw/tongue of a real clip
    from its own sound track; the other groups keep the pipeline's values."""
    from engine.models.train import train
    from tests.model_data import write_audio_take
    from tests.test_models import small_audio_options

    rng = np.random.default_rng(3)
    for i in range(3):
        write_audio_take(tmp_path / "speech" / f"take{i}", rng, emotion="neutral", seconds=3.0)
    options = small_audio_options(tmp_path / "speech", tmp_path / "audio.pt")
    train(replace(options, max_steps=10, eval_every=10, val_fraction=0.34), Reporter())
    video = shared_data / "video" / "faces" / "driving_d12.mp4"
    code, ev = events(["run", "--video", str(video), "--out", str(tmp_path / "take"), "--audio-model",
                       str(tmp_path / "audio.pt"), "--lip-correction", "off", "--device", "cpu", "--progress", "json"])
    assert code == 0, ev
    meta = json.loads((tmp_path / "take" / "take.json").read_text())
    audio = meta["learned"]["audio"]
    assert audio["source"] == str(video) and audio["emotion"] == "neutral"
    assert {g for g, v in audio["groups"].items() if v["mode"] == "replace"} == {"mouth", "jaw", "tongue"}
