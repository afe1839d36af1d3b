"""bench/lipsync_long.py's scoring: lines added to a script unsaid, and deviations matched to warnings."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from engine_dev.long_recordings import LongRecording

_spec = importlib.util.spec_from_file_location("bench_lipsync_long",
                                               Path(__file__).parents[1] / "bench" / "lipsync_long.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench     # (its dataclasses look their module up)
_spec.loader.exec_module(bench)


def _recording(n_lines: int) -> LongRecording:
    spans = [(1.0 + 3.0 * k, 3.0 + 3.0 * k) for k in range(n_lines)]
    return LongRecording(np.zeros(16000 * 3 * n_lines, np.float32), [f"line {k}" for k in range(n_lines)], [], spans)


def test_lines_not_said_go_after_every_other_line_with_the_pause_they_left():
    skipped = bench.with_lines_not_said(_recording(4), ["first skip", "second skip", "unused"])
    assert skipped.script_lines == ["line 0", "first skip", "line 1", "line 2", "second skip", "line 3"]
    assert [(d.kind, d.start, d.end, d.words) for d in skipped.deviations] == [
        ("skipped", 3.0, 4.0, "first skip"), ("skipped", 9.0, 10.0, "second skip")]
    assert skipped.line_spans == _recording(4).line_spans      # the audio is the same


def test_a_deviation_is_found_by_one_warning_of_its_kind_within_half_a_second():
    skipped = bench.with_lines_not_said(_recording(4), ["first skip", "second skip"])
    events = [{"event": "warning", "code": "script_not_said", "start": 3.2, "end": 3.2},
              {"event": "warning", "code": "script_unscripted", "start": 9.5, "end": 9.6},
              {"event": "warning", "code": "script_not_said", "start": 6.0, "end": 6.0}]
    errors, false_reports = bench.deviation_errors(skipped, events)
    assert errors == [0.0, None] and false_reports == 2
    errors, false_reports = bench.deviation_errors(skipped, events, any_kind=True)
    assert errors == [0.0, 0.0] and false_reports == 1
