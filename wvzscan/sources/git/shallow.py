"""A shallow file is believed only where it is true.

``.git/shallow`` lists the commits whose parents a shallow clone does not have; git stops every
walk there. A planted (or stale) entry whose commit's parents ARE in the object store would hide
every commit behind it from a scan. Such entries are reported as an error and not believed: git
is run with ``--shallow-file`` naming a copy that holds only the true entries (or none).
"""

from __future__ import annotations

import os
import weakref

from wvzscan.sources.git.process import Repo, parse_batch


def _listed(repo: Repo) -> list[str]:
    path = repo.run("rev-parse", "--git-path", "shallow", check=False).decode("utf-8", "surrogateescape").strip()
    if not path:
        return []
    if not os.path.isabs(path):
        path = os.path.join(repo.git_dir, path)
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 24)
    except OSError:
        return []
    return [ln.decode("ascii", "replace").strip() for ln in data.splitlines() if ln.strip()]


def check_shallow(repo: Repo) -> None:
    import tempfile  # here: only a shallow repository needs it (the hook's start-up)

    listed = _listed(repo)
    if not listed:
        return
    out = repo.run_full("cat-file", "--batch", input="".join(c + "\n" for c in listed).encode()).stdout
    answers, _ = parse_batch(out)
    parents: dict[str, list[str]] = {}
    for a in answers:
        if a.data is not None and a.type == "commit":
            header = a.data.partition(b"\n\n")[0]
            parents[a.oid] = [
                ln[7:].decode("ascii", "replace").strip() for ln in header.split(b"\n") if ln.startswith(b"parent ")
            ]
    wanted = sorted({p for ps in parents.values() for p in ps})
    present: set[str] = set()
    if wanted:
        check = repo.run_full(
            "cat-file", "--batch-check=%(objectname) %(objecttype)", input="".join(p + "\n" for p in wanted).encode()
        )
        for line in check.stdout.decode("ascii", "replace").splitlines():
            oid, _, typ = line.partition(" ")
            if typ == "commit":
                present.add(oid)
    forged = [c for c in listed if any(p in present for p in parents.get(c, ()))]
    true = [c for c in listed if c not in forged]
    repo.boundary = frozenset(true)
    if not forged:
        return
    repo.errors.append(
        f"the shallow file lists {len(forged)} commit{'s' if len(forged) != 1 else ''} whose parents are in "
        f"the repository (first: {forged[0][:12]}): it was not believed, the history behind "
        f"{'them' if len(forged) != 1 else 'it'} was read"
    )
    if not true:
        repo.pre = (*repo.pre, "--shallow-file", "")
        repo.shallow = False
        return
    fd, name = tempfile.mkstemp(prefix="wvzscan-shallow-")
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write("".join(c + "\n" for c in true))
    weakref.finalize(repo, os.unlink, name)
    repo.pre = (*repo.pre, "--shallow-file", name)
