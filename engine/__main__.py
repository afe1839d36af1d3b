"""`python -m engine` and the `faceretarget-engine` command: the CLI (engine/cli.py), with a Ctrl+C while
it is still loading answered like any cancel (exit 130, one line), not with a traceback from an import."""
import os
import signal
import sys


def entry() -> int:
    """Load the CLI, then run it; a Ctrl+C while loading exits 130.

    The Ctrl+C is remembered as well as raised: an import may lose the KeyboardInterrupt (Python 3.11 wraps
    it in a RuntimeError when it lands in a class's __set_name__, and one raised in a finaliser is only
    printed), and the engine must not then go on to run the whole clip."""
    interrupted = []

    def on_ctrl_c(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:   # not where SIGINT is ignored (a background job)
        signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        from engine.cli import main   # here, not above: a Ctrl+C during the ~0.5 s of loading is caught
    except BaseException:
        if not interrupted:
            raise
    finally:
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        sys.stderr.write("error: cancelled\n")
        return 130
    return main()


def finish(code: int) -> None:
    """Leave without the interpreter's teardown: the take is committed and every file closed, and unloading
    MediaPipe, SciPy and the codecs module by module costs a user ~0.5 s of waiting for nothing."""
    import logging   # here, not above: the CLI has loaded it, and at the top it was ~10 ms of import before
                     # entry() could catch a Ctrl+C (one landed there in CI, under load, with a traceback)

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def command() -> None:
    """The `faceretarget-engine` console script and `python -m engine`."""
    finish(entry())


if __name__ == "__main__":
    command()
