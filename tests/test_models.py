"""Learned backends on CPU with small models the tests build: data, training, checkpoints, refusals.

The synthetic takes (tests/model_data.py) carry a known, learnable relation between the inputs and the
face board; a few hundred steps must bring the validation error well below a constant predictor's.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import BadInput, EngineError  # noqa: E402
from engine.models import data as model_data  # noqa: E402
from engine.models.groups import GROUP_NAMES, group_of, groups_of, parse_group_weights  # noqa: E402
from engine.config.learned import AudioModelConfig, TrainOptions, VideoModelConfig  # noqa: E402
from engine.protocol import Reporter  # noqa: E402
from engine.rig.faceboard import load_faceboard  # noqa: E402
from tests.model_data import (AUDIO_TARGETS, EMOTION_TARGET, VIDEO_TARGETS, tiny_wav2vec2_config,  # noqa: E402
                              write_audio_take, write_video_take)

# Improvement the trained models must show over a constant predictor (the training mean), as the ratio
# of validation RMSEs over the controls the synthetic truth drives.
VIDEO_MAX_RATIO = 0.5
AUDIO_MAX_RATIO = 0.6
SAME_VALUES_ATOL = 1e-5      # a loaded checkpoint's predictions vs the trained model's


@pytest.fixture(autouse=True, scope="module")
def few_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------------------------------------------
# Control groups, curve files, split
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rig", ["mh4", "legacy"])
def test_every_attribute_has_a_group(rig):
    groups = groups_of(load_faceboard(rig).names)
    assert set(groups) == set(GROUP_NAMES)
    assert group_of("CTRL_C_jaw.ty") == "jaw" and group_of("CTRL_L_eye_cheekRaise.ty") == "cheeks"
    assert group_of("CTRL_C_tongue_inOut.ty") == "tongue" and group_of("CTRL_R_mouth_purseU.ty") == "mouth"
    assert group_of("CTRL_L_eye_blink.ty") == "eyes" and group_of("CTRL_neck_throatUpDown.ty") == "other"


def test_group_specs():
    assert parse_group_weights("mouth,jaw=0.5") == {"mouth": 1.0, "jaw": 0.5}
    assert set(parse_group_weights("all")) == set(GROUP_NAMES)
    assert parse_group_weights("all,eyes=0")["eyes"] == 0.0
    for bad in ("lips", "jaw=2", "jaw=x"):
        with pytest.raises(BadInput):
            parse_group_weights(bad)


def test_legacy_table_maps_columns_by_legacy_index(tmp_path):
    table = np.arange(3 * 174, dtype=float).reshape(3, 174) / 1000.0
    path = tmp_path / "clip.txt"
    np.savetxt(path, table, delimiter=",", fmt="%.6f")
    for rig, trained in (("legacy", 174), ("mh4", 162)):
        board = load_faceboard(rig)
        labels = model_data.read_legacy_table(path, rig)
        assert labels.mask.sum() == trained
        np.testing.assert_allclose(labels.times, [0, 1 / 60, 2 / 60])
        for j, attribute in enumerate(board.attributes):
            if attribute.legacy_174_index is not None:
                np.testing.assert_allclose(labels.values[:, j], table[:, attribute.legacy_174_index])
            else:
                assert not labels.mask[j]


def test_discovery_pairs_curve_files_with_media_and_splits_by_clip(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(5):
        np.savetxt(tmp_path / f"clip{i}.txt", rng.uniform(0, 1, (10, 174)), delimiter=",")
        (tmp_path / f"clip{i}.wav").write_bytes(b"")
    (tmp_path / "notes.csv").write_text("time,a,b\n0,1,2\n")
    clips = model_data.discover(tmp_path)
    assert [c.name for c in clips] == [f"clip{i}" for i in range(5)]
    assert all(c.audio == tmp_path / f"{c.name}.wav" and c.kind == "legacy" for c in clips)
    train, val = model_data.split_clips(clips, 0.2)
    assert len(val) == 1 and not {c.name for c in train} & {c.name for c in val}
    assert model_data.split_clips(clips, 0.2) == (train, val)
    with pytest.raises(BadInput, match="at least 2"):
        model_data.split_clips(clips[:1], 0.2)


def test_cuda_request_without_cuda_is_an_error_not_a_fallback():
    from engine.models.device import resolve_device

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(BadInput, match="no CUDA"):
        resolve_device("cuda")


# ---------------------------------------------------------------------------------------------------
# Video model
# ---------------------------------------------------------------------------------------------------

def small_video_options(data: Path, out: Path, **video) -> TrainOptions:
    config = VideoModelConfig(hidden=48, layers=3, kernel=3, dropout=0.0, **video)
    return TrainOptions(kind="video", data=data, out=out, device="cpu", window_s=1.0, batch_size=8,
                        max_steps=400, learning_rate=1e-2, warmup_steps=20, eval_every=50, patience=20,
                        val_fraction=0.25, video=config)


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("video")
    rng = np.random.default_rng(1)
    for i in range(9):
        write_video_take(root / "data" / f"take{i}", rng)
    options = small_video_options(root / "data", root / "video.pt")
    from engine.models.train import train

    return options, train(options, Reporter())




def validation_predictions(options: TrainOptions, summary: dict):
    """(doc, validation clips, predictions of the saved checkpoint on them)."""
    from engine.models.apply import load_model
    from engine.models.checkpoint import load_checkpoint
    from engine.models.train import predict_video_frames

    doc = load_checkpoint(options.out, "video", "mh4", load_faceboard("mh4").names)
    model = load_model(doc, torch.device("cpu"))
    cache = model_data.cache_folder(options.data, None)
    clips = [model_data.video_clip(c, doc["config"], "mh4", cache, Reporter())
             for c in model_data.discover(options.data) if c.name in summary["clips"]["validation"]]
    preds = [predict_video_frames(model, c.features, doc["normalization"], doc["window"], torch.device("cpu"))
             for c in clips]
    return doc, clips, preds


def test_video_model_learns_well_below_a_constant_predictor(video_run):
    options, summary = video_run
    assert summary["steps"] >= 200 and summary["frames_per_s"] > 0
    doc, clips, preds = validation_predictions(options, summary)
    names = doc["controls"]
    constant = doc["normalization"]["target_mean"].numpy()
    truth = np.concatenate([c.targets for c in clips])
    pred = np.concatenate(preds)
    for name in VIDEO_TARGETS:
        j = names.index(name)
        model_rmse = np.sqrt(np.mean((pred[:, j] - truth[:, j]) ** 2))
        constant_rmse = np.sqrt(np.mean((constant[j] - truth[:, j]) ** 2))
        assert model_rmse < VIDEO_MAX_RATIO * constant_rmse, (name, model_rmse, constant_rmse)
    rows = {r["group"]: r for r in summary["validation"]["groups"]}
    assert rows["all"]["rmse"] < VIDEO_MAX_RATIO * rows["all"]["constant_rmse"]


def test_video_checkpoint_loads_weights_only_and_predicts_the_same(video_run, tmp_path):
    from engine.models.apply import load_model
    from engine.models.checkpoint import load_checkpoint
    from engine.models.train import predict_video_frames, validation_table

    options, summary = video_run
    raw = torch.load(options.out, map_location="cpu", weights_only=True)   # nothing but tensors and JSON
    assert raw["rig"] == "mh4" and raw["controls"] == load_faceboard("mh4").names
    assert raw["config"]["hidden"] == 48 and raw["feature_size"] == 478 * 3 + 52 + 1
    json.dumps({k: v for k, v in raw.items() if k not in ("state_dict", "normalization")})
    # the validation clips again, through the loaded model: the same table as at the best step
    doc, clips, preds = validation_predictions(options, summary)
    t_mean, t_std = (doc["normalization"][k].numpy() for k in ("target_mean", "target_std"))
    mask = np.asarray(doc["trained_controls"])
    table = validation_table(preds, [c.targets for c in clips], [c.mask & mask for c in clips], t_mean, t_std,
                             doc["controls"])
    assert table["loss"] == pytest.approx(summary["best_val_loss"], rel=1e-4)
    again = load_model(load_checkpoint(options.out, "video"), torch.device("cpu"))
    pred2 = predict_video_frames(again, clips[0].features, doc["normalization"], doc["window"], torch.device("cpu"))
    np.testing.assert_allclose(pred2, preds[0], atol=SAME_VALUES_ATOL)


def test_mismatched_rig_control_order_or_kind_is_refused(video_run, tmp_path):
    from engine.models.checkpoint import load_checkpoint

    options, _ = video_run
    names = load_faceboard("mh4").names
    with pytest.raises(BadInput, match="trained for the 'mh4' rig; this run targets 'legacy'") as exc:
        load_checkpoint(options.out, "video", "legacy", load_faceboard("legacy").names)
    assert "--rig mh4" in exc.value.hint
    doc = torch.load(options.out, map_location="cpu", weights_only=True)
    doc["controls"] = [names[1], names[0], *names[2:]]
    swapped = tmp_path / "swapped.pt"
    torch.save(doc, swapped)
    with pytest.raises(BadInput, match=f"column 0 is '{names[1]}' in the checkpoint but '{names[0]}' on the rig"):
        load_checkpoint(swapped, "video", "mh4", names)
    with pytest.raises(BadInput, match="is a video model, not a audio model"):
        load_checkpoint(options.out, "audio", "mh4", names)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(BadInput, match="not a FaceRetarget model checkpoint"):
        load_checkpoint(junk)
    with pytest.raises(EngineError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_training_refuses_to_overwrite_a_checkpoint(video_run):
    from engine.models.train import train

    options, _ = video_run
    with pytest.raises(BadInput, match="already exists"):
        train(options, Reporter())


def test_video_model_with_a_face_crop_backbone_trains_and_reloads(tmp_path):
    """The image path with the tiny ResNet: synthetic crops (a bright square whose size is the target)."""
    from engine.models.apply import load_model
    from engine.models.video_model import build_backbone

    assert build_backbone("resnet18")(torch.zeros(1, 3, 64, 64)).shape == (1, 512)
    config = VideoModelConfig(hidden=32, layers=2, kernel=3, dropout=0.0, landmarks=False, scores=False,
                              backbone="tiny", crop_size=32, temporal="transformer", heads=2)
    from dataclasses import asdict

    from engine.models.video_model import VideoRegressor

    model = VideoRegressor(asdict(config), 1, 3)
    crops = torch.zeros(2, 5, 32, 32, 3, dtype=torch.uint8)
    out = model(torch.zeros(2, 5, 1), crops)
    assert out.shape == (2, 5, 3)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    doc = {"kind": "video", "config": asdict(config), "controls": ["a", "b", "c"], "state_dict": state,
           "feature_version": __import__("engine.models.features", fromlist=["x"]).FEATURE_VERSION}
    again = load_model(doc, torch.device("cpu"))
    torch.testing.assert_close(again(torch.zeros(2, 5, 1), crops), model.eval()(torch.zeros(2, 5, 1), crops))


# ---------------------------------------------------------------------------------------------------
# Audio model
# ---------------------------------------------------------------------------------------------------

def small_audio_options(data: Path, out: Path, **audio) -> TrainOptions:
    config = AudioModelConfig(encoder_config=tiny_wav2vec2_config(), hidden=48, layers=2, heads=2, dropout=0.0,
                              emotion_dim=8, **audio)
    return TrainOptions(kind="audio", data=data, out=out, device="cpu", window_s=2.0, batch_size=8,
                        max_steps=400, learning_rate=5e-3, warmup_steps=20, eval_every=50, patience=20,
                        val_fraction=0.25, audio=config)


@pytest.fixture(scope="module")
def audio_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(2)
    for i in range(8):
        write_audio_take(root / "data" / f"take{i}", rng, emotion="happy" if i % 2 else "neutral")
    options = small_audio_options(root / "data", root / "audio.pt")
    from engine.models.train import train

    return options, train(options, Reporter())


def test_audio_model_learns_well_below_a_constant_predictor(audio_run):
    """Jaw and funnel follow the sound (through a random tiny wav2vec2, frozen: a linear read-out of its
    states reaches ~0.35-0.4 of the constant predictor's error), the brow follows the emotion."""
    from engine.audio.io import load_audio
    from engine.models.apply import load_model, predict_audio
    from engine.models.checkpoint import load_checkpoint

    options, summary = audio_run
    doc = load_checkpoint(options.out, "audio", "mh4", load_faceboard("mh4").names)
    model = load_model(doc, torch.device("cpu"))
    preds, truths = [], []
    for src in model_data.discover(options.data):
        if src.name in summary["clips"]["validation"]:
            clip = model_data.audio_clip(src, doc["config"], "mh4", "neutral")
            _, pred = predict_audio(doc, model, load_audio(src.audio).samples, clip.emotion, torch.device("cpu"))
            n = min(len(pred), len(clip.targets))
            preds.append(pred[:n])
            truths.append(clip.targets[:n])
    pred, truth = np.concatenate(preds), np.concatenate(truths)
    constant = doc["normalization"]["target_mean"].numpy()
    for name in (*AUDIO_TARGETS, EMOTION_TARGET):
        j = doc["controls"].index(name)
        model_rmse = np.sqrt(np.mean((pred[:, j] - truth[:, j]) ** 2))
        constant_rmse = np.sqrt(np.mean((constant[j] - truth[:, j]) ** 2))
        assert model_rmse < AUDIO_MAX_RATIO * constant_rmse, (name, model_rmse, constant_rmse)


def test_audio_checkpoint_is_self_contained_and_predicts_the_same(audio_run):
    from engine.audio.io import load_audio
    from engine.models.apply import load_model, predict_audio
    from engine.models.checkpoint import load_checkpoint

    options, summary = audio_run
    names = load_faceboard("mh4").names
    doc = load_checkpoint(options.out, "audio", "mh4", names)
    assert doc["emotions"] == ["happy", "neutral"] and doc["encoder_config"]["hidden_size"] == 32
    val = summary["clips"]["validation"][0]
    samples = load_audio(options.data / val / "audio.wav").samples
    cpu = torch.device("cpu")
    t1, p1 = predict_audio(doc, load_model(doc, cpu), samples, "happy", cpu)
    t2, p2 = predict_audio(doc, load_model(load_checkpoint(options.out), cpu), samples, "happy", cpu)
    np.testing.assert_allclose(p1, p2, atol=SAME_VALUES_ATOL)
    assert t1[1] - t1[0] == pytest.approx(1 / 60)
    _, p3 = predict_audio(doc, load_model(doc, cpu), samples, "neutral", cpu)
    brow = names.index(EMOTION_TARGET)
    assert p1[:, brow].mean() - p3[:, brow].mean() > 0.4        # the emotion embedding carries the brow
    with pytest.raises(BadInput, match="no emotion 'angry'"):
        predict_audio(doc, load_model(doc, cpu), samples, "angry", cpu)


def test_audio_model_fine_tunes_the_encoder_end_to_end(audio_run, tmp_path):
    from engine.models.checkpoint import load_checkpoint
    from engine.models.train import train

    options, _ = audio_run
    tuned = replace(options, out=tmp_path / "tuned.pt", max_steps=20, eval_every=10,
                    audio=replace(options.audio, freeze_encoder=False))
    summary = train(tuned, Reporter())
    assert summary["steps"] == 20
    doc = load_checkpoint(tuned.out, "audio")
    before = torch.load(options.out, weights_only=True)["state_dict"]
    key = "encoder.encoder.layers.0.attention.q_proj.weight"
    assert not torch.equal(doc["state_dict"][key], before[key])          # the transformer layers trained
    conv = "encoder.feature_extractor.conv_layers.0.conv.weight"
    assert doc["config"]["freeze_encoder"] is False and conv in doc["state_dict"]


def test_local_encoder_folder_loads_without_network(tmp_path):
    """`--encoder DIR`: a folder saved with save_pretrained loads with local_files_only (no hub)."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from engine.models.audio_model import build_encoder

    Wav2Vec2Model(Wav2Vec2Config(**tiny_wav2vec2_config())).save_pretrained(tmp_path / "w2v")
    encoder, config = build_encoder({"encoder": str(tmp_path / "w2v")})
    assert config["hidden_size"] == 32 and encoder.config.num_hidden_layers == 2
    with pytest.raises(EngineError, match="no wav2vec2 model"):
        build_encoder({"encoder": str(tmp_path)})
