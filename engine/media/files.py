"""Checks every input file gets before it is opened, with the same messages for video and audio, and the
one way media files are opened."""
from __future__ import annotations

import os
import zipfile
from contextlib import contextmanager
from pathlib import Path

from engine.errors import BadInput, MalformedInput

# Container formats that hold a single picture, not a recording.
STILL_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif")


def check_input_file(path: str | Path, kind: str) -> Path:
    """`path` as a Path, or BadInput saying why it cannot be an input `kind` ("video", "audio")."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{kind} not found: {path}", "check the path; it must be an existing file")
    if path.is_dir():
        raise BadInput(f"{kind} path is a folder: {path}", f"give the {kind} file itself")
    if not path.is_file():
        raise BadInput(f"{kind} is not a regular file: {path}", f"give the {kind} file itself, not a device or pipe")
    if path.stat().st_size == 0:
        raise BadInput(f"{kind} file is empty (0 bytes): {path}", "the recording or copy did not finish")
    return path


def open_media(path: str | Path):
    """Open a media file for reading (PyAV). Container metadata that is not UTF-8 (a handler name written
    by a phone or an editor in another locale) is decoded leniently: it never makes a good file unreadable."""
    import av   # here, not above: the checks in this module serve commands (and the Maya tests) without PyAV

    return av.open(str(path), metadata_errors="replace")


# What numpy, pickle and the parsers raise on a malformed file (wrong layout, object arrays, bad zip, text
# where numbers belong): at an input boundary these are the file's fault, said in one line.
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError, zipfile.BadZipFile,
             UnicodeDecodeError)


@contextmanager
def reading_input(path: str | Path, what: str, hint: str = "check the file; re-export it if it is damaged"):
    """Read an input file inside this block: a malformed file becomes BadInput naming it and `what` it
    should be, instead of a traceback."""
    try:
        yield
    except MALFORMED as exc:
        raise MalformedInput(f"{Path(path).name} is not a valid {what}: {exc}", hint) from None


def _same_path(a: Path, b: Path) -> bool:
    """One file under two names (links included), or one name for a file not written yet."""
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.absolute() == b.absolute()


def check_output_file(out: str | Path, inputs: tuple = (), what: str = "output") -> Path:
    """`out` as a Path, or BadInput before any work: it must not be a folder or one of the command's own
    inputs (which writing would destroy), and its folder must be writable."""
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"--out {out} is a folder", f"give the {what} file's name, e.g. {out / ('out' + (out.suffix or '.png'))}")
    if any(_same_path(out, Path(source)) for source in inputs if source is not None):
        raise BadInput(f"--out {out} is one of this command's inputs", "write the result to a new file")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the folder for {out}: {exc.strerror}", "choose a folder you can write to") from None
    if not os.access(parent, os.W_OK):
        raise BadInput(f"cannot write in {parent}", "choose a folder you can write to")
    return out

