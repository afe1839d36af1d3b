"""`python -m engine` and the `faceretarget-engine` command: the CLI (engine/cli.py), with a Ctrl+C while
it is still loading answered like any cancel (exit 130, one line), not with a traceback from an import."""
import sys


def entry() -> int:
    try:
        from engine.cli import main   # here, not above: a Ctrl+C during the ~0.5 s of loading is caught
    except KeyboardInterrupt:
        sys.stderr.write("error: cancelled\n")
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(entry())
