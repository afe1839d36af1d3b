"""bench/lipsync.py's boundary oracle (--diagnose): only boundaries near the truth's move, labels stay."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.audio.recognize import TimedPhone

_spec = importlib.util.spec_from_file_location("bench_lipsync", Path(__file__).parents[1] / "bench" / "lipsync.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _phones(*spans):
    return [TimedPhone(a, b, p) for a, b, p in spans]


def test_boundaries_within_tolerance_move_onto_the_truth():
    truth = _phones((0.0, 0.10, "SIL"), (0.10, 0.20, "P"), (0.20, 0.40, "AA"), (0.40, 0.50, "SIL"))
    aligned = _phones((0.0, 0.11, "SIL"), (0.11, 0.23, "P"), (0.23, 0.40, "AA"), (0.40, 0.50, "SIL"))
    near = bench.snap_boundaries(truth, aligned, 0.02)
    assert [(p.start, p.end) for p in near] == [(0.0, 0.10), (0.10, 0.23), (0.23, 0.40), (0.40, 0.50)]
    wide = bench.snap_boundaries(truth, aligned, 0.05)
    assert [(p.start, p.end) for p in wide] == [(p.start, p.end) for p in truth]
    assert aligned[1].start == 0.11      # the aligned phones themselves are left alone


def test_boundaries_between_other_phones_stay():
    truth = _phones((0.0, 0.10, "SIL"), (0.10, 0.20, "DH"), (0.20, 0.30, "AH"))
    aligned = _phones((0.0, 0.11, "SIL"), (0.11, 0.19, "DH"), (0.19, 0.30, "IY"))
    snapped = bench.snap_boundaries(truth, aligned, 0.05)
    assert [(p.start, p.end, p.phone) for p in snapped] == [(0.0, 0.10, "SIL"), (0.10, 0.19, "DH"),
                                                            (0.19, 0.30, "IY")]
