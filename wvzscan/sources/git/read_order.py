"""The order the history readers ask for objects in: each delta tree in post-order.

git's ``cat-file`` keeps the bases it rebuilds on the way to an object in its delta-base cache, and
takes an object it hands out whole out of that cache. In pack order every base comes before its
deltas, so a base is handed out (and dropped) first, and each of its deltas then rebuilds it from
further down the chain. With every delta asked for before its base (each tree of deltas walked in
post-order, the trees themselves in pack order), a base stays cached while its deltas are read and
is handed out last, from the cache. On git/git one ``cat-file`` reading the same objects costs
4.8-5.0 s of CPU instead of 8.5-8.7 s (docs/benchmarks.md).

The delta bases come from the listing (``%(deltabase)``), that is from the repository, so a forged
pack can make this order slow but never shorter: the result is a permutation of the listing's lines
by construction (every line is emitted exactly once; lines no root leads to, as in a cycle of
deltas, follow in listing order).
"""

from __future__ import annotations

from array import array


def delta_post_order(ids: bytes, bases: bytes, line_len: int) -> bytes:
    """``ids`` (``line_len`` bytes a line: an object id and a newline) reordered so that each object
    comes before its delta base. ``bases``: each line's delta base id, ``line_len - 1`` bytes a line
    with no separator, all ``0`` for an object that is no delta."""
    width = line_len - 1
    n = len(ids) // line_len if line_len else 0
    if n < 2 or len(bases) != n * width:
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
    again = array("i", first)  # the walk uses up ``first``
    out = _walk(ids, line_len, first, sibling, roots)
    if len(out) != len(ids):
        # Lines no root leads to (forged bases in a cycle): walk again, marking each line seen, from
        # the roots and then from each line left, so the order holds every line once all the same.
        out = _walk_marking(ids, line_len, again, sibling, roots)
    return bytes(out)


def _walk(ids: bytes, line_len: int, first: array[int], sibling: array[int], roots: bytearray) -> bytearray:
    """Each tree from its root, in post-order (the common case: every line is in some tree)."""
    out = bytearray()
    for r in range(len(roots)):
        if not roots[r]:
            continue
        if first[r] < 0:  # no delta of it listed (most commits): the line alone
            out += ids[r * line_len : (r + 1) * line_len]
            continue
        stack = [r]
        while stack:
            v = stack[-1]
            c = first[v]
            if c >= 0:
                first[v] = sibling[c]  # the next child, when v is back on top
                stack.append(c)
            else:
                stack.pop()
                out += ids[v * line_len : (v + 1) * line_len]
    return out


def _walk_marking(ids: bytes, line_len: int, first: array[int], sibling: array[int], roots: bytearray) -> bytearray:
    n = len(roots)
    out = bytearray()
    seen = bytearray(n)
    for from_roots in (True, False):
        for r in range(n):
            if seen[r] or (from_roots and not roots[r]):
                continue
            seen[r] = 1
            stack = [r]
            while stack:
                v = stack[-1]
                c = first[v]
                if c >= 0:
                    first[v] = sibling[c]
                    if not seen[c]:
                        seen[c] = 1
                        stack.append(c)
                else:
                    stack.pop()
                    out += ids[v * line_len : (v + 1) * line_len]
    return out
