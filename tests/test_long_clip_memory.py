"""What keeps a long clip's memory down gives the same values: a take's landmarks read from disk as they
are asked for (as numpy's own loading, for every kind of index the solve and the learned models use), and
the tracker's per-frame rows kept in blocks."""
import numpy as np
import pytest

import engine.rig.retarget as retarget_module
from engine.config import RunOptions
from engine.pipeline import run
from engine.protocol import Reporter
from engine.rig.retarget import retarget, retarget_blocks
from engine.track.facetrack import LandmarkFile
from engine.track.run_tracker import RowBlocks


@pytest.fixture()
def saved(tmp_path):
    values = np.random.default_rng(3).normal(size=(37, 478, 3)).astype(np.float32)
    values[5] = np.nan
    path = tmp_path / "landmarks.npy"
    np.save(path, values)
    return values, LandmarkFile(path)


def test_indexing_reads_what_numpy_would(saved):
    values, lm = saved
    assert len(lm) == 37 and lm.shape == values.shape and lm.ndim == 3
    for key in (slice(None), slice(4, 9), slice(30, 99), slice(2, 20, 3), 0, -1, 36,
                [3, 3, 0, 36], [4, 5, 6, 9, 10, 2, 3], np.array([7, 1]), np.arange(37) % 2 == 0, (slice(None), 0, 0), (slice(1, 4), 10),
                (4, 2), (np.array([1, 2]), slice(0, 5))):
        np.testing.assert_array_equal(lm[key], values[key], err_msg=str(key))
    np.testing.assert_array_equal(np.asarray(lm), values)
    assert lm[slice(0, 0)].shape == (0, 478, 3)


def test_out_of_range_frames_are_refused(saved):
    _, lm = saved
    with pytest.raises(IndexError):
        lm[37]
    with pytest.raises(IndexError):
        lm[::-1]


def test_a_fortran_ordered_file_is_not_taken_for_frames(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.zeros((4, 478, 3), np.float32)))
    with pytest.raises(ValueError):
        LandmarkFile(tmp_path / "f.npy")


def test_a_list_of_frames_past_the_end_is_refused(saved):
    _, lm = saved
    with pytest.raises(IndexError):
        lm[[0, 37]]
    with pytest.raises(IndexError):
        lm[-38]


def test_rows_appended_in_blocks_come_back_in_order():
    rows = RowBlocks((2,))
    values = np.arange(2 * (2 * RowBlocks.BLOCK_FRAMES + 5), dtype=float).reshape(-1, 2)
    for row in values:
        rows.append(row)
    np.testing.assert_array_equal(rows.array(), values)
    assert RowBlocks(dtype=bool).array().shape == (0,)


def test_rows_are_kept_narrow_only_while_that_rounds_nothing():
    """MediaPipe's float32 scores are kept as float32 (half the bytes); a row float32 cannot hold exactly
    widens every row kept, and the array is every value as appended."""
    rows = RowBlocks((3,), np.float32)
    narrow = np.arange(3 * (RowBlocks.BLOCK_FRAMES + 2), dtype=np.float32).reshape(-1, 3) / 7
    for row in narrow:
        rows.append(row)
    assert rows.dtype == np.float32
    wide = np.array([0.1, np.pi, np.nan])
    rows.append(wide)
    assert rows.dtype == np.float64
    kept = rows.array(np.float64)
    np.testing.assert_array_equal(kept, np.vstack([narrow.astype(np.float64), wide]))


@pytest.mark.parametrize("mapping", [None, "pose"])
def test_retargeting_in_blocks_gives_the_whole_clips_curves(mapping):
    """Blocks carry the frames the sticky-lips rule looks back over: joined, they are value for value the
    whole clip's curves, on uneven frame times too."""
    rng = np.random.default_rng(4)
    arkit = np.clip(rng.normal(0.2, 0.3, (900, 52)), 0, 1)
    times = np.cumsum(rng.uniform(0.01, 0.06, 900))
    whole = retarget(arkit, "mh4", times, mapping)
    blocks = list(retarget_blocks(arkit, "mh4", times, mapping, block_frames=61))
    assert len(blocks) == 15 and [rows.start for rows, _ in blocks] == list(range(0, 900, 61))
    np.testing.assert_array_equal(np.concatenate([c.faceboard for _, c in blocks]), whole.faceboard)
    np.testing.assert_array_equal(np.concatenate([c.raw for _, c in blocks]), whole.raw)


def test_a_take_written_in_blocks_is_the_take_written_whole(shared_data, tmp_path, monkeypatch):
    clip = shared_data / "video" / "faces" / "driving_d12.mp4"
    takes = {}
    for block in (40, 10**9):
        monkeypatch.setattr(retarget_module, "RETARGET_BLOCK_FRAMES", block)
        takes[block] = run(RunOptions(video=clip, out=tmp_path / f"take_{block}"), Reporter())
    for name in ("faceboard.csv", "raw_curves.csv", "arkit.csv", "head_pose.csv", "rigmapper.csv"):
        assert (takes[40] / name).read_bytes() == (takes[10**9] / name).read_bytes(), name


def test_the_pose_fit_in_blocks_is_the_least_squares_fit():
    """The pose-effect fit over a long clip's calm frames, computed a block at a time (no float64 copy of
    them all), is NumPy's least squares to rounding (d13's take differs in the last printed digit: 1e-7)."""
    from engine.solve.landmark_space import CHUNK_FRAMES, _pose_fit

    rng = np.random.default_rng(5)
    n = 3 * CHUNK_FRAMES + 17
    angles = rng.normal(0, 0.2, (n, 3))
    feats = np.column_stack([np.ones(n), angles, angles[:, 0] ** 2, angles[:, 1] ** 2, angles[:, 0] * angles[:, 1]])
    disp = (feats @ rng.normal(size=(7, 60)) * 0.01 + rng.normal(0, 0.002, (n, 60))).astype(np.float32)
    calm = rng.random(n) < 0.4
    expected = np.linalg.lstsq(feats[calm], disp[calm].astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(_pose_fit(disp, feats, calm), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("with_landmarks", [False, True])
def test_the_solve_a_group_of_channels_at_a_time_is_the_solve_of_all_at_once(monkeypatch, with_landmarks):
    """Solved 8 channels at a time (engine.solve.solver.SOLVE_COLUMNS), the curves are bit for bit those of
    all 52 channels solved together: on uneven frame times, with short (bridged) and long (eased) gaps, one
    at the start, and with a landmark estimate blended in."""
    import engine.solve.solver as solver
    from engine.config import SolveOptions
    from engine.track.facetrack import FaceTrack

    rng = np.random.default_rng(6)
    n = 1500
    times = np.cumsum(rng.uniform(0.025, 0.045, n))
    detected = np.ones(n, bool)
    for start, stop in ((0, 7), (300, 306), (700, 790), (1490, 1500)):
        detected[start:stop] = False
    arkit = np.where(detected[:, None], np.clip(rng.normal(0.3, 0.25, (n, 52)), 0, 1), np.nan)
    pose = np.tile(np.eye(4), (n, 1, 1))
    pose[:, :3, 3] = rng.normal(0, 1, (n, 3))
    pose[~detected] = np.nan
    track = FaceTrack(times, detected, arkit, pose, detected.astype(float))
    if with_landmarks:
        landmark = rng.uniform(0, 1, (n, 52))
        monkeypatch.setattr(solver, "landmarks_usable", lambda *_: True)
        monkeypatch.setattr(solver, "landmark_estimate", lambda *_: landmark)
    assert len(solver.channel_groups(52)) == 7
    grouped = solver.solve(track, SolveOptions())
    monkeypatch.setattr(solver, "SOLVE_COLUMNS", 52)
    whole = solver.solve(track, SolveOptions())
    assert grouped.sources["landmarks"] == with_landmarks
    assert grouped.arkit.tobytes() == whole.arkit.tobytes()
    assert grouped.head_pose.tobytes() == whole.head_pose.tobytes()
    assert [g.to_json() for g in grouped.gaps] == [g.to_json() for g in whole.gaps] and len(grouped.gaps) == 4


def test_the_landmark_space_aligned_a_few_frames_at_a_time_is_the_same(monkeypatch):
    """Each frame is aligned on its own: the landmark space is bit for bit the same whatever the number of
    frames aligned at a time (engine.solve.landmark_space.ALIGN_FRAMES), frames without a face included."""
    import engine.solve.landmark_space as space_module

    rng = np.random.default_rng(7)
    face = rng.uniform(0.3, 0.7, (478, 3)).astype(np.float32)
    landmarks = face + rng.normal(0, 0.004, (300, 478, 3)).astype(np.float32)
    landmarks[[5, 6, 150]] = np.nan
    keep = np.arange(0, 478, 3)
    spaces = []
    for frames in (7, 10**6):
        monkeypatch.setattr(space_module, "ALIGN_FRAMES", frames)
        space = space_module.build_space(landmarks, (640, 480), np.arange(20, 60), np.arange(0, 300, 2), keep)
        # The displacements are computed when read: here, while ALIGN_FRAMES is still this size.
        spaces.append({"neutral": space.neutral, "displacement": np.asarray(space.displacement), "noise": space.noise})
    chunked, whole = spaces
    assert np.isnan(whole["displacement"][5]).all() and np.isfinite(whole["displacement"][7]).all()
    for name in ("neutral", "displacement", "noise"):
        assert chunked[name].tobytes() == whole[name].tobytes(), name


def test_the_displacements_computed_a_block_at_a_time_are_the_whole_clip_array():
    """build_space's displacements are computed when indexed (FrameDisplacements), so that a long clip's are
    never all held: any block of frames (the landmark network's, or blocks across the pose fit's chunks),
    single frames and scattered frames are bit for bit those of the whole-clip computation (every frame
    aligned, the pose effect fitted on the calm frames and subtracted chunk by chunk), frames without a
    face included."""
    import engine.solve.landmark_space as space_module
    from engine.solve.landmark_space import CHUNK_FRAMES, align_frames, fit_pose_effect, pose_features, to_points

    rng = np.random.default_rng(8)
    n = 2 * CHUNK_FRAMES + 300
    face = rng.uniform(0.3, 0.7, (478, 3)).astype(np.float32)
    turn = rng.normal(0, 0.01, (n, 1, 3)).astype(np.float32) * face[None, :, ::-1]
    landmarks = face + turn + rng.normal(0, 0.003, (n, 478, 3)).astype(np.float32)
    landmarks[[5, 6, CHUNK_FRAMES + 1]] = np.nan
    keep = np.arange(0, 478, 4)
    calm = np.arange(0, n, 3)
    space = space_module.build_space(landmarks, (640, 480), np.arange(20, 60), calm, keep)

    # The whole-clip computation, as build_space did it before the displacements were made lazy.
    points = to_points(landmarks, (640, 480))
    aligned, rotations = align_frames(points, space.neutral)
    whole = (aligned[:, keep] - space.neutral[keep][None]).reshape(n, -1).astype(np.float32)
    valid = np.isfinite(points).all(axis=(1, 2))
    calm_rows = np.zeros(n, bool)
    calm_rows[calm] = True
    feats = pose_features(rotations)
    coef = fit_pose_effect(whole, feats, calm_rows & valid)
    assert coef is not None
    for start in range(0, n, CHUNK_FRAMES):
        whole[start:start + CHUNK_FRAMES] -= (feats[start:start + CHUNK_FRAMES] @ coef).astype(np.float32)
    whole[~valid] = np.nan
    whole = whole.reshape(n, len(keep), 3)

    disp = space.displacement
    assert disp.shape == whole.shape and len(disp) == n
    assert np.array_equal(np.asarray(disp), whole, equal_nan=True)
    for block in (1024, 1000, 777):
        lazy = np.concatenate([disp[start:start + block] for start in range(0, n, block)])
        assert np.array_equal(lazy, whole, equal_nan=True), block
    scattered = np.array([3, 5, CHUNK_FRAMES - 1, CHUNK_FRAMES, n - 1])
    assert np.array_equal(disp[scattered], whole[scattered], equal_nan=True)
    assert np.array_equal(disp[CHUNK_FRAMES + 7], whole[CHUNK_FRAMES + 7])
    assert np.array_equal(disp[10:20, 3, 1], whole[10:20, 3, 1])
    assert np.isnan(disp[5]).all() and np.isfinite(disp[7]).all()
