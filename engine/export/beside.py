"""Text files written by a process of their own, beside this one.

Formatting a long take's numbers is Python work, which holds the interpreter's lock. The raw-curve files
(raw_curves.csv and the RigMapper file, one line per curve per frame) are over half of an audio-only
take's export, so such a take hands them to a spawned helper process while this one animates and writes
the other files: on two cores the export takes the time of the larger half.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from engine.export.text_table import Closing

MAX_WAITING = 2      # blocks handed over but not yet written: memory stays flat if the helper falls behind
_TABLES: list = []   # in the helper: the tables it writes


def _open(tables: list[tuple[type, tuple]]) -> None:
    _TABLES[:] = [kind(*arguments) for kind, arguments in tables]


def _write(times: np.ndarray, values: np.ndarray) -> None:
    for table in _TABLES:
        table.write(times, values)


def _close() -> None:
    for table in _TABLES:
        table.close()
    _TABLES.clear()


class BesideTables(Closing):
    """Tables (a class with `write(times, values)` and `close()`, and its constructor's arguments) written in
    one helper process, block by block in the order `write` is called."""

    def __init__(self, tables: list[tuple[type, tuple]]):
        self.executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self.waiting = deque([self.executor.submit(_open, tables)])

    def write(self, times: np.ndarray, values: np.ndarray) -> None:
        self._settle(MAX_WAITING)
        self.waiting.append(self.executor.submit(_write, times, values))

    def _settle(self, keep: int) -> None:
        """Wait until at most `keep` tasks are unfinished; a failure in the helper is raised here."""
        while len(self.waiting) > keep:
            self.waiting.popleft().result()

    def close(self) -> None:
        try:
            self.waiting.append(self.executor.submit(_close))
            self._settle(0)
        finally:
            self.executor.shutdown()

    def abandon(self) -> None:
        """Stop at once (the take is being cancelled or failed): the helper is ended, nothing waited for."""
        stop_now(self.executor)


def stop_now(executor: ProcessPoolExecutor, join_s: float = 0.0) -> None:
    """End a process pool's workers (SIGTERM) without waiting for their tasks; then give each up to `join_s`
    to finish its own cleaning up."""
    processes = list((getattr(executor, "_processes", None) or {}).values())   # no public API for this
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes if join_s > 0 else []:
        process.join(timeout=join_s)
