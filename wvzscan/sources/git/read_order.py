"""The order the history readers ask for objects in: each delta before its base, where that pays.

git's ``cat-file`` keeps the bases it rebuilds on the way to an object in its delta-base cache, and
takes an object it hands out whole out of that cache. In pack order every base comes before its
deltas, so a base is handed out (and dropped) first, and each of its deltas then rebuilds it from
further down the chain. With every delta asked for before its base (each tree of deltas walked in
post-order, the trees themselves in pack order), a base stays cached while its deltas are read and
is handed out last, from the cache. On git/git one ``cat-file`` reading the same objects costs
4.8 s of CPU instead of 10 s (docs/benchmarks.md).

That holds while the bases on the way from a tree's root to each of its objects fit in the cache
together: in post-order the cache holds exactly those. A tree whose path is bigger (a long chain of
large blobs) would be rebuilt from its root over and over, work that grows with the square of its
depth; such a tree keeps the listing's order, which rebuilds each object from its cached base.

The delta bases and sizes come from the listing, that is from the repository, so a forged pack can
make this order slow but never shorter: the result is a permutation of the listing's lines or the
listing itself (each line is in one child list at most, so the walk from the roots emits it once at
most; when the walk emits fewer lines than listed, as with a cycle of forged bases, the listing's
order is kept).
"""

from __future__ import annotations

from array import array

# The readers' delta-base cache (git's default, which is also big enough in this order: 32, 96 and
# 256 MiB read git/git equally fast) and what a tree's path may take of it: the rest is room for
# what trees split between the two readers leave behind.
CACHE_BYTES = 96 << 20
PATH_BUDGET = 64 << 20


def delta_post_order(ids: bytes, bases: bytes, sizes: array[int], line_len: int, budget: int = PATH_BUDGET) -> bytes:
    """``ids`` (``line_len`` bytes a line: an object id and a newline) reordered so that each object
    comes before its delta base, tree by tree, where the tree's path fits ``budget``. ``bases``: each
    line's delta base id, ``line_len - 1`` bytes a line with no separator, all ``0`` for an object
    that is no delta; ``sizes``: each line's object size."""
    width = line_len - 1
    n = len(ids) // line_len if line_len > 1 else 0
    if n < 2 or len(ids) != n * line_len or len(bases) != n * width or len(sizes) != n:
        return ids
    # Where each id that is some object's base is listed (the first time, if listed twice): one
    # entry per distinct base, None until its line is found (or for ever: a base not listed).
    where: dict[bytes, int | None] = dict.fromkeys(bases[i : i + width] for i in range(0, n * width, width))
    where.pop(b"0" * width, None)
    if not where:
        return ids
    look = where.get
    for i in range(n):
        oid = ids[i * line_len : i * line_len + width]
        if look(oid, 0) is None:
            where[oid] = i
    # Each line's children (the lines whose base it is) as linked lists, in listing order; a line
    # is in one list at most, so a walk from the roots reaches it once at most.
    first = array("i", [-1]) * n
    sibling = array("i", [-1]) * n
    roots = bytearray(b"\1") * n
    for i in range(n - 1, -1, -1):
        p = look(bases[i * width : (i + 1) * width])
        if p is not None:
            sibling[i] = first[p]
            first[p] = i
            roots[i] = 0
    del where, look
    out = _walk(ids, line_len, first, sibling, roots, sizes, budget)
    return out if len(out) == len(ids) else ids


def _walk(
    ids: bytes, line_len: int, first: array[int], sibling: array[int], roots: bytearray, sizes: array[int], budget: int
) -> bytes:
    out = bytearray()
    for r in range(len(roots)):
        if not roots[r]:
            continue
        if first[r] < 0:  # no delta of it listed (most commits): the line alone
            out += ids[r * line_len : (r + 1) * line_len]
            continue
        tree: list[int] = []  # the tree's lines in post-order
        stack = [r]
        path = peak = sizes[r]  # the bytes of the bases on the way to the line on top
        while stack:
            v = stack[-1]
            c = first[v]
            if c >= 0:
                first[v] = sibling[c]  # the next child, when v is back on top
                stack.append(c)
                path += sizes[c]
                if path > peak:
                    peak = path
            else:
                stack.pop()
                path -= sizes[v]
                tree.append(v)
        if peak > budget:
            tree.sort()  # too big for the cache on the way down: the listing's order
        for v in tree:
            out += ids[v * line_len : (v + 1) * line_len]
    return bytes(out)
