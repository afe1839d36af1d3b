"""Numbers to text, fast, for the take's CSV files.

A take's CSV files hold tens of millions of numbers for a long recording (the RigMapper file alone is one
line per curve per frame). Formatting them one `%` at a time in Python was most of an audio take's run
time, so a block of rows is formatted column by column: a column that holds one value throughout the
block (most controls of an audio-only take, every control the video did not move) is formatted once and
written into the block's line template, any other with one list comprehension. The text is the same,
byte for byte, as `fmt % value` for every value.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK_ROWS = 4096     # rows formatted at a time: the text of a block, not of a whole take, is in memory
FIELD = "%s"


def row_blocks(count: int) -> list[slice]:
    """Slices of at most BLOCK_ROWS rows covering `count` rows."""
    return [slice(a, a + BLOCK_ROWS) for a in range(0, count, BLOCK_ROWS)]


def formatted_columns(values: np.ndarray, fmt: str) -> list[str | list[str]]:
    """`fmt % v` for every value of the 2-D `values`, per column: one string for a column that holds one
    value throughout, else the list of its values' texts."""
    values = np.asarray(values, np.float64)
    columns: list[str | list[str]] = []
    for column in values.T:
        bits = np.ascontiguousarray(column).view(np.int64)     # -0.0 and 0.0 print differently
        if len(bits) and (bits == bits[0]).all():
            columns.append(fmt % column[0])
        else:
            columns.append([fmt % v for v in column.tolist()])
    return columns


def csv_lines(columns: list[str | list[str]], rows: int, separator: str = ",") -> str:
    """`rows` lines of `columns` (one string: the same in every line; a list: one per line), each field
    followed by `separator` but the last, each line by a newline."""
    template = separator.join(c.replace("%", "%%") if isinstance(c, str) else FIELD for c in columns) + "\n"
    varying = [c for c in columns if not isinstance(c, str)]
    if not varying:
        return (template % ()) * rows
    return "".join(template % fields for fields in zip(*varying))


class Closing:
    """A context manager that calls `close()` on leaving, `abandon()` when leaving on an exception."""

    def close(self) -> None:
        raise NotImplementedError

    def abandon(self) -> None:
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()


class TextFile(Closing):
    """A file written block by block (`write` in the subclasses)."""

    def __init__(self, path: str | Path, **open_args):
        self.handle = open(path, "w", **open_args)

    def close(self) -> None:
        self.handle.close()
