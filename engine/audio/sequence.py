"""Sequence alignment of the words heard in a recording to its script's words, safe with repeated lines.

difflib alone takes the longest common block first; where a script repeats lines (a bark said many times,
a scene played twice), that block can land on the wrong repetition and drag everything around it along.
So, as long-text aligners do, the alignment is made in two steps: word trigrams shared by the two
sequences anchor a monotone chain (the longest chain increasing in both, found in O(k log k) for k shared
trigram occurrences), then difflib matches the words between consecutive anchors, where only nearby text
competes.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from difflib import SequenceMatcher

NGRAM = 3


def matching_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """Blocks (i, j, n) with a[i:i + n] == b[j:j + n], increasing in both i and j."""
    blocks: list[tuple[int, int, int]] = []
    done_a = done_b = 0
    for i, j in [*_anchor_chain(a, b), (len(a), len(b))]:
        for bi, bj, n in SequenceMatcher(a=a[done_a:i], b=b[done_b:j], autojunk=False).get_matching_blocks():
            if n:
                blocks.append((done_a + bi, done_b + bj, n))
        if i < len(a):
            blocks.append((i, j, 1))
        done_a, done_b = i + 1, j + 1
    return _merged(blocks)


def _anchor_chain(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """(i, j) pairs, strictly increasing in both, where the trigram starting at a[i] equals the one at b[j];
    the longest such chain."""
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(a) - NGRAM + 1):
        where[tuple(a[i:i + NGRAM])].append(i)
    # by j, and for one j by decreasing i, so that a chain increasing in i takes at most one pair per j
    pairs = sorted(((j, i) for j in range(len(b) - NGRAM + 1) for i in where.get(tuple(b[j:j + NGRAM]), ())),
                   key=lambda p: (p[0], -p[1]))
    tails: list[int] = []          # smallest i ending a chain of each length
    tail_pair: list[int] = []      # ... and the pair it is
    previous = [-1] * len(pairs)
    for k, (_, i) in enumerate(pairs):
        length = bisect_left(tails, i)
        if length == len(tails):
            tails.append(i)
            tail_pair.append(k)
        else:
            tails[length], tail_pair[length] = i, k
        previous[k] = tail_pair[length - 1] if length else -1
    chain, k = [], tail_pair[-1] if tail_pair else -1
    while k >= 0:
        chain.append((pairs[k][1], pairs[k][0]))
        k = previous[k]
    return chain[::-1]


def _merged(blocks: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + n)
        else:
            out.append((i, j, n))
    return out
