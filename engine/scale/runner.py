"""Run the clips of a manifest: locally on a process pool, or on a Ray cluster, resumably.

- Resume: a clip whose output already holds a complete take (engine.scale.worker.finished_take) is
  skipped; `force` redoes it. A take is only ever renamed into place when whole (TakeWriter), so an
  interrupted batch leaves no take that looks finished.
- Isolation: every clip runs in a worker process and reports its own outcome; a clip that fails (bad
  file, no face, an engine bug) is recorded with its reason and the batch goes on. A local worker that
  dies outright (a native crash) breaks the process pool: the clips it had in flight are retried one at a
  time in fresh pools, so the clip that crashes is the one reported.
- Ray: each clip is one Ray task (1 CPU), workers are reused across tasks and warm up once
  (engine.scale.worker). The engine must be installed on every node, and the manifest's paths must be
  visible to all of them (a shared file system): takes are written where the manifest says, by the node
  that runs the clip.
- Report: a JSON file with every clip's outcome, and a table printed at the end.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

import engine
from engine.errors import EXIT_CLIPS_FAILED, BadInput, EngineError
from engine.export.beside import stop_now
from engine.hashing import file_sha256
from engine.protocol import Reporter
from engine.media.files import check_output_file
from engine.scale.manifest import ClipJob, jobs_from_videos, read_manifest
from engine.config.batch import BatchOptions
from engine.scale.worker import clip_result, finished_take, init_worker, process_clip

log = logging.getLogger("faceretarget.batch")
STAGE = "batch"
REPORT_FORMAT = "faceretarget-batch-report/1"
RAY_LOCAL = "local"


class ClipsFailed(EngineError):
    exit_code = EXIT_CLIPS_FAILED


@dataclass
class BatchReport:
    manifest: Path
    executor: str
    clips: list[dict] = field(default_factory=list)
    wall_s: float = 0.0
    report_path: Path | None = None

    def count(self, status: str) -> int:
        return sum(c["status"] == status for c in self.clips)

    @property
    def failed(self) -> list[dict]:
        return [c for c in self.clips if c["status"] == "failed"]

    def to_json(self) -> dict:
        return {"format": REPORT_FORMAT, "manifest": str(self.manifest), "executor": self.executor,
                "engine_version": engine.__version__, "wall_s": round(self.wall_s, 3),
                "counts": {s: self.count(s) for s in ("done", "skipped", "failed")},
                "clips": sorted(self.clips, key=lambda c: c["row"])}


def default_report_path(manifest: Path) -> Path:
    """<manifest>.report.json beside a manifest; batch.report.json inside the takes' folder of a batch of videos."""
    manifest = Path(manifest).absolute()
    if manifest.is_dir():
        return manifest / "batch.report.json"
    return manifest.with_name(f"{manifest.stem}.report.json")


def batch_jobs(options: BatchOptions) -> tuple[list[ClipJob], Path]:
    """The clips to run, and what lists them (the manifest, or the takes' folder of a batch of videos)."""
    if options.manifest is not None and options.videos:
        raise BadInput("give a manifest or videos, not both")
    if options.manifest is not None:
        jobs, listed_by = read_manifest(options.manifest), Path(options.manifest).absolute()
    elif options.videos:
        if options.out is None:
            raise BadInput("--out is needed with videos", "the folder each video's take goes into")
        Path(options.out).mkdir(parents=True, exist_ok=True)
        jobs = jobs_from_videos(options.videos, options.out, {"rig": options.rig})
        listed_by = Path(options.out).absolute()
    else:
        raise BadInput("no manifest or videos given")
    # `--preview` asks it of every video clip (a manifest may also ask it per row); the look is the batch's.
    return [dataclasses.replace(job, preview_options=options.preview_options,
                                options={**job.options, "preview": True} if options.preview and job.video else job.options)
            for job in jobs], listed_by


def run_batch(options: BatchOptions, reporter: Reporter, table_stream: TextIO | None = None) -> BatchReport:
    """Run every clip of options.manifest; write the JSON report and print the table. Clip failures are in
    the report (`BatchReport.failed`); this raises only for a bad manifest or options."""
    if options.workers is not None and options.workers < 1:
        raise BadInput(f"--workers {options.workers} must be at least 1")
    jobs, listed_by = batch_jobs(options)
    if options.report:
        check_output_file(options.report, (listed_by,), "report")
    report_path = Path(options.report).absolute() if options.report else default_report_path(listed_by)
    started = time.perf_counter()
    total = len(jobs)
    results: list[dict] = []
    todo: list[ClipJob] = []
    for job in jobs:
        meta = finished_take(job.output)
        if meta is not None and not options.force:
            results.append(_skipped(job, meta))
        else:
            # A take folder to replace: forced, or one whose take.json is there but whose files are not
            # all (removed by hand); TakeWriter still refuses any folder that is not a take.
            replace_take = options.force or (Path(job.output) / "take.json").is_file()
            todo.append(dataclasses.replace(job, overwrite=replace_take))
    # Overall progress: events with --progress json; for a person, one log line per finished clip
    # (a progress bar would be torn by those lines).
    bar = options.progress == "json"
    if bar:
        reporter.progress(STAGE, len(results), total)
    if results:
        log.info("%d of %d clips already have a complete take: skipped", len(results), total)

    def finished(result: dict) -> None:
        results.append(result)
        if result["status"] == "failed":
            reporter.warning("clip_failed", f"[{len(results)}/{total}] {Path(result['source']).name} failed: "
                             f"{result['reason']}", row=result["row"], video=result["video"],
                             source=result["source"], reason=result["reason"], hint=result.get("hint"))
        else:
            log.info("[%d/%d] %s %s -> %s (%.1f s)", len(results), total, result["status"],
                     Path(result["source"]).name, result["output"], result["seconds"])
        if bar:
            reporter.progress(STAGE, len(results), total)

    workers = options.workers or max(1, os.cpu_count() or 1)
    executor = "nothing to run"
    try:
        if todo and options.ray:
            executor = f"ray ({options.ray})"
            executor = _run_on_ray(todo, options, finished)
        elif todo:
            workers = min(workers, len(todo))
            executor = f"local process pool ({workers} worker{'s' if workers > 1 else ''})"
            _run_locally(todo, workers, finished)
    except BaseException:   # cancelled: still say what finished (the next run resumes from there)
        write_report(BatchReport(listed_by, f"{executor}, interrupted", results,
                                 time.perf_counter() - started, report_path))
        raise
    report = BatchReport(listed_by, executor, results, time.perf_counter() - started,
                         report_path)
    _check_versions(report, reporter)
    write_report(report)
    print_table(report, table_stream)
    return report


def _skipped(job: ClipJob, meta: dict) -> dict:
    note = _option_drift(job, meta)
    return clip_result(job, "skipped", frames=meta.get("frame_count"),
                       reason=None, note=("take already complete" + (f"; {note}" if note else "")))


def _option_drift(job: ClipJob, meta: dict) -> str:
    """Which of the row's options differ from those the existing take was made with."""
    made = meta.get("options") or {}
    wanted = job.run_options()
    pairs = {"rig": (made.get("rig"), wanted.rig), "fps_out": (made.get("fps_out"), wanted.fps_out),
             "neutral_time": ((made.get("solve") or {}).get("neutral_time"), wanted.solve.neutral_time),
             "smoothing": ((made.get("solve") or {}).get("smoothing_cutoff_hz"), wanted.solve.smoothing_cutoff_hz),
             "actor": ((meta.get("actor") or {}).get("sha256"),
                       file_sha256(wanted.solve.actor) if wanted.solve.actor and Path(wanted.solve.actor).is_file()
                       else None)}
    changed = [f"{k} {a!r} -> {b!r}" for k, (a, b) in pairs.items() if a != b]
    return f"made with other options ({', '.join(changed)}); pass --force to redo it" if changed else ""


# --- local process pool --------------------------------------------------------------------------------

def _pool(workers: int, warm: bool) -> ProcessPoolExecutor:
    # spawn: a clean interpreter per worker (no fork of a parent that runs threads).
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker, initargs=(warm,))


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: its workers get SIGTERM, which cancels their clip and removes its temp folder."""
    stop_now(pool, join_s=10)


def _run_locally(jobs: list[ClipJob], workers: int, finished: Callable[[dict], None],
                 work: Callable[[ClipJob], dict] = process_clip) -> None:
    crashed = _run_pool(jobs, workers, finished, work)
    for job in crashed:   # one at a time, so a crash is the crashing clip's own
        again = _run_pool([job], 1, finished, work)
        for lost in again:
            finished(clip_result(lost, "failed", reason="the worker process died while running this clip "
                                 "(a crash in native code, or it was killed, e.g. out of memory)",
                                 hint="run this clip alone with `faceretarget-engine run` to see the crash",
                                 error="WorkerDied"))


def _run_pool(jobs: list[ClipJob], workers: int, finished: Callable[[dict], None],
              work: Callable[[ClipJob], dict]) -> list[ClipJob]:
    """Run `work(job)` for every job on a fresh pool; return the jobs lost to a broken pool (a worker died)."""
    pool = _pool(workers, warm=work is process_clip)
    lost: list[ClipJob] = []
    try:
        futures: dict[Future, ClipJob] = {pool.submit(work, job): job for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    finished(future.result())
                except BrokenProcessPool:
                    lost.append(futures[future])
        pool.shutdown(wait=True)
    except BaseException:
        _terminate(pool)
        raise
    return sorted(lost, key=lambda j: j.row)


# --- Ray ------------------------------------------------------------------------------------------------

def _import_ray():
    try:
        import ray
    except ImportError:
        raise BadInput("--ray needs the `ray` package, which is not installed",
                       "pip install -r requirements-ray.txt (or: pip install ray)") from None
    return ray


def _run_on_ray(jobs: list[ClipJob], options: BatchOptions, finished: Callable[[dict], None]) -> str:
    ray = _import_ray()
    started_here = False
    if not ray.is_initialized():
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            if options.ray == RAY_LOCAL:
                ray.init(num_cpus=options.workers or os.cpu_count() or 1, **kwargs)
            else:
                ray.init(address=options.ray, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BadInput(f"cannot connect to the Ray cluster at {options.ray}: {exc}",
                           "start it with `ray start --head` and pass its address (e.g. auto, host:6379 or "
                           "ray://host:10001), or --ray local for a Ray instance on this machine") from exc
        started_here = True
    cpus = int(ray.cluster_resources().get("CPU", 0))
    executor = f"ray ({'local instance' if options.ray == RAY_LOCAL else options.ray}, {cpus} CPUs)"
    task = ray.remote(num_cpus=1, max_retries=1)(process_clip)
    limit = options.workers if options.workers and options.ray != RAY_LOCAL else len(jobs)
    queue = list(jobs)
    running: dict = {}
    try:
        while queue or running:
            while queue and len(running) < limit:
                job = queue.pop(0)
                running[task.remote(job)] = job
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                job = running.pop(ref)
                try:
                    finished(ray.get(ref))
                except ray.exceptions.RayError as exc:   # the task itself died (worker crash, node lost)
                    finished(clip_result(job, "failed", reason=f"the Ray task failed: {type(exc).__name__}: "
                                         f"{str(exc).splitlines()[0] if str(exc) else ''}",
                                         hint="see the Ray logs of the worker that ran it", error=type(exc).__name__))
    except BaseException:
        for ref in running:   # not forced: the task gets KeyboardInterrupt and removes its temp folder
            ray.cancel(ref, force=False)
        raise
    finally:
        if started_here:
            ray.shutdown()
    return executor


# --- report ---------------------------------------------------------------------------------------------

def _check_versions(report: BatchReport, reporter: Reporter) -> None:
    others = {c["engine_version"] for c in report.clips if c["status"] != "skipped"} - {engine.__version__}
    if others:
        reporter.warning("engine_version_mismatch", f"some workers run engine {', '.join(sorted(others))}, "
                         f"this one {engine.__version__}: install the same version on every node")


def write_report(report: BatchReport) -> None:
    path = report.report_path or default_report_path(report.manifest)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(report.to_json(), indent=1) + "\n")
    os.replace(tmp, path)
    report.report_path = path


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def format_table(report: BatchReport) -> str:
    lines = ["| # | source | status | frames | seconds | take / reason |", "|---:|---|---|---:|---:|---|"]
    for c in sorted(report.clips, key=lambda c: c["row"]):
        detail = c["output"] if c["status"] != "failed" else c["reason"]
        if c.get("note") and c["status"] == "skipped" and "options" in c["note"]:
            detail = f"{detail} ({c['note']})"
        lines.append(f"| {c['row']} | {_cell(Path(c['source']).name)} | {c['status'].upper() if c['status'] == 'failed' else c['status']} "
                     f"| {'' if c['frames'] is None else c['frames']} | {c['seconds']:.1f} | {_cell(detail)} |")
    lines.append("")
    lines.append(f"{report.count('done')} done, {report.count('skipped')} skipped, {report.count('failed')} failed "
                 f"in {report.wall_s:.1f} s on {report.executor}; report: {report.report_path}")
    return "\n".join(lines)


def print_table(report: BatchReport, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(format_table(report) + "\n")
    stream.flush()


def summary(report: BatchReport) -> dict:
    return {"done": report.count("done"), "skipped": report.count("skipped"), "failed": report.count("failed"),
            "report": str(report.report_path)}


def failures_error(report: BatchReport) -> ClipsFailed:
    names = ", ".join(Path(c["source"]).name for c in report.failed[:5]) + ("..." if len(report.failed) > 5 else "")
    return ClipsFailed(f"{len(report.failed)} of {len(report.clips)} clips failed: {names}",
                       f"see {report.report_path} for each reason; fix them and run the same command again "
                       "(finished takes are skipped)")
