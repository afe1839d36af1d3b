"""The few numerical routines `run` computes itself instead of importing SciPy at start-up (0.6-1 s of CPU):
each is held to SciPy's own result here (engine/solve/filters.py, engine/track/head_pose.py,
engine/solve/landmark_regressor.py)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from engine.solve.filters import BLOCK, butterworth_lowpass, filtfilt_section, zero_phase_lowpass
from engine.solve.landmark_regressor import erf, gelu, load_regressor, run_network, sigmoid
from engine.track.head_pose import angles_to_matrices, nearest_rotation, pose_to_components, yxz_angles, yxz_matrices


@pytest.mark.parametrize("cutoff,rate", [(8.0, 30.0), (8.0, 60.0), (2.0, 60.0), (12.0, 25.0), (0.5, 120.0)])
def test_butterworth_design_is_scipys(cutoff, rate):
    b, a = butterworth_lowpass(cutoff, rate)
    assert np.allclose(np.concatenate([b, a]), butter(2, cutoff, fs=rate, output="sos")[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("length", [11, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5, 2000])
@pytest.mark.parametrize("cutoff,rate", [(8.0, 30.0), (1.0, 60.0)])
def test_zero_phase_filter_is_scipys_sosfiltfilt(length, cutoff, rate):
    values = np.random.default_rng(length).standard_normal((length, 4)).cumsum(axis=0)
    sos = butter(2, cutoff, fs=rate, output="sos")
    padlen = min(length - 1, 9)
    expected = sosfiltfilt(sos, values, axis=0, padlen=padlen)
    got = filtfilt_section(butterworth_lowpass(cutoff, rate), values, padlen)
    assert np.abs(got - expected).max() < 1e-10 * max(1.0, np.abs(expected).max())


def test_zero_phase_lowpass_on_frame_times_matches_scipy_on_the_same_grid():
    times = np.arange(300) / 30.0
    values = np.random.default_rng(5).random((300, 52))
    expected = sosfiltfilt(butter(2, 8.0, fs=30.0, output="sos"), values, axis=0, padlen=9)
    assert np.abs(zero_phase_lowpass(values, times, 8.0) - expected).max() < 1e-12


def _random_angles(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(-3.1, 3.1, count), rng.uniform(-1.5, 1.5, count), rng.uniform(-3.1, 3.1, count)])


def test_yxz_rotations_are_scipys_both_ways():
    angles = _random_angles(500, 1)
    expected = Rotation.from_euler("YXZ", angles).as_matrix()
    assert np.abs(yxz_matrices(angles) - expected).max() < 1e-14
    back = yxz_angles(expected)
    assert np.abs(back - Rotation.from_matrix(expected).as_euler("YXZ")).max() < 1e-12
    assert np.abs(back - angles).max() < 1e-9


def test_angles_of_scaled_noisy_matrices_are_scipys():
    """MediaPipe's matrices carry a scale and are not exactly orthonormal: the nearest rotation is read."""
    rng = np.random.default_rng(2)
    rotations = Rotation.from_euler("YXZ", _random_angles(300, 2) * [0.5, 0.5, 0.3]).as_matrix()
    noisy = rotations + rng.normal(0.0, 0.01, rotations.shape)
    expected = Rotation.from_matrix(noisy).as_euler("YXZ")
    assert np.abs(yxz_angles(nearest_rotation(noisy)) - expected).max() < 1e-9
    matrices = np.tile(np.eye(4), (300, 1, 1))
    matrices[:, :3, :3] = 7.5 * noisy
    matrices[:, :3, 3] = rng.normal(0, 10, (300, 3))
    components = pose_to_components(matrices)
    assert np.abs(components[:, 3:] - np.degrees(np.unwrap(expected, axis=0))).max() < 1e-7
    assert np.allclose(angles_to_matrices(expected, 300)[:, :3, :3], Rotation.from_euler("YXZ", expected).as_matrix())


def test_erf_and_sigmoid_are_scipys_to_float32_resolution():
    x = np.linspace(-9.0, 9.0, 400001)
    assert np.abs(erf(x) - special.erf(x)).max() <= 1.5e-7
    assert np.abs(sigmoid(x) - special.expit(x)).max() < 1e-15
    assert erf(np.float32(0.3) * np.ones(3, np.float32)).dtype == np.float32
    assert np.all(np.isfinite(sigmoid(np.array([-1e4, 1e4], np.float32))))


def test_the_landmark_network_computes_what_it_did_with_scipys_erf():
    regressor = load_regressor()
    z = np.random.default_rng(4).standard_normal((200, regressor.mean.size)).astype(np.float32)

    def scipy_network(layers, inputs):
        h = inputs
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = 0.5 * h * (1.0 + special.erf(h / np.sqrt(2.0)))
        return special.expit(h)

    for layers in regressor.members:
        assert np.abs(run_network(layers, z) - scipy_network(layers, z)).max() < 2e-6
    assert np.abs(gelu(np.float32(1.0)) - 0.8413447) < 1e-6
