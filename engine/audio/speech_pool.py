"""Work on the utterances of a long recording spread over the machine's cores.

pocketsphinx holds Python's lock while it decodes, so threads would not run two decoders at once: the
extra cores get worker processes (spawned: a clean interpreter, no fork of a parent that may run threads).
This process works too, so no core waits while the workers start and load their models. Tasks are
top-level functions of one argument; what every task needs (the script, how to listen, the recogniser's
options) is set once per process by `share`.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from engine.export.beside import stop_now

SHARED: dict = {}      # this process's copy of what `share` was given


def share(values: dict) -> None:
    SHARED.clear()
    SHARED.update(values)


class SpeechPool:
    """`map(task, items)` over this process and `processes - 1` workers, results in the items' order."""

    def __init__(self, processes: int, shared: dict):
        share(shared)
        self.workers = max(processes - 1, 0)
        self.executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=share, initargs=(shared,)) if self.workers else None

    def map(self, task: Callable, count: int, item: Callable[[int], object],
            progress: Callable[[int, int], None]) -> list:
        """[task(item(0)), ..., task(item(count - 1))]; each item is made only when its task starts (the
        audio of a few utterances in memory at a time), `progress(done, count)` after each task."""
        results: list = [None] * count
        for done, (index, value) in enumerate(self._run(task, count, item)):
            results[index] = value
            progress(done + 1, count)
        return results

    def _run(self, task: Callable, count: int, item: Callable[[int], object]) -> Iterator[tuple[int, object]]:
        waiting = list(range(count))
        running: dict[Future, int] = {}
        while waiting or running:
            while self.executor and waiting and len(running) < 2 * self.workers:   # two each: none idles
                index = waiting.pop(0)
                running[self.executor.submit(task, item(index))] = index
            finished = [f for f in running if f.done()]
            if not finished and waiting:
                index = waiting.pop(0)
                yield index, task(item(index))
                continue
            if not finished:
                finished = list(wait(running, return_when=FIRST_COMPLETED).done)
            for future in finished:
                yield running.pop(future), future.result()

    def close(self, cancel: bool = False) -> None:
        if self.executor is None:
            return
        if cancel:
            stop_now(self.executor)
        else:
            self.executor.shutdown()

    def __enter__(self) -> SpeechPool:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(cancel=kind is not None)
