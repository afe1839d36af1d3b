"""A stand-in for `python -m engine run ... --progress json`, for the dialog and batch tests.

The "video" (or the `--arkit` CSV) is a small JSON file that says how to behave: {"mode": "ok" | "error" |
"slow" | "silent-fail", "seconds": take length, "delay": seconds per progress step}. `--actor` is recorded
in take.json as the engine does ({"actor": {"path": ...}}), `--arkit` as inputs.arkit, and a missing
profile fails like the engine (exit 2). Like the engine, it prints JSON lines on stdout and logs on stderr,
writes the take under a temporary name and renames it when complete, removes the temporary folder when
cancelled (the line "cancel" on stdin, as engine/cli.py watch_stdin) or terminated, and exits non-zero on
failure. {"terminate": "ignore"} makes it ignore SIGTERM, as a Windows console program never sees the
WM_CLOSE that QProcess.terminate() posts; {"cancel": "ignore"} makes it deaf to stdin.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

STAGES = ("decode", "track", "solve", "export")


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video")
    source.add_argument("--arkit")
    parser.add_argument("--out", required=True)
    parser.add_argument("--audio")
    parser.add_argument("--transcript")
    parser.add_argument("--language")
    parser.add_argument("--rig", default="mh4")
    parser.add_argument("--lip-correction")
    parser.add_argument("--smoothing")
    parser.add_argument("--actor")
    parser.add_argument("--symmetric", action="store_true")
    parser.add_argument("--progress")
    args = parser.parse_args(argv)
    with open(args.video or args.arkit) as handle:
        behaviour = json.load(handle)
    mode = behaviour.get("mode", "ok")
    delay = float(behaviour.get("delay", 0.01))
    out = os.path.abspath(args.out)
    temp = os.path.join(os.path.dirname(out), ".%s.tmp-%d" % (os.path.basename(out), os.getpid()))

    def cleanup(signum, frame):
        shutil.rmtree(temp, ignore_errors=True)
        sys.stderr.write("cancelled (%s)\n" % ("stdin" if signum is None else "signal %d" % signum))
        sys.exit(130)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if behaviour.get("terminate") == "ignore" else cleanup)
    cancel_requested = threading.Event()

    def watch_stdin():
        pending = b""
        while True:
            chunk = os.read(0, 4096)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            if b"cancel" in [line.strip() for line in lines]:
                cancel_requested.set()
                return
    if behaviour.get("cancel") != "ignore":
        threading.Thread(target=watch_stdin, daemon=True).start()

    sys.stderr.write("fake engine starting (%s)\n" % mode)
    if args.actor and not os.path.isfile(args.actor):
        emit({"event": "error", "message": "actor profile not found: %s" % args.actor, "hint": "run calibrate"})
        return 2
    # Leaked environment would show up here: the tests check what the engine was given.
    emit({"event": "log-env", "pythonpath": os.environ.get("PYTHONPATH"), "maya": os.environ.get("MAYA_LOCATION")})
    os.makedirs(temp)
    with open(os.path.join(temp, "pid"), "w") as handle:
        handle.write(str(os.getpid()))
    steps = 400 if mode == "slow" else 4
    for stage in STAGES:
        for done in range(1, steps + 1):
            if cancel_requested.is_set():
                cleanup(None, None)
            emit({"event": "progress", "stage": stage, "done": done, "total": steps})
            time.sleep(delay)
        if mode == "error" and stage == "track":
            shutil.rmtree(temp, ignore_errors=True)
            emit({"event": "error", "message": "no face found in the video", "hint": "check that the face is visible"})
            return 3
        if mode == "silent-fail" and stage == "track":
            shutil.rmtree(temp, ignore_errors=True)
            sys.stderr.write("Traceback: something broke\n")
            return 1
    emit({"event": "warning", "code": "weak_channels", "message": "cheekPuff stays near 0"})
    shutil.rmtree(temp)
    import maya_take_factory
    # Every engine take carries the head's pose: here the actor shakes their head (yaw) from rest.
    shake = maya_take_factory.HeadPose(
        lambda t: maya_take_factory.np.column_stack([15.0 * maya_take_factory.np.sin(3.0 * t), 0 * t, 0 * t]))
    maya_take_factory.write_take(temp, rig=args.rig or "mh4", seconds=float(behaviour.get("seconds", 1.0)),
                                 audio=bool(args.audio), head=shake)
    with open(os.path.join(temp, "take.json")) as handle:
        info = json.load(handle)
    info["actor"] = {"path": os.path.abspath(args.actor)} if args.actor else None
    info.setdefault("tracking", {}).update(source="video", symmetric=args.symmetric)   # as the engine
    info.setdefault("options", {}).setdefault("audio", {})["language"] = args.language or "en"   # as the engine
    if args.arkit:
        info.setdefault("inputs", {})["arkit"] = {"path": os.path.abspath(args.arkit)}
    with open(os.path.join(temp, "take.json"), "w") as handle:
        json.dump(info, handle, indent=1)
    os.rename(temp, out)
    emit({"event": "result", "take": out})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
