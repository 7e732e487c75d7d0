"""The data structure behind :class:`~aura_sdk.live.ClockMapper`'s O(k log n) refit.

Read :mod:`._clock` first: it says what is computed. This module only makes it cheap. The
mapper's history is split into *runs*: parts of it, in arrival order, whose device times
never decrease. A :class:`Run` answers the two questions a refit asks, without scanning:

* **the least ``host - device`` among consecutive points** (one skew bucket of this run):
  :class:`RangeMinima`, O(1) per query and, amortised, per point;
* **``min(host - skew * device)`` over the run** (the offset under every point):
  :class:`SlidingHull`, O(log n) per query, O(1) amortised per point added or dropped.

Points are *positions* in the run's lists, oldest first. Dropped points stay in the lists
until a whole number of blocks of them can be cut off at once (:meth:`Run.drop_oldest`);
every structure then shifts its positions down by the same amount.
"""

from __future__ import annotations

import math
from array import array

__all__ = ["BLOCK", "RangeMinima", "Run", "SlidingHull"]

BLOCK = 16  # points per block of the range-minimum table
_COMPACT_AFTER = 256  # dropped points a run keeps before it cuts them off


class Run:
    """Points of the history whose device times never decrease, oldest first.

    Attributes:
        ds, hs, gs: device time, host time and ``host - device`` of each position.
        ids: each position's point index in the mapper (its arrival order).
        head: position of the oldest point still in the history.
        minima: range minima of ``gs``: a bucket's earliest arrival in this run.
        hull: lower hull of the points in the history: their least ``host - skew * device``.
    """

    __slots__ = ("ds", "gs", "head", "hs", "hull", "ids", "minima")

    def __init__(self) -> None:
        self.ds: list[float] = []
        self.hs: list[float] = []
        self.gs: list[float] = []
        self.ids = array("q")
        self.head = 0
        self.minima = RangeMinima(self.gs)
        self.hull = SlidingHull(self.ds, self.hs)

    def append(self, d: float, h: float, point: int) -> None:
        """Add the newest point (not earlier than the run's last): O(1) amortised."""
        p = len(self.ds)
        self.ds.append(d)
        self.hs.append(h)
        self.gs.append(h - d)
        self.ids.append(point)
        self.minima.push()
        self.hull.push(p)

    def drop_oldest(self) -> bool:
        """Remove the oldest point from the history; True if the run is now empty."""
        oldest = self.head
        self.head += 1
        self.hull.drop(oldest)
        if self.head > _COMPACT_AFTER and 2 * self.head > len(self.ds):
            self._compact()
        return self.head == len(self.ds)

    def _compact(self) -> None:
        """Cut off the dropped points, a whole number of blocks of them."""
        cut = self.head - self.head % BLOCK
        del self.ds[:cut], self.hs[:cut], self.gs[:cut], self.ids[:cut]
        self.minima.compact(cut)
        self.hull.compact(cut)
        self.head -= cut


class RangeMinima:
    """Least value of ``gs`` over any range of positions in O(1), with O(n) memory.

    The positions are cut into blocks of :data:`BLOCK`. Within a block, ``pre[p]`` / ``suf[p]``
    is the offset (in the block) of the least value from the block's start to ``p`` / from
    ``p`` to the block's end; ``suf`` is filled in when the block is complete. Across blocks,
    a sparse table: ``levels[j][k]`` is the position of the least value over the ``2**j``
    complete blocks starting at block ``k``. A range is then the suffix of its first block,
    two overlapping power-of-two spans of whole blocks, and the prefix of its last block.
    Ties go to the earlier position throughout.

    Args:
        gs: the values; the owner appends to it, then calls :meth:`push`.
    """

    __slots__ = ("gs", "levels", "pre", "suf")

    def __init__(self, gs: list[float]) -> None:
        self.gs = gs
        self.pre: list[int] = []
        self.suf: list[int] = []
        self.levels: list[list[int]] = [[]]

    def push(self) -> None:
        """Take in the value just appended to ``gs``: O(1) amortised."""
        gs = self.gs
        p = len(gs) - 1
        off = p % BLOCK
        start = p - off
        if off == 0:
            self.pre.append(0)
        else:
            best = self.pre[-1]
            self.pre.append(best if gs[start + best] <= gs[p] else off)
        self.suf.append(off)
        if off == BLOCK - 1:
            self._complete_block(start)

    def _complete_block(self, start: int) -> None:
        """The block at ``start`` is full: its suffix minima, and the sparse table's entries
        that end at it (one per level)."""
        gs, suf = self.gs, self.suf
        best = BLOCK - 1
        for r in range(start + BLOCK - 2, start - 1, -1):
            if gs[r] <= gs[start + best]:
                best = r - start
            suf[r] = best
        k = start // BLOCK
        levels = self.levels
        below = levels[0]
        below.append(start + suf[start])
        j, width = 1, 1
        while 2 * width <= k + 1:  # level j's entry covering blocks k - 2 * width + 1 .. k
            if j == len(levels):
                levels.append([])
            x, y = below[k - 2 * width + 1], below[k - width + 1]
            levels[j].append(x if gs[x] <= gs[y] else y)
            below = levels[j]
            j, width = j + 1, 2 * width

    def least(self, a: int, z: int) -> int:
        """Position of the least value in ``[a, z)`` (the first on ties): O(1)."""
        gs = self.gs
        first, last = a // BLOCK, (z - 1) // BLOCK
        if first == last:  # within one block (maybe still filling): scan it
            return gs.index(min(gs[a:z]), a, z)
        p = first * BLOCK + self.suf[a]
        if last - first > 1:  # whole blocks in between
            j = (last - first - 1).bit_length() - 1
            level = self.levels[j]
            x, y = level[first + 1], level[last - (1 << j)]
            if gs[y] < gs[x]:
                x = y
            if gs[x] < gs[p]:
                p = x
        q = last * BLOCK + self.pre[z - 1]
        return q if gs[q] < gs[p] else p

    def compact(self, cut: int) -> None:
        """Forget the first ``cut`` positions (a multiple of :data:`BLOCK`)."""
        del self.pre[:cut], self.suf[:cut]
        for j, level in enumerate(self.levels):  # a level shorter than that empties
            self.levels[j] = [p - cut for p in level[cut // BLOCK:]]


class SlidingHull:
    """The lower convex hull of ``(device, host)`` over a sliding window of positions.

    ``min(host - skew * device)`` is attained at a hull vertex, found by binary search: along
    a lower hull the values fall, then rise. The window slides like a queue made of two
    stacks: new points join the *back* hull (monotone chain, left to right: what a push pops
    is gone for good); old points leave the *front* hull, built newest to oldest, which
    records what each insertion popped (``undo_n``, ``undo_pts``) so that dropping its oldest
    point undoes that point's insertion. When the front runs out, every point left is rebuilt
    into a new front and the back empties: each point is rebuilt once, O(1) amortised.

    Args:
        ds, hs: device and host times by position; the owner appends to them.
    """

    __slots__ = ("back", "ds", "front", "hs", "mid", "undo_n", "undo_pts")

    def __init__(self, ds: list[float], hs: list[float]) -> None:
        self.ds, self.hs = ds, hs
        self.front: list[int] = []  # positions from the oldest point up to mid, newest first
        self.undo_n: list[int] = []
        self.undo_pts: list[int] = []
        self.back: list[int] = []  # positions from mid on
        self.mid = 0

    def push(self, p: int) -> None:
        """Add position ``p``, the newest: O(1) amortised."""
        hull, ds, hs = self.back, self.ds, self.hs
        d, h = ds[p], hs[p]
        while len(hull) >= 2:  # keep left turns only
            o, q = hull[-2], hull[-1]
            if (ds[q] - ds[o]) * (h - hs[o]) - (hs[q] - hs[o]) * (d - ds[o]) > 0.0:
                break
            hull.pop()
        hull.append(p)

    def drop(self, oldest: int) -> None:
        """Remove position ``oldest``, the oldest in the window: O(1) amortised."""
        if oldest < self.mid:  # it was the front's last insertion: undo it
            front, undo_pts = self.front, self.undo_pts
            front.pop()
            for _ in range(self.undo_n.pop()):
                front.append(undo_pts.pop())
        else:
            self._rebuild_front(oldest + 1)

    def _rebuild_front(self, head: int) -> None:
        """The front hull of every position from ``head`` on, newest first; empty the back."""
        ds, hs = self.ds, self.hs
        hull: list[int] = []
        undo_n: list[int] = []
        undo_pts: list[int] = []
        for p in range(len(ds) - 1, head - 1, -1):
            d, h = ds[p], hs[p]
            popped = 0
            while len(hull) >= 2:  # right to left, the lower hull turns clockwise
                o, q = hull[-2], hull[-1]
                if (ds[q] - ds[o]) * (h - hs[o]) - (hs[q] - hs[o]) * (d - ds[o]) < 0.0:
                    break
                undo_pts.append(hull.pop())
                popped += 1
            hull.append(p)
            undo_n.append(popped)
        self.front, self.undo_n, self.undo_pts = hull, undo_n, undo_pts
        self.back = []
        self.mid = len(ds)

    def minimum(self, skew: float) -> float:
        """``min(host - skew * device)`` over the window: O(log n)."""
        best = math.inf
        ds, hs = self.ds, self.hs
        for hull in (self.front, self.back):
            a, b = 0, len(hull) - 1
            while a < b:  # along a lower hull the values fall, then rise
                m = (a + b) // 2
                p, q = hull[m], hull[m + 1]
                if hs[q] - skew * ds[q] < hs[p] - skew * ds[p]:
                    a = m + 1
                else:
                    b = m
            for p in hull[max(a - 1, 0):a + 2]:  # rounding can swap nearly equal vertices
                v = hs[p] - skew * ds[p]
                if v < best:
                    best = v
        return best

    def compact(self, cut: int) -> None:
        """Forget the first ``cut`` positions (all of them already dropped)."""
        self.front = [p - cut for p in self.front]
        self.undo_pts = [p - cut for p in self.undo_pts]
        self.back = [p - cut for p in self.back]
        self.mid -= cut
