"""`python -m engine` and the `faceretarget-engine` command: the CLI (engine/cli.py), with a Ctrl+C while
it is still loading answered like any cancel (exit 130, one line), not with a traceback from an import."""
import logging
import os
import sys


def entry() -> int:
    try:
        from engine.cli import main   # here, not above: a Ctrl+C during the ~0.5 s of loading is caught
    except KeyboardInterrupt:
        sys.stderr.write("error: cancelled\n")
        return 130
    return main()


def finish(code: int) -> None:
    """Leave without the interpreter's teardown: the take is committed and every file closed, and unloading
    MediaPipe, SciPy and the codecs module by module costs a user ~0.5 s of waiting for nothing."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def command() -> None:
    """The `faceretarget-engine` console script and `python -m engine`."""
    finish(entry())


if __name__ == "__main__":
    command()
