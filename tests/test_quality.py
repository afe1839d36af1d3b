"""Rendered ground truth through the real engine (a short clip; bench/rendered_truth.py is the benchmark).

An ICT identity the solver's tables were never trained on is rendered at known ARKit weights with the head
turning, tracked by the engine's FaceTracker and solved by `solve` with the actor profile `calibrate` makes
from a rendered neutral capture of the same identity (the recommended workflow): resting frames read near zero, the
engine's curves are closer to the rendered weights than MediaPipe's raw scores, the weak channels move
with their expressions, and head yaw/pitch follow the rendered head."""
import numpy as np
import pytest

from engine.config import SolveOptions
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.solve.solver import solve
from engine_dev.render.metrics import channel_scores, correlation, rest_frames

pytestmark = pytest.mark.shared


def script(fps):
    from engine_dev.render.sequences import Builder, pose

    b = Builder(fps).hold(1.0)
    for target in (pose(mouthSmile_LR=0.9, cheekSquint_LR=0.7, eyeSquint_LR=0.4),
                   pose(noseSneer_LR=0.9, mouthUpperUp_LR=0.4),
                   pose(jawOpen=0.6, mouthLowerDown_LR=0.3),
                   pose(mouthRollLower=0.8, mouthRollUpper=0.7),
                   pose(eyeBlink_LR=1.0),
                   pose(browInnerUp=0.8, browOuterUp_LR=0.7)):
        b.to(target, 0.25).hold(0.4).to(target * 0, 0.25).hold(0.5)
    return b.hold(0.5).build()


@pytest.fixture(scope="module")
def rendered(shared_data, tmp_path_factory):
    pytest.importorskip("moderngl")
    from engine_dev.render.ict_head import IctHead
    from engine_dev.render.renderer import Camera, Look, TruthRenderer
    from engine_dev.render.sequences import HeadMotion
    from engine_dev.render.truth import ClipSpec, render_and_track
    import engine_dev.render.truth as truth

    head = IctHead.load(shared_data / "ict-facekit")
    spec = ClipSpec("quality", identity_seed=7, look=Look("medium", "brown", "left_key"),
                    camera=Camera(480, 480, distance_cm=60), motion=HeadMotion(18, 10, 3, period_s=6),
                    scripts=("test",), seed=7)
    truth.SCRIPTS["test"] = lambda rng, fps: script(fps)
    try:
        renderer = TruthRenderer(head, spec.camera)
    except Exception as exc:
        pytest.skip(f"no headless OpenGL: {exc}")
    folder = tmp_path_factory.mktemp("quality")
    capture_spec = ClipSpec("quality_neutral", identity_seed=7, look=spec.look, camera=spec.camera,
                            scripts=("rest",), seed=7)
    try:
        clip = render_and_track(spec, head, folder, renderer)
        capture = render_and_track(capture_spec, head, folder, renderer)
    finally:
        renderer.close()
        truth.SCRIPTS.pop("test", None)
    from engine.solve.actor import build_profile, save_profile

    save_profile(build_profile(capture.track, name="quality", rig="mh4"), folder / "actor.json")
    return clip, solve(clip.track, SolveOptions(actor=folder / "actor.json"))


def test_without_a_profile_rest_still_reads_lower_than_raw_mediapipe(rendered):
    """The population resting model is conservative (a low level: real actors who rest low keep their
    movement), so a rendered head reads some of its resting bias; never more than MediaPipe's own."""
    clip, _ = rendered
    rest = rest_frames(clip.truth)
    population = solve(clip.track, SolveOptions()).arkit[rest].mean(axis=0)
    raw = np.nan_to_num(clip.track.arkit)[rest].mean(axis=0)
    assert np.all(population <= raw + 0.01) and population.max() < raw.max()


def test_the_face_is_tracked_in_every_frame(rendered):
    clip, _ = rendered
    assert clip.track.detected.all()


# The benchmark's figure over its five test clips is 0.044 (README); one short clip with the head turning
# 18 degrees under a side light reads up to 0.064 (eyeSquintLeft, MediaPipe's pose-dependent bias).
REST_LIMIT = 0.08


def test_resting_frames_read_near_zero_on_every_channel(rendered):
    clip, take = rendered
    rest = rest_frames(clip.truth)
    assert rest.sum() > 40
    means = take.arkit[rest].mean(axis=0)
    assert means.max() < REST_LIMIT, ARKIT_NAMES[int(np.argmax(means))]
    raw = np.nan_to_num(clip.track.arkit)[rest].mean(axis=0).max()
    assert take.arkit[rest].mean(axis=0).max() < 0.3 * raw       # MediaPipe's raw scores rest far higher


def test_engine_is_closer_to_the_rendered_weights_than_raw_mediapipe(rendered):
    clip, take = rendered
    raw = channel_scores(clip.truth, np.nan_to_num(clip.track.arkit))
    ours = channel_scores(clip.truth, take.arkit)
    channels = [n for n in raw if n != "tongueOut"]
    assert np.mean([ours[n][0] for n in channels]) < 0.8 * np.mean([raw[n][0] for n in channels])


@pytest.mark.parametrize("channel", ["cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
                                     "mouthRollLower"])
def test_weak_channels_follow_their_expression(rendered, channel):
    clip, take = rendered
    i = ARKIT_INDEX[channel]
    assert correlation(clip.truth[:, i], take.arkit[:, i]) > 0.5


def test_head_yaw_and_pitch_follow_the_rendered_head(rendered):
    clip, take = rendered
    # The engine's convention (as rendered): +yaw turns the face to the subject's left (camera right),
    # +pitch tips the nose down.
    for k in (0, 1):
        assert correlation(clip.head[:, k], take.head_pose[:, 3 + k]) > 0.9
    assert np.abs(take.head_pose[:, 3] - clip.head[:, 0]).mean() < 4.0
