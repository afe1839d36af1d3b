"""The ICT head renderer (engine_dev/render): ARKit -> ICT shape mapping, irises, expressions that show."""
import numpy as np
import pytest

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.rig.ict import ict_names
from engine_dev.render.ict_head import RENDERED_CHANNELS, IctHead, clamp_arkit


@pytest.fixture(scope="module")
def head(shared_data):
    return IctHead.load(shared_data / "ict-facekit")


@pytest.fixture(scope="module")
def renderer(head):
    pytest.importorskip("moderngl")
    from engine_dev.render.renderer import Camera, TruthRenderer

    try:
        r = TruthRenderer(head, Camera(256, 256))
    except Exception as exc:  # no EGL on this machine
        pytest.skip(f"no headless OpenGL: {exc}")
    yield r
    r.close()


def test_arkit_names_map_onto_ict_shapes(head):
    assert ict_names("browInnerUp") == ["browInnerUp_L", "browInnerUp_R"]
    assert ict_names("cheekPuff") == ["cheekPuff_L", "cheekPuff_R"]
    assert ict_names("eyeBlinkLeft") == ["eyeBlink_L"] and ict_names("jawLeft") == ["jawLeft"]
    m = head.arkit_matrix
    assert len(RENDERED_CHANNELS) == 51 and "tongueOut" not in RENDERED_CHANNELS
    assert all(m[ARKIT_INDEX[n]].sum() >= 1 for n in RENDERED_CHANNELS)
    # the subject's left is +X on the ICT head: a left blink moves the +X eye
    d = head.expression_deltas[head.expression_names.index("eyeBlink_L")]
    moved = np.linalg.norm(d, axis=1) > 0.1
    assert head.neutral[moved, 0].mean() > 2.0


def test_mouth_close_never_exceeds_jaw_open():
    w = np.zeros(52)
    w[ARKIT_INDEX["jawOpen"]] = 0.2
    w[ARKIT_INDEX["mouthClose"]] = 0.6
    assert clamp_arkit(w)[ARKIT_INDEX["mouthClose"]] == pytest.approx(0.2)


def test_render_shows_a_face_with_dark_irises_and_expressions(head, renderer):
    from engine_dev.render.renderer import Look

    rest = renderer.render(head.vertices(np.zeros(52)), look=Look())
    assert rest.shape == (256, 256, 3) and rest.dtype == np.uint8
    centre, corner = rest[96:160, 96:160].astype(int), rest[:16, :16].astype(int)
    assert np.abs(centre.mean(axis=(0, 1)) - corner.mean(axis=(0, 1))).sum() > 30      # a face, not background
    eyes = rest[90:125, 70:186]                                                         # the eye band
    assert (eyes.max(axis=2) < 50).sum() > 20                                            # pupils / irises are dark
    again = renderer.render(head.vertices(np.zeros(52)), look=Look())
    assert np.array_equal(rest, again)                                                   # deterministic
    w = np.zeros(52)
    w[ARKIT_INDEX["jawOpen"]] = 0.8
    mouth = renderer.render(head.vertices(w), look=Look())
    assert np.abs(mouth[150:230].astype(int) - rest[150:230].astype(int)).mean() > 3     # the jaw drops
    assert np.abs(mouth[:80].astype(int) - rest[:80].astype(int)).mean() < 1             # the forehead does not
    turned = renderer.render(head.vertices(np.zeros(52)), yaw=25.0, look=Look(lighting="left_key"))
    assert np.abs(turned.astype(int) - rest.astype(int)).mean() > 5


def test_weak_channel_script_holds_each_weak_channel_for_many_frames_and_rests_between():
    from engine_dev.render.sequences import weak

    w = weak(np.random.default_rng(3), fps=25.0)
    assert np.all(w[:, ARKIT_INDEX["mouthClose"]] <= w[:, ARKIT_INDEX["jawOpen"]] + 1e-12)
    for name in ("eyeWideLeft", "jawForward", "mouthClose", "mouthRollUpper", "mouthRollLower", "mouthPucker",
                 "mouthFunnel", "cheekPuff", "noseSneerRight"):
        assert (w[:, ARKIT_INDEX[name]] > 0.15).sum() >= 25, name      # a second or more of each
    brows = w[:, ARKIT_INDEX["browOuterUpLeft"]]
    wide = w[:, ARKIT_INDEX["eyeWideLeft"]]
    assert ((wide > 0.3) & (brows < 0.05)).any()        # wide eyes without brows, so they are not learnt as one
    assert (w.sum(axis=1) == 0).sum() >= 25             # rest frames for the neutral estimate
