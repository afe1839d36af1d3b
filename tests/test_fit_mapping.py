"""`fit-mapping`: learn ARKit -> face board from paired recordings; recover a known mapping from synthetic
pairs at different frame rates; refuse recordings that do not overlap in time."""
import argparse
import io
import json

import numpy as np
import pytest

from engine import cli
from engine.errors import EngineError
from engine.protocol import JsonLinesReporter
from engine.models import cli as models_cli
from engine.export.livelink import write_livelink_csv
from engine.export.take import write_curves_csv
from engine.rig.arkit import ARKIT_INDEX
from engine.rig.faceboard import load_faceboard
from engine.rig.fit_mapping import FitOptions, fit, load_fitted_mapping
from engine.rig.retarget import retarget

# The known mapping: face-board attribute <- {ARKit channel: weight}, plus a bias.
KNOWN = {
    "CTRL_C_jaw.ty": ({"jawOpen": 0.9, "mouthClose": -0.3}, 0.0),
    "CTRL_L_mouth_lipsTogetherU.ty": ({"mouthClose": 0.8, "mouthPressLeft": 0.2}, 0.05),
    "CTRL_L_eye_cheekRaise.ty": ({"cheekSquintLeft": 0.5, "mouthSmileLeft": 0.3}, 0.0),
    "CTRL_R_nose.ty": ({"noseSneerRight": 0.7}, 0.1),
    "CTRL_L_brow_down.ty": ({"browDownLeft": 0.6, "browInnerUp": -0.2}, 0.2),
}
TOLERANCE = 0.02


def main(argv):
    """`faceretarget-engine <argv>` as engine.cli.main runs it, with only this sub-command registered (so a
    half-edited sibling command cannot break these tests); JSON events go to stdout."""
    parser = argparse.ArgumentParser()
    models_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    reporter = JsonLinesReporter() if args.progress == "json" else JsonLinesReporter(io.StringIO())
    try:
        args.handler(args, reporter)
        return 0
    except EngineError as exc:
        reporter.error(exc.message, exc.hint)
        return exc.exit_code


def test_fit_mapping_is_a_registered_sub_command():
    assert "engine.models.cli" in cli.COMMAND_MODULES


def smooth_arkit(times, seed=0):
    """Random smooth ARKit curves in 0..1 (sums of slow sines), mouthClose <= jawOpen."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(times), 52))
    for c in range(52):
        f = rng.uniform(0.1, 1.5, 3)
        ph = rng.uniform(0, 2 * np.pi, 3)
        out[:, c] = 0.5 + 0.5 * np.sin(2 * np.pi * f[:, None] * times + ph[:, None]).mean(axis=0) * 1.4
    out = np.clip(out, 0, 1)
    out[:, ARKIT_INDEX["mouthClose"]] = np.minimum(out[:, ARKIT_INDEX["mouthClose"]], out[:, ARKIT_INDEX["jawOpen"]])
    return out


def known_faceboard(arkit):
    board = load_faceboard("mh4")
    names = list(KNOWN)
    values = np.zeros((len(arkit), len(names)))
    for j, name in enumerate(names):
        weights, bias = KNOWN[name]
        values[:, j] = bias + sum(w * arkit[:, ARKIT_INDEX[c]] for c, w in weights.items())
        values[:, j] = np.clip(values[:, j], board[name].min, board[name].max)
    return names, values


def write_pair(tmp_path, fb_start=0.0, fb_rate=30.0, seconds=60.0):
    t60 = np.arange(0, seconds, 1 / 60)
    arkit = smooth_arkit(t60)
    csv = tmp_path / "arkit.csv"
    write_livelink_csv(csv, t60, arkit)
    t_fb = np.arange(0, seconds, 1 / fb_rate) + fb_start
    names, values = known_faceboard(smooth_arkit_at(t60, arkit, t_fb - 0.0))
    fb = tmp_path / "faceboard.csv"
    write_curves_csv(fb, t_fb, names, values)
    return csv, fb


def smooth_arkit_at(times, arkit, new_times):
    return np.column_stack([np.interp(new_times, times, arkit[:, c]) for c in range(arkit.shape[1])])


def test_recovers_a_known_mapping_from_pairs_at_different_rates(tmp_path, capsys):
    csv, fb = write_pair(tmp_path, fb_rate=30.0)
    out = tmp_path / "mapping.json"
    assert main(["fit-mapping", "--arkit", str(csv), "--faceboard", str(fb), "--out", str(out),
                 "--no-features", "--ridge", "1e-6"]) == 0
    table = capsys.readouterr().out
    assert "held-out MAE" in table and "CTRL_C_jaw.ty" in table
    mapping = load_fitted_mapping(out)
    for j, name in enumerate(mapping.outputs):
        weights, bias = KNOWN[name]
        expected = np.zeros(len(mapping.inputs))
        for c, w in weights.items():
            expected[mapping.inputs.index(c)] = w
        assert np.abs(mapping.weights[:, j] - expected).max() < TOLERANCE, name
        assert mapping.bias[j] == pytest.approx(bias, abs=TOLERANCE)
    assert mapping.report["held_out_mae"] < TOLERANCE
    assert mapping.report["frames"]["held_out"] > 0


def test_derived_features_keep_the_error_small_and_run_uses_the_mapping(tmp_path):
    csv, fb = write_pair(tmp_path, fb_rate=24.0)
    out = tmp_path / "mapping.json"
    assert main(["fit-mapping", "--arkit", str(csv), "--faceboard", str(fb), "--out", str(out)]) == 0
    mapping = load_fitted_mapping(out)
    assert len(mapping.inputs) > 52 and mapping.report["held_out_mae"] < TOLERANCE
    # `run --mapping` goes through retarget(..., mapping=path): the fitted attributes follow the mapping.
    t = np.arange(0, 5, 1 / 30)
    arkit = smooth_arkit(t, seed=3)
    curves = retarget(arkit, "mh4", t, out)
    names, expected = known_faceboard(arkit)
    for j, name in enumerate(names):
        got = curves.faceboard[:, curves.faceboard_names.index(name)]
        assert np.abs(got - expected[:, j]).mean() < TOLERANCE, name
    board = load_faceboard("mh4")
    assert np.all(curves.faceboard >= board.mins) and np.all(curves.faceboard <= board.maxs)


def test_refuses_recordings_that_do_not_overlap(tmp_path, capsys):
    csv, fb = write_pair(tmp_path, fb_start=100.0, seconds=10.0)
    code = main(["fit-mapping", "--arkit", str(csv), "--faceboard", str(fb), "--out", str(tmp_path / "m.json"),
                 "--progress", "json"])
    assert code == 2
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    error = [e for e in events if e["event"] == "error"][0]
    assert "do not overlap in time" in error["message"] and "--offset" in error["hint"]
    assert not (tmp_path / "m.json").exists()


def test_offset_aligns_a_later_faceboard_file(tmp_path):
    t60 = np.arange(0, 20, 1 / 60)
    arkit = smooth_arkit(t60, seed=5)
    t_fb = np.arange(0, 20, 1 / 30)
    names, values = known_faceboard(smooth_arkit_at(t60, arkit, t_fb))
    mapping = fit(t60, arkit, t_fb + 50.0, names, values, FitOptions(offset=50.0, features=False, ridge=1e-6))
    assert mapping.report["held_out_mae"] < TOLERANCE


def test_refuses_a_faceboard_file_without_faceboard_columns(tmp_path, capsys):
    csv, _ = write_pair(tmp_path, seconds=5.0)
    other = tmp_path / "other.csv"
    write_curves_csv(other, np.arange(0, 5, 1 / 30), ["foo"], np.zeros((150, 1)))
    assert main(["fit-mapping", "--arkit", str(csv), "--faceboard", str(other), "--out", str(tmp_path / "m.json")]) == 2
