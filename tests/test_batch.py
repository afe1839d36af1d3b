"""`faceretarget-engine batch`: manifests, isolation of a failing clip, resume, process pool and Ray.

The end-to-end tests run a manifest of 4 clips (3 short shared face clips and a truncated copy of one,
made here) with 2 local workers and with Ray in local mode (2 CPUs): 3 takes complete, the corrupt clip
is reported with its reason, and a second run skips the 3 finished takes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import RunOptions
from engine.errors import BadInput
from engine.pipeline import run
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.config.batch import BatchOptions
from engine.config.preview import PreviewOptions
from engine.scale.manifest import ClipJob, read_manifest
from engine.scale.runner import EXIT_CLIPS_FAILED, _run_locally, batch_jobs, format_table, run_batch
from engine.scale.worker import clip_result, finished_take
from engine.solve.actor import ActorProfile, save_profile
from tests.videos import read_frames, write_video

REPO = Path(__file__).resolve().parents[1]
CLIPS = ("driving_d0", "driving_d12", "driving_d11")      # 3 s, 7 s and 9 s
CORRUPT_BYTES = 150_000                                     # the start of an MP4 whose index is at the end


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


# --- manifests (no tracking) ----------------------------------------------------------------------------

def test_csv_manifest_resolves_paths_against_its_folder_and_maps_options(tmp_path):
    folder = tmp_path / "shoot"
    folder.mkdir()
    manifest = write_csv(folder / "m.csv", "Video,output,rig,fps-out,neutral_time,smoothing",
                         "clips/a.mp4,takes/a,legacy,60,1.5,4",
                         f"{tmp_path}/b.mp4,{tmp_path}/out/b,,,,")
    a, b = read_manifest(manifest)
    assert (a.row, a.video, a.output) == (1, folder / "clips/a.mp4", folder / "takes/a")
    assert (b.video, b.output, b.options) == (tmp_path / "b.mp4", tmp_path / "out/b", {})
    options = a.run_options()
    assert (options.rig, options.fps_out) == ("legacy", 60.0)
    assert (options.solve.neutral_time, options.solve.smoothing_cutoff_hz) == (1.5, 4.0)
    defaults = b.run_options()
    assert (defaults.rig, defaults.fps_out, defaults.solve) == (RunOptions().rig, None, RunOptions().solve)
    assert "line 2" in a.where and "line 3" in b.where


def test_symmetric_column_asks_for_symmetric_tracking(tmp_path):
    manifest = write_csv(tmp_path / "m.csv", "video,output,symmetric", "a.mp4,t/a,yes", "b.mp4,t/b,", "c.mp4,t/c,0")
    a, b, c = read_manifest(manifest)
    assert (a.run_options().symmetric, b.run_options().symmetric, c.run_options().symmetric) == (True, False, False)
    with pytest.raises(BadInput, match="symmetric"):
        read_manifest(write_csv(tmp_path / "bad.csv", "video,output,symmetric", "a.mp4,t/a,maybe"))


def test_json_manifest_takes_a_list_or_clips_with_nested_options(tmp_path):
    doc = {"clips": [{"video": "a.mp4", "output": "t/a", "options": {"rig": "legacy", "fps_out": 30}},
                     {"video": "b.mp4", "output": "t/b", "smoothing": 0}]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    a, b = read_manifest(tmp_path / "m.json")
    assert a.options == {"rig": "legacy", "fps_out": 30.0} and b.options == {"smoothing": 0.0}
    assert a.video == tmp_path / "a.mp4" and "clip 1" in a.where
    (tmp_path / "l.json").write_text(json.dumps(doc["clips"]))
    assert [j.output for j in read_manifest(tmp_path / "l.json")] == [tmp_path / "t/a", tmp_path / "t/b"]


@pytest.mark.parametrize("header,row,message", [
    ("video,output,camera,speed", "a.mp4,t/a,1,2", "unknown column(s): 'camera', 'speed'"),
    ("video,rig", "a.mp4,mh4", "no output"),
    ("video,output,fps_out", "a.mp4,t/a,fast", "fps_out 'fast' is not a number"),
    ("video,output,rig", "a.mp4,t/a,mh5", "unknown rig 'mh5'"),
    ("video,output,fps_out", "a.mp4,t/a,5000", "--fps-out 5000.0 is out of range"),
    ("video,arkit,output", "a.mp4,a.csv,t/a", "line 2: both video and arkit given"),     # one source a row
    ("video,arkit,output", ",,t/a", "line 2: no video or arkit"),
    ("arkit,output,actor", "a.csv,t/a,hero.json", "line 2: --arkit cannot be combined with --actor"),
    ("arkit,output,arkit_fps", "a.csv,t/a,0", "line 2: --arkit-fps 0 is out of range"),
])
def test_manifest_errors_name_the_problem(tmp_path, header, row, message):
    with pytest.raises(BadInput) as info:
        read_manifest(write_csv(tmp_path / "m.csv", header, row))
    assert message in info.value.message and "m.csv" in info.value.message
    if "unknown column" in message:
        assert "video" in info.value.hint and "fps_out" in info.value.hint   # the known columns


def test_two_rows_writing_the_same_take_are_refused(tmp_path):
    with pytest.raises(BadInput, match="same take"):
        read_manifest(write_csv(tmp_path / "m.csv", "video,output", "a.mp4,takes/x", "b.mp4,takes/../takes/x"))


def test_unknown_json_keys_and_misplaced_files_are_refused(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps([{"video": "a.mp4", "output": "t", "options": {"colour": 1}}]))
    with pytest.raises(BadInput, match="'colour'"):
        read_manifest(tmp_path / "m.json")
    (tmp_path / "n.json").write_text(json.dumps({"clips": [], "defaults": {}}))
    with pytest.raises(BadInput, match="defaults"):
        read_manifest(tmp_path / "n.json")


def write_profiles(folder: Path) -> tuple[Path, Path]:
    """An MH4 actor profile and a legacy one (engine.solve.actor), in folder/actors."""
    zeros = np.zeros(len(ARKIT_NAMES))
    return (save_profile(ActorProfile("hero", "mh4", zeros, zeros), folder / "actors" / "hero.json"),
            save_profile(ActorProfile("old", "legacy", zeros, zeros), folder / "actors" / "old.json"))


def test_actor_column_is_a_profile_path_relative_to_the_manifest(tmp_path):
    folder = tmp_path / "shoot"
    hero, old = write_profiles(folder)
    manifest = write_csv(folder / "m.csv", "video,output,actor,rig",
                         "a.mp4,takes/a,actors/hero.json,", "b.mp4,takes/b,,", f"c.mp4,takes/c,{old},legacy")
    a, b, c = read_manifest(manifest)
    assert (a.actor, a.run_options().solve.actor, a.to_json()["actor"]) == (hero, hero, str(hero))
    assert b.actor is None and b.run_options().solve == RunOptions().solve and b.to_json()["actor"] is None
    assert (c.run_options().solve.actor, c.run_options().rig) == (old, "legacy")
    doc = [{"video": "a.mp4", "output": "t/a", "actor": "actors/hero.json", "options": {"smoothing": 4}}]
    (folder / "m.json").write_text(json.dumps(doc))
    (job,) = read_manifest(folder / "m.json")
    assert job.run_options().solve.actor == hero and job.run_options().solve.smoothing_cutoff_hz == 4.0
    (folder / "n.json").write_text(json.dumps([{"video": "a.mp4", "output": "t", "options": {"actor": "x.json"}}]))
    with pytest.raises(BadInput, match="'actor' belongs beside \"video\""):
        read_manifest(folder / "n.json")


def test_resume_notes_a_take_made_with_another_actor_profile(tmp_path):
    from engine.hashing import file_sha256
    from engine.scale.runner import _option_drift

    folder = tmp_path / "shoot"
    hero, _ = write_profiles(folder)
    (job,) = read_manifest(write_csv(folder / "m.csv", "video,output,actor", "a.mp4,takes/a,actors/hero.json"))
    made = {"options": RunOptions().to_json(), "actor": {"sha256": file_sha256(hero)}}
    assert _option_drift(job, made) == ""
    assert "actor" in _option_drift(job, dict(made, actor=None)) and "--force" in _option_drift(job, dict(made, actor=None))


@pytest.mark.parametrize("row,message", [
    ("a.mp4,t/a,actors/nobody.json,", "line 2: actor profile not found"),
    ("a.mp4,t/a,actors/old.json,", "line 2: actor profile old.json was made for the legacy rig; this run targets mh4"),
    ("a.mp4,t/a,actors/hero.json,legacy",
     "line 2: actor profile hero.json was made for the mh4 rig; this run targets legacy"),
    ("a.mp4,t/a,actors/broken.json,", "line 2: actor profile"),
])
def test_a_bad_actor_profile_fails_the_manifest_before_any_clip(tmp_path, row, message):
    write_profiles(tmp_path)
    (tmp_path / "actors" / "broken.json").write_text("{\"format\": \"faceretarget-actor/1\", \"neutral\": ")
    with pytest.raises(BadInput) as info:
        read_manifest(write_csv(tmp_path / "m.csv", "video,output,actor,rig", row))
    assert message in info.value.message and "m.csv" in info.value.message and info.value.hint


def test_arkit_column_names_a_live_link_csv_in_place_of_the_video(tmp_path):
    folder = tmp_path / "shoot"
    folder.mkdir()
    manifest = write_csv(folder / "m.csv", "video,arkit,output,arkit_fps,smoothing",
                         ",phone/a.csv,takes/a,60,0", "b.mp4,,takes/b,,")
    a, b = read_manifest(manifest)
    assert (a.video, a.arkit, a.source) == (None, folder / "phone/a.csv", folder / "phone/a.csv")
    options = a.run_options()
    assert (options.video, options.arkit, options.arkit_fps, options.solve.smoothing_cutoff_hz) == \
        (None, folder / "phone/a.csv", 60.0, 0.0)
    assert a.to_json()["arkit"] == str(folder / "phone/a.csv") and a.to_json()["video"] is None
    assert (b.source, b.arkit, b.run_options().arkit) == (folder / "b.mp4", None, None)
    result = clip_result(a, "done")
    assert (result["source"], result["video"], result["arkit"]) == (str(a.arkit), None, str(a.arkit))
    (folder / "m.json").write_text(json.dumps([{"arkit": "phone/c.csv", "output": "takes/c"}]))
    assert read_manifest(folder / "m.json")[0].arkit == folder / "phone/c.csv"


def test_a_batch_of_live_link_recordings(tmp_path):
    """ARKit rows run without the tracker: one take per recording, a broken one isolated and named."""
    from engine.export.livelink import write_livelink_csv

    times = np.arange(40) / 30.0
    arkit = np.clip(np.sin(np.outer(times, np.arange(1, 53))), 0, 1)
    write_livelink_csv(tmp_path / "good.csv", times, arkit)
    (tmp_path / "broken.csv").write_text("Timecode,JawOpen\n00:00:00:00.000,0.5\n")
    manifest = write_csv(tmp_path / "m.csv", "arkit,output", "good.csv,takes/good", "broken.csv,takes/broken")
    report = run_batch(BatchOptions(manifest=manifest, workers=1), Reporter())
    by_name = {Path(c["source"]).name: c for c in report.clips}
    assert by_name["good.csv"]["status"] == "done" and by_name["good.csv"]["frames"] == 40
    assert by_name["broken.csv"]["status"] == "failed" and "missing: eyeBlinkLeft" in by_name["broken.csv"]["reason"]
    assert "| 2 | broken.csv | FAILED |" in format_table(report)
    alone = run(RunOptions(arkit=tmp_path / "good.csv", out=tmp_path / "alone"), Reporter())
    for name in ("arkit.csv", "faceboard.csv", "rigmapper.csv"):
        assert (alone / name).read_bytes() == (tmp_path / "takes" / "good" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "takes").iterdir()) == ["good"]


def test_cli_reports_a_bad_manifest_and_a_failed_clip_by_exit_code(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", "video,output,colour", "a.mp4,t,red")
    proc = subprocess.run([sys.executable, "-m", "engine", "batch", str(bad), "--progress", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert json.loads(proc.stdout.strip().splitlines()[-1])["message"].endswith("unknown column(s): 'colour'")

    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 100)
    manifest = write_csv(tmp_path / "junk.csv", "video,output", "junk.mp4,takes/junk")
    proc = subprocess.run([sys.executable, "-m", "engine", "batch", str(manifest), "--workers", "1"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == EXIT_CLIPS_FAILED, proc.stderr
    assert "| 1 | junk.mp4 | FAILED |" in proc.stdout and "0 done, 0 skipped, 1 failed" in proc.stdout
    report = json.loads((tmp_path / "junk.report.json").read_text())
    assert report["counts"] == {"done": 0, "skipped": 0, "failed": 1}
    assert "cannot read junk.mp4" in report["clips"][0]["reason"]
    assert not (tmp_path / "takes").exists() or not any((tmp_path / "takes").iterdir())


def test_the_preview_column_and_flag_ask_for_a_preview_of_video_clips(tmp_path):
    manifest = write_csv(tmp_path / "m.csv", "video,output,preview", "a.mp4,ta,yes", "b.mp4,tb,")
    a, b = read_manifest(manifest)
    assert a.run_options().preview and not b.run_options().preview
    with pytest.raises(BadInput, match="preview 'maybe'"):
        read_manifest(write_csv(tmp_path / "bad.csv", "video,output,preview", "a.mp4,ta,maybe"))
    jobs, listed_by = batch_jobs(BatchOptions(manifest=manifest, preview=True,
                                              preview_options=PreviewOptions(width=320, height=180)))
    assert listed_by == manifest and all(job.run_options().preview for job in jobs)
    assert jobs[1].run_options().preview_options.width == 320


@pytest.mark.shared
def test_a_folder_of_videos_is_a_batch_with_a_preview_per_take(shared_data, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    frames = read_frames(shared_data / "video" / "faces" / "driving_d12.mp4", 20)
    write_video(clips / "short.mp4", frames)
    (clips / "notes.txt").write_text("not a video: left out")
    takes = tmp_path / "takes"
    proc = subprocess.run([sys.executable, "-m", "engine", "batch", str(clips), "--out", str(takes), "--preview",
                           "--size", "320x180", "--workers", "1"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = finished_take(takes / "short")
    assert meta is not None and meta["files"]["preview"] == "preview.mp4" and meta["kind"] == "video"
    report = json.loads((takes / "batch.report.json").read_text())
    assert report["counts"] == {"done": 1, "skipped": 0, "failed": 0}
    with pytest.raises(BadInput, match="--out is needed"):
        batch_jobs(BatchOptions(videos=(clips,)))


# --- whole batches ---------------------------------------------------------------------------------------

def make_manifest(folder: Path, shared_data: Path) -> Path:
    """4 clips: 3 shared ones (absolute paths) and a truncated copy (relative path), outputs relative."""
    faces = shared_data / "video" / "faces"
    (folder / "broken.mp4").write_bytes((faces / "driving_d12.mp4").read_bytes()[:CORRUPT_BYTES])
    rows = [f"{faces / (name + '.mp4')},takes/{name}" for name in CLIPS[:2]]
    rows += ["broken.mp4,takes/broken", f"{faces / (CLIPS[2] + '.mp4')},takes/{CLIPS[2]}"]
    return write_csv(folder / "manifest.csv", "video,output", *rows)


def check_first_run(report, folder: Path) -> None:
    by_name = {Path(c["video"]).name: c for c in report.clips}
    assert report.count("done") == 3 and report.count("failed") == 1 and report.count("skipped") == 0
    failed = by_name["broken.mp4"]
    assert failed["status"] == "failed" and "broken.mp4" in failed["reason"] and failed["hint"]
    for name in CLIPS:
        meta = finished_take(folder / "takes" / name)
        assert meta is not None and meta["frame_count"] == by_name[f"{name}.mp4"]["frames"], name
    # Nothing half-written anywhere: no take for the corrupt clip, no temporary folders.
    assert sorted(p.name for p in (folder / "takes").iterdir()) == sorted(CLIPS)
    # Models are loaded once per worker process: each worker warmed up on its first clip only.
    workers = {}
    for clip in report.clips:
        if clip["status"] == "done":
            workers.setdefault(clip["worker"], []).append(clip["warmed_up"])
    assert 1 <= len(workers) <= 2 and all(flags.count(True) <= 1 for flags in workers.values()), workers
    saved = json.loads(report.report_path.read_text())
    assert saved["counts"] == {"done": 3, "skipped": 0, "failed": 1}
    assert [c["row"] for c in saved["clips"]] == [1, 2, 3, 4]
    table = format_table(report)
    assert "| 3 | broken.mp4 | FAILED |" in table and "3 done, 0 skipped, 1 failed" in table


def check_second_run(report, folder: Path, stamps: dict[str, int]) -> None:
    statuses = {Path(c["video"]).name: c["status"] for c in report.clips}
    assert statuses == {"driving_d0.mp4": "skipped", "driving_d12.mp4": "skipped",
                        "driving_d11.mp4": "skipped", "broken.mp4": "failed"}
    assert {name: (folder / "takes" / name / "take.json").stat().st_mtime_ns for name in CLIPS} == stamps


@pytest.mark.slow
def test_local_pool_isolates_the_corrupt_clip_and_resumes(shared_data, tmp_path):
    manifest = make_manifest(tmp_path, shared_data)
    first = run_batch(BatchOptions(manifest=manifest, workers=2), Reporter())
    check_first_run(first, tmp_path)
    assert first.executor == "local process pool (2 workers)"

    # A batch take is exactly what `run` writes for the same clip (a fresh tracker graph per clip).
    alone = run(RunOptions(video=shared_data / "video" / "faces" / "driving_d12.mp4", out=tmp_path / "alone"),
                Reporter())
    for name in ("arkit.csv", "faceboard.csv", "rigmapper.csv"):
        assert (alone / name).read_bytes() == (tmp_path / "takes" / "driving_d12" / name).read_bytes(), name

    stamps = {name: (tmp_path / "takes" / name / "take.json").stat().st_mtime_ns for name in CLIPS}
    reporter = Reporter()
    second = run_batch(BatchOptions(manifest=manifest, workers=2), reporter)
    check_second_run(second, tmp_path, stamps)
    assert [w["code"] for w in reporter.warnings] == ["clip_failed"]

    # A finished take made with other options is still skipped, and the report says so; a take missing
    # one of its files (deleted by hand) is made again in place.
    text = manifest.read_text().replace("takes/driving_d12\n", "takes/driving_d12,legacy\n")
    manifest.write_text(text.replace("video,output\n", "video,output,rig\n"))
    (tmp_path / "takes" / "driving_d0" / "rigmapper.csv").unlink()
    third = run_batch(BatchOptions(manifest=manifest, workers=1), Reporter())
    by_name = {Path(c["video"]).name: c for c in third.clips}
    d12 = by_name["driving_d12.mp4"]
    assert d12["status"] == "skipped" and "rig 'mh4' -> 'legacy'" in d12["note"] and "--force" in d12["note"]
    assert by_name["driving_d0.mp4"]["status"] == "done"
    assert finished_take(tmp_path / "takes" / "driving_d0") is not None


def ray_or_skip():
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is not installed: `make test` installs requirements-ray.txt")
        pytest.skip("ray is not installed (pip install -r requirements-ray.txt)")
    return ray


@pytest.mark.slow
def test_ray_local_mode_runs_each_clip_as_a_task_and_resumes(shared_data, tmp_path):
    ray = ray_or_skip()
    manifest = make_manifest(tmp_path, shared_data)
    first = run_batch(BatchOptions(manifest=manifest, workers=2, ray="local"), Reporter())
    assert not ray.is_initialized()                     # the instance the batch started is shut down
    assert first.executor == "ray (local instance, 2 CPUs)"
    check_first_run(first, tmp_path)
    stamps = {name: (tmp_path / "takes" / name / "take.json").stat().st_mtime_ns for name in CLIPS}
    second = run_batch(BatchOptions(manifest=manifest, workers=2, ray="local"), Reporter())
    check_second_run(second, tmp_path, stamps)


def crash_on_demand(job: ClipJob) -> dict:
    """A worker body for the crash test: clips named crash* kill their process like a native crash."""
    if job.video.name.startswith("crash"):
        os._exit(139)
    return clip_result(job, "done")


def test_a_worker_that_dies_fails_only_its_own_clip(tmp_path):
    jobs = [ClipJob(i, tmp_path / name, tmp_path / f"t{i}") for i, name in
            enumerate(["a.mp4", "crash.mp4", "b.mp4", "c.mp4"], start=1)]
    results: list[dict] = []
    _run_locally(jobs, 2, results.append, crash_on_demand)
    status = {Path(r["video"]).name: r["status"] for r in results}
    assert status == {"a.mp4": "done", "crash.mp4": "failed", "b.mp4": "done", "c.mp4": "done"}
    crashed = next(r for r in results if r["status"] == "failed")
    assert "worker process died" in crashed["reason"] and crashed["error"] == "WorkerDied"


def test_clip_job_is_picklable_for_workers(tmp_path):
    import pickle

    job = ClipJob(1, tmp_path / "a.mp4", tmp_path / "t", options={"rig": "legacy"}, where="m.csv, line 2",
                  actor=tmp_path / "hero.json")
    assert pickle.loads(pickle.dumps(job)) == job
